import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullSubnet, searchSpace, type SubnetConfig } from '../../../../core/arch/index.ts';
import { MacsMetric } from '../../../../core/metrics/index.ts';
import { SearchOptimizer } from '../../../../core/search/optimizer.ts';
import { SupernetFineTuner } from '../../../../core/supernet/training/finetuner.ts';
import type { RunStore } from '../../../../core/search/types.ts';
import { loadSupernetWeights } from '../../../../core/supernet/evaluate.ts';
import { SupernetTrainer } from '../../../../core/supernet/training/supernet-trainer.ts';
import { useTestBackend } from '../backend.ts';
import { tintDataset, tintSpec } from './final-fixture.ts';
import { memoryStore, params } from '../../search/helpers.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'v1-finetuner-'));
const spec = tintSpec();
const dataset = tintDataset({ train: 128, heldout: 64 });
const space = searchSpace(spec);
const checkpoint = path.join(tmp, 'plain');
const STEPS = 3;
const trainConfig = { batchSize: 16, lr: 0.05, seed: 2 };

function fineTuner(stateDir?: string): SupernetFineTuner {
  const weights = loadSupernetWeights(checkpoint, spec);
  const tuner = new SupernetFineTuner({ weights, dataset, config: trainConfig, fineTuneSteps: STEPS, ...(stateDir ? { stateDir } : {}) });
  weights.dispose();
  return tuner;
}

const full = fullSubnet(space);
const narrow = (levels: number[]): SubnetConfig => ({ levels, kernels: full.kernels.slice() });

beforeAll(async () => {
  await useTestBackend();
  // The plain-trained full network (train-supernet --no-od), briefly.
  const trainer = SupernetTrainer.create({
    spec, dataset, outDir: checkpoint,
    config: { epochs: 1, batchSize: 16, seed: 1, optimizer: 'sgd', lr: 0.05, warmupEpochs: 0.2, orderedDropout: false },
  });
  await trainer.run();
  trainer.dispose();
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('SupernetFineTuner', () => {
  it('scores the initial network as is, and a fine-tuned sample after its fine-tuning', async () => {
    const tuner = fineTuner();
    await tuner.adopt(full, -2);
    const initial = await tuner.fineTune(full, full, 0);
    expect(initial.metrics?.['fineTuneSteps']).toBe(0);
    const again = await tuner.fineTune(full, full, 0);
    expect(again.score).toBe(initial.score);
    const a = narrow([1, 3, 3]);
    const tuned = await tuner.fineTune(full, a, STEPS);
    expect(tuned.metrics?.['fineTuneSteps']).toBe(STEPS);
    expect(Number.isFinite(tuned.metrics?.['fineTuneLoss'])).toBe(true);
    // Fine-tuning is deterministic: the same sample from the same base gives the same score.
    expect((await tuner.fineTune(full, a, STEPS)).score).toBe(tuned.score);
    await expect(tuner.fineTune(a, narrow([1, 2, 3]), STEPS)).rejects.toThrow(/adopt the parent first/);
    tuner.dispose();
  }, 60_000);

  it('adopt re-derives a missing copy exactly (resume), from memory or from the state folder', async () => {
    const a = narrow([1, 3, 3]);
    const b = narrow([3, 1, 3]);
    const c = narrow([1, 3, 1]);
    const stateDir = path.join(tmp, 'state');
    const reference = fineTuner(stateDir);
    await reference.adopt(full, -1);
    await reference.fineTune(full, a, STEPS);
    await reference.fineTune(full, b, STEPS);
    await reference.adopt(a, 0);
    const expected = await reference.fineTune(a, c, STEPS);
    reference.dispose();

    // A new process without the copies: adopt(a) fine-tunes a again from the same base with the same seed.
    const rederived = fineTuner();
    await rederived.adopt(full, -1);
    await rederived.adopt(a, 0);
    expect((await rederived.fineTune(a, c, STEPS)).score).toBe(expected.score);
    rederived.dispose();

    // A new process at a later iteration: the base of iteration 0 comes from the state folder.
    const restored = fineTuner(stateDir);
    await restored.adopt(a, 0);
    expect((await restored.fineTune(a, c, STEPS)).score).toBe(expected.score);
    restored.dispose();
  }, 60_000);

  it('runs a NetAdaptV1 search end to end; every sample is scored after fine-tuning; resume after interruption matches', async () => {
    const P = params({ target: { kind: 'fraction', value: 0.2 }, samplesPerIteration: 3, layersPerSample: 1, reduction: 0.05, decay: 1, fineTuneSteps: STEPS, seed: 3 });
    const snapshot = (store: RunStore, runId: string) => store.getSamples(runId).map((s) => [s.iteration, s.index, s.key, s.score]);

    const store = memoryStore();
    const tuner = fineTuner();
    const result = await new SearchOptimizer({ spec, metric: new MacsMetric(spec), fineTuner: tuner, store }).start(P);
    tuner.dispose();
    expect(result.status).toBe('done');
    expect(result.iterations).toBeGreaterThanOrEqual(2);
    for (const sample of store.getSamples(result.runId)) {
      expect(sample.score).not.toBeNull();
      expect(sample.metrics?.['fineTuneSteps']).toBe(sample.iteration < 0 ? 0 : STEPS);
    }

    // Interrupt after iteration 0 is finished and one sample of iteration 1 is scored, then resume with a new tuner
    // (with a state folder: the saved base; without: the base re-derived by fine-tuning again).
    for (const stateDir of [path.join(tmp, 'search-state'), undefined]) {
      const store2 = memoryStore();
      const controller = new AbortController();
      const first = fineTuner(stateDir);
      const interrupted = await new SearchOptimizer({
        spec, metric: new MacsMetric(spec), fineTuner: first, store: store2, signal: controller.signal,
        onEvent: (e) => { if (e.type === 'sample' && e.iteration === 1) controller.abort(); },
      }).start(P);
      first.dispose();
      expect(interrupted.status).toBe('interrupted');
      const second = fineTuner(stateDir);
      const resumed = await new SearchOptimizer({ spec, metric: new MacsMetric(spec), fineTuner: second, store: store2 }).resume(interrupted.runId);
      second.dispose();
      expect(resumed.status).toBe('done');
      expect(snapshot(store2, resumed.runId)).toEqual(snapshot(store, result.runId));
    }
  }, 60_000);
});
