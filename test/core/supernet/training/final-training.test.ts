import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullSubnet, minimalSubnet, resolveNetwork, searchSpace, type SubnetConfig } from '../../../../core/arch/index.ts';
import { loadCheckpointWeights } from '../../../../core/supernet/checkpoint-weights.ts';
import { exportNetwork } from '../../../../core/export/network.ts';
import { trainDiscoveredNetwork, type FinalTrainingMode } from '../../../../core/supernet/training/final-training.ts';
import { loadCheckpoint } from '../../../../core/supernet/checkpoint.ts';
import { loadSupernetEvaluator } from '../../../../core/supernet/evaluate.ts';
import { subnetSliceMasks } from '../../../../core/supernet/slice-masks.ts';
import { SupernetTrainer } from '../../../../core/supernet/training/supernet-trainer.ts';
import { SupernetWeights } from '../../../../core/supernet/weights.ts';
import { useTestBackend } from '../backend.ts';
import { finalKillOptions, tintDataset, tintSpec } from './final-fixture.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'final-training-'));
const spec = tintSpec();
const dataset = tintDataset({ test: 64 });
const space = searchSpace(spec);
const subnet: SubnetConfig = { levels: space.layers.map((l) => Math.max(l.minLevel, 1)), kernels: minimalSubnet(space).kernels };
const trajectory: SubnetConfig[] = [fullSubnet(space), { levels: space.layers.map(() => 2), kernels: fullSubnet(space).kernels }, subnet];
const supernetDir = path.join(tmp, 'supernet');
const config = { batchSize: 32, lr: 0.05, seed: 4 };

beforeAll(async () => {
  await useTestBackend();
  // A briefly trained full network (8 steps): good enough to start from, far from converged.
  const trainer = SupernetTrainer.create({
    spec, dataset, outDir: supernetDir,
    config: { epochs: 1, batchSize: 32, seed: 1, optimizer: 'sgd', lr: 0.05, warmupEpochs: 0.2, orderedDropout: false },
  });
  await trainer.run();
  trainer.dispose();
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('trainDiscoveredNetwork', () => {
  for (const mode of ['supernet', 'scratch', 'trajectory'] as FinalTrainingMode[]) {
    it(`mode ${mode} improves the held-out score over its starting point`, async () => {
      const outDir = path.join(tmp, `out-${mode}`);
      const result = await trainDiscoveredNetwork({
        spec, subnet, dataset, mode, steps: 24, checkpoint: supernetDir, outDir, config,
        ...(mode === 'trajectory' ? { trajectory } : {}),
        ...(mode === 'supernet' ? { distill: true } : {}),
      });
      expect(result.interrupted).toBe(false);
      expect(result.before).toBeDefined();
      expect(result.heldout.score).toBeGreaterThan((result.before?.score ?? 1) + 0.1);
      expect(result.test?.score).toBeGreaterThan(0.25 + 0.1); // 4 classes: chance is 0.25
      const resolved = resolveNetwork(spec, subnet);
      expect(result.macs).toBe(resolved.macs);
      expect(result.params).toBe(resolved.params);
      // Trajectory: one intermediate point (the middle of the trajectory) of 12 steps, then the 24 final steps.
      expect(result.steps).toBe(mode === 'trajectory' ? 36 : 24);
      // The saved weights score the same and export to .tflite.
      const evaluator = loadSupernetEvaluator(result.weightsPath, spec, dataset, { seed: config.seed });
      expect((await evaluator.evaluate(subnet)).score).toBeCloseTo(result.heldout.score, 6);
      evaluator.dispose();
      const folded = await loadCheckpointWeights(result.weightsPath, spec, subnet);
      expect(exportNetwork(resolved, folded).byteLength).toBeGreaterThan(1000);
    }, 60_000);
  }

  it('supernet mode changes only the discovered network\'s slice of the super-network', async () => {
    const outDir = path.join(tmp, 'out-slice');
    const result = await trainDiscoveredNetwork({ spec, subnet, dataset, mode: 'supernet', steps: 6, checkpoint: supernetDir, outDir, config, scoreBefore: false });
    const trained = loadCheckpoint(result.weightsPath).tensors;
    const start = loadCheckpoint(supernetDir).tensors;
    const masks = subnetSliceMasks(SupernetWeights.init(spec, 0), subnet);
    let changed = 0;
    for (const [name, mask] of masks) {
      const before = (start.get(`ema/${name}`) ?? start.get(`param/${name}`))?.data as Float32Array;
      const after = trained.get(`param/${name}`)?.data as Float32Array;
      for (let j = 0; j < mask.length; j++) {
        if (mask[j] === 0) expect(after[j]).toBe(before[j]);
        else if (after[j] !== before[j]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0);
  }, 60_000);

  it('resumes an interrupted run with the same losses and weights as an uninterrupted one', async () => {
    const common = { spec, subnet, dataset, mode: 'trajectory' as const, trajectory, steps: 16, checkpoint: supernetDir, config, distill: true, checkpointEvery: 5, scoreBefore: false };
    const whole = await trainDiscoveredNetwork({ ...common, outDir: path.join(tmp, 'whole') });
    const outDir = path.join(tmp, 'resumed');
    const controller = new AbortController();
    let events = 0;
    const first = await trainDiscoveredNetwork({
      ...common, outDir, signal: controller.signal,
      // Stop in the final phase (the trajectory point has 8 steps), between checkpoints.
      onEvent: () => { if (++events === 11) controller.abort(); },
    });
    expect(first.interrupted).toBe(true);
    expect(first.steps).toBe(11);
    await expect(trainDiscoveredNetwork({ ...common, outDir })).rejects.toThrow(/already holds/);
    const resumed = await trainDiscoveredNetwork({ ...common, outDir, resume: true });
    expect(resumed.steps).toBe(whole.steps);
    whole.losses.forEach((loss, i) => expect(resumed.losses[i], `loss ${i}`).toBeCloseTo(loss, 5));
    expect(resumed.heldout.score).toBeCloseTo(whole.heldout.score, 6);
    const a = loadCheckpoint(whole.weightsPath).tensors;
    const b = loadCheckpoint(resumed.weightsPath).tensors;
    for (const [key, t] of a) {
      const other = b.get(key)?.data as Float32Array;
      let diff = 0;
      for (let j = 0; j < t.data.length; j++) diff = Math.max(diff, Math.abs((t.data[j] as number) - (other[j] as number)));
      expect(diff, key).toBeLessThan(1e-5);
    }
  }, 60_000);

  it('kill -9 during the final training, then resume: same losses and weights as an uninterrupted run', async () => {
    const whole = await trainDiscoveredNetwork(finalKillOptions(supernetDir, path.join(tmp, 'kill-whole')));
    const outDir = path.join(tmp, 'kill');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'final-training-child.ts'), supernetDir, outDir], {
      cwd: path.resolve(here, '../../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // The final phase's step 7: the state was checkpointed at its step 5 (and at the end of the trajectory phase).
        if (/step final 7\n/.test(out)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was killed: ${stderr}`)));
    });
    await new Promise((resolve) => child.once('close', resolve));
    expect(loadCheckpoint(path.join(outDir, 'state')).state).toMatchObject({ kind: 'final-training', info: { phase: 1, done: false } });
    const resumed = await trainDiscoveredNetwork({ ...finalKillOptions(supernetDir, outDir), resume: true });
    expect(resumed.steps).toBe(whole.steps);
    whole.losses.forEach((loss, i) => expect(resumed.losses[i], `loss ${i}`).toBeCloseTo(loss, 5));
    expect(resumed.heldout.score).toBeCloseTo(whole.heldout.score, 6);
  }, 60_000);

  it('refuses modes that need the super-network without a checkpoint', async () => {
    await expect(trainDiscoveredNetwork({ spec, subnet, dataset, mode: 'supernet', steps: 2, outDir: path.join(tmp, 'x'), config })).rejects.toThrow(/checkpoint/);
  });
});
