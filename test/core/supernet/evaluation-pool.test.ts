import { beforeAll, describe, expect, it } from 'vitest';
import { minimalSubnet, randomSubnet, searchSpace, type SubnetConfig } from '../../../core/arch/index.ts';
import { syntheticClassification } from '../../../core/data/synthetic-classification.ts';
import { loadOnnxRuntime } from '../../../core/export/runtime/onnxruntime.ts';
import { Rng } from '../../../core/random.ts';
import { createFastSupernetEvaluator, defaultEvaluationWorkers } from '../../../core/supernet/evaluation-pool.ts';
import { createOnnxEvaluator } from '../../../core/supernet/onnx-evaluator.ts';
import { UserError } from '../../../core/errors.ts';
import { useTestBackend } from './backend.ts';
import { randomizedWeights, smallSpec } from './fixtures.ts';

// onnxruntime-node is a dependency: a runtime that does not load fails these tests, it never skips them.
beforeAll(async () => {
  await useTestBackend();
  await loadOnnxRuntime();
});

describe('createFastSupernetEvaluator', () => {
  it('scores sub-networks in 2 workers side by side, each exactly as the ONNX evaluator here does', async () => {
    const spec = smallSpec();
    const weights = randomizedWeights(spec, 8);
    const dataset = syntheticClassification({ size: 16, classes: 5, trainSize: 96, heldoutSize: 120, testSize: 0, seed: 2 });
    const options = { weights, dataset, calibrationBatches: 2, calibrationBatchSize: 32, seed: 1 };
    const pool = await createFastSupernetEvaluator({ ...options, workers: 2 });
    const here = await createOnnxEvaluator(options);
    try {
      expect(pool.concurrency).toBe(2);
      expect(pool.runtime).toBe('onnxruntime');
      const space = searchSpace(spec);
      const rng = new Rng(4);
      const subnets: (SubnetConfig | undefined)[] = [undefined, minimalSubnet(space), ...Array.from({ length: 4 }, () => randomSubnet(space, rng))];
      // All at once: the pool queues what its workers cannot take yet; every answer belongs to its own sub-network.
      const together = await Promise.all(subnets.map((s) => pool.evaluate(s)));
      for (const [i, s] of subnets.entries()) {
        const alone = await here.evaluate(s);
        expect(together[i]?.score, `sub-network ${i}`).toBe(alone.score);
        expect(together[i]?.metrics['macs']).toBe(alone.metrics['macs']);
      }
      expect(new Set(together.map((e) => e.metrics['macs'])).size).toBeGreaterThan(1);
    } finally {
      pool.dispose();
      here.dispose();
      weights.dispose();
    }
    await expect(pool.evaluate(undefined)).rejects.toThrow(/closed/);
  }, 120_000);

  it('takes its worker count from the option, $NETADAPT_EVAL_WORKERS or the cores, and refuses nonsense', async () => {
    expect(defaultEvaluationWorkers({ NETADAPT_EVAL_WORKERS: '3' })).toBe(3);
    expect(defaultEvaluationWorkers({})).toBeGreaterThanOrEqual(1);
    expect(() => defaultEvaluationWorkers({ NETADAPT_EVAL_WORKERS: '0' })).toThrow(UserError);
    const spec = smallSpec();
    const weights = randomizedWeights(spec, 8);
    const dataset = syntheticClassification({ size: 16, classes: 5, trainSize: 96, heldoutSize: 20, testSize: 0, seed: 2 });
    await expect(createFastSupernetEvaluator({ weights, dataset, workers: 0 })).rejects.toThrow(/whole number ≥ 1/);
    const one = await createFastSupernetEvaluator({ weights, dataset, workers: 1, calibrationBatches: 1, calibrationBatchSize: 16 });
    expect(one.concurrency).toBe(1);
    expect((await one.evaluate()).metrics['images']).toBe(20);
    one.dispose();
    weights.dispose();
  });
});
