import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../../core/errors.ts';
import { ResumeMismatchError as ResumeConfigMismatchError } from '../../../../core/supernet/training/resume.ts';
import { SupernetTrainer } from '../../../../core/supernet/training/supernet-trainer.ts';
import { learningRate, DEFAULT_TRAIN_CONFIG } from '../../../../core/supernet/training/config.ts';
import { useTestBackend } from '../backend.ts';
import { resumeFixture } from './train-fixture.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'supernet-train-'));

beforeAll(async () => {
  await useTestBackend();
});
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let reference: { losses: number[]; weights: Map<string, Float32Array> } | undefined;

/** The uninterrupted 2-epoch run (computed once). */
async function uninterrupted(): Promise<{ losses: number[]; weights: Map<string, Float32Array> }> {
  if (reference) return reference;
  const { spec, dataset, config } = resumeFixture();
  const trainer = SupernetTrainer.create({ spec, dataset, config });
  await trainer.run();
  reference = { losses: trainer.losses.slice(), weights: trainer.weights.snapshot() };
  trainer.dispose();
  return reference;
}

function expectSameRun(a: { losses: number[]; weights: Map<string, Float32Array> }, b: { losses: number[]; weights: Map<string, Float32Array> }): void {
  expect(b.losses.length).toBe(a.losses.length);
  a.losses.forEach((loss, i) => expect(b.losses[i]).toBeCloseTo(loss, 6));
  for (const [name, data] of a.weights) {
    const other = b.weights.get(name) as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((data[i] as number) - (other[i] as number)));
    expect(maxDiff, name).toBeLessThan(1e-6);
  }
}

describe('super-network training', () => {
  it('learning rate warms up linearly, then decays exponentially', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, lr: 0.1, warmupEpochs: 1, lrDecayRate: 0.5, lrDecayEpochs: 1 };
    expect(learningRate(c, 0, 10)).toBeCloseTo(0.1 * 0.1 * 0.5 ** 0, 6);
    expect(learningRate(c, 4, 10)).toBeCloseTo(0.1 * 0.5 * 0.5 ** 0.4, 6);
    expect(learningRate(c, 20, 10)).toBeCloseTo(0.1 * 0.5 ** 2, 6);
  });

  it('fullNetworkEpochs trains only the full network first, then sub-networks (progressive-shrinking warm start)', () => {
    const { spec, dataset, config } = resumeFixture();
    const trainer = SupernetTrainer.create({ spec, dataset, config: { ...config, fullNetworkEpochs: 0.5 } });
    try {
      const warm = Math.round(0.5 * trainer.stepsPerEpoch);
      expect(warm).toBeGreaterThan(0);
      for (let step = 0; step < warm; step++) expect(trainer.subnetsAt(step, 8)).toBeUndefined();
      const after = trainer.subnetsAt(warm, 8);
      expect(after).toHaveLength(8);
      expect(new Set(after!.map((c) => c.levels.join('.'))).size).toBeGreaterThan(1);
    } finally {
      trainer.dispose();
    }
    expect(() => SupernetTrainer.create({ spec, dataset, config: { ...config, fullNetworkEpochs: 2 } })).toThrow(/fullNetworkEpochs must be .* below the epochs \(2\)/);
    expect(() => SupernetTrainer.create({ spec, dataset, config: { ...config, removalShare: 0 } })).toThrow(/removalShare must be in \(0, 1\] \(got 0\)/);
    expect(() => SupernetTrainer.create({ spec, dataset, config: { ...config, gradClipNorm: -1 } })).toThrow(/gradClipNorm must be a finite number ≥ 0/);
    expect(() => SupernetTrainer.create({ spec, dataset, config: { ...config, fullNetworkEpochs: -1 } })).toThrow(UserError);
  });

  it('the loss goes down on a fixed batch (the step updates weights in a useful direction)', async () => {
    const { spec, dataset, config } = resumeFixture();
    const trainer = SupernetTrainer.create({ spec, dataset, config: { ...config, orderedDropout: false, warmupEpochs: 0, epochs: 50 } });
    // Always train on step 0's batch: reset the step counter.
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) {
      losses.push(await trainer.trainStep());
      trainer.step = 0;
    }
    trainer.dispose();
    expect(losses[losses.length - 1]).toBeLessThan((losses[0] as number) * 0.8);
  });

  it('1 epoch + checkpoint + resume + 1 epoch == 2 epochs straight (losses and weights)', async () => {
    const ref = await uninterrupted();
    const dir = path.join(tmpRoot, 'resume');
    const { spec, dataset, config } = resumeFixture();
    const first = SupernetTrainer.create({ spec, dataset, config: { ...config, epochs: 1 }, outDir: dir });
    const events: string[] = [];
    await first.run({ onEvent: (e) => events.push(e.type) });
    expect(events.filter((e) => e === 'step').length).toBe(first.stepsPerEpoch);
    expect(events).toContain('checkpoint');
    expect(events).toContain('epoch');
    first.dispose();
    const second = SupernetTrainer.create({ spec, dataset, config: { epochs: 2 }, outDir: dir, resume: true });
    expect(second.step).toBe(second.stepsPerEpoch);
    await second.run();
    expectSameRun(ref, { losses: second.losses, weights: second.weights.snapshot() });
    second.dispose();
  });

  it('an interrupted run (abort signal mid-epoch) checkpoints and resumes exactly', async () => {
    const ref = await uninterrupted();
    const dir = path.join(tmpRoot, 'abort');
    const { spec, dataset, config } = resumeFixture();
    const first = SupernetTrainer.create({ spec, dataset, config, outDir: dir });
    const controller = new AbortController();
    const result = await first.run({
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 4) controller.abort();
      },
    });
    expect(result.interrupted).toBe(true);
    expect(first.step).toBe(4);
    first.dispose();
    const second = SupernetTrainer.create({ spec, dataset, outDir: dir, resume: true });
    await second.run();
    expectSameRun(ref, { losses: second.losses, weights: second.weights.snapshot() });
    second.dispose();
  });

  it('kill -9 of a training process after a checkpoint, then resume == uninterrupted run', async () => {
    const ref = await uninterrupted();
    const dir = path.join(tmpRoot, 'kill');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'train-child.ts'), dir], {
      cwd: path.resolve(here, '../../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killedAt = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /checkpoint (\d+)\n/.exec(out);
        if (m) {
          child.kill('SIGKILL');
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before a checkpoint: ${stderr}`)));
    });
    await new Promise((resolve) => child.once('close', resolve));
    expect(killedAt).toBeGreaterThan(0);
    const { spec, dataset } = resumeFixture();
    const resumed = SupernetTrainer.create({ spec, dataset, outDir: dir, resume: true });
    expect(resumed.step).toBeGreaterThanOrEqual(killedAt);
    expect(resumed.step).toBeLessThan(resumed.totalSteps);
    await resumed.run();
    expectSameRun(ref, { losses: resumed.losses, weights: resumed.weights.snapshot() });
    resumed.dispose();
  });

  it('refuses to resume with a changed seed, and refuses to overwrite a checkpoint', async () => {
    const dir = path.join(tmpRoot, 'resume');
    const { spec, dataset } = resumeFixture();
    expect(() => SupernetTrainer.create({ spec, dataset, config: { seed: 99 }, outDir: dir, resume: true })).toThrow(/seed/);
    // The demo turns this error into "delete the folder" advice: it must say which option and both values.
    const mismatch = (() => {
      try {
        SupernetTrainer.create({ spec, dataset, config: { depthSampling: 'random' }, outDir: dir, resume: true });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(mismatch).toBeInstanceOf(ResumeConfigMismatchError);
    expect(mismatch).toMatchObject({ key: 'depthSampling', given: 'random', saved: 'single' });
    expect(() => SupernetTrainer.create({ spec, dataset, outDir: dir })).toThrow(UserError);
  });
});
