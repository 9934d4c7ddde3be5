import { beforeAll, describe, expect, it } from 'vitest';
import { minimalSubnet, randomSubnet, searchSpace } from '../../../core/arch/index.ts';
import { syntheticClassification } from '../../../core/data/synthetic-classification.ts';
import { loadOnnxRuntime } from '../../../core/export/runtime/onnxruntime.ts';
import { Rng } from '../../../core/random.ts';
import { createSupernetEvaluator } from '../../../core/supernet/evaluate.ts';
import { createOnnxEvaluator } from '../../../core/supernet/onnx-evaluator.ts';
import { useTestBackend } from './backend.ts';
import { randomizedWeights, smallSpec } from './fixtures.ts';

// onnxruntime-node is a dependency: a runtime that does not load fails these tests, it never skips them.
beforeAll(async () => {
  await useTestBackend();
  await loadOnnxRuntime();
});

describe('createOnnxEvaluator', () => {
  it('scores sub-networks as the tfjs evaluator does (same images, same BN recalibration)', async () => {
    const spec = smallSpec();
    const weights = randomizedWeights(spec, 21);
    const dataset = syntheticClassification({ size: 16, classes: 5, trainSize: 96, heldoutSize: 200, testSize: 0, seed: 4 });
    const options = { weights, dataset, calibrationBatches: 2, calibrationBatchSize: 32, batchSize: 64, seed: 3 };
    const tfjs = createSupernetEvaluator(options);
    const onnx = await createOnnxEvaluator(options);
    const space = searchSpace(spec);
    const rng = new Rng(5);
    const subnets = [undefined, minimalSubnet(space), randomSubnet(space, rng), randomSubnet(space, rng)];
    try {
      const scores: number[][] = [];
      for (const subnet of subnets) {
        const [a, b] = [await tfjs.evaluate(subnet), await onnx.evaluate(subnet)];
        expect(b.metrics['images']).toBe(200);
        expect(b.metrics['macs']).toBe(a.metrics['macs']);
        // Float rounding may flip a near-tie: at most one image of 200.
        expect(Math.abs(a.score - b.score)).toBeLessThanOrEqual(1 / 200 + 1e-9);
        scores.push([a.score, b.score]);
      }
      // The scores differ between sub-networks, so agreement is not agreement on a constant.
      expect(new Set(scores.map((s) => s[0])).size).toBeGreaterThan(1);
      // Without recalibration the stored statistics are used: a different score, matched too.
      const plain = await createOnnxEvaluator({ ...options, calibrationBatches: 0 });
      const plainTfjs = createSupernetEvaluator({ ...options, calibrationBatches: 0 });
      const subnet = subnets[2];
      expect(Math.abs((await plain.evaluate(subnet)).score - (await plainTfjs.evaluate(subnet)).score)).toBeLessThanOrEqual(1 / 200 + 1e-9);
      plain.dispose();
      plainTfjs.dispose();
    } finally {
      tfjs.dispose();
      onnx.dispose();
      weights.dispose();
    }
  }, 120_000);
});
