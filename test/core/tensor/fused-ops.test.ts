import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hardSigmoid, hardSwish } from '../../../core/tensor/fused-ops.ts';
import { useWasmAndCpu } from './compare-backends.ts';

/** Values on both sides of every kink (−3, 0, 3) and far out: 15 (JavaScript loops) and 16 (wasm SIMD) of them. */
const POINTS15 = [-7, -3.5, -3.01, -2.99, -2, -1.5, -0.2, 0, 0.3, 1, 2.5, 2.99, 3.01, 4, 9];
const POINT_SETS = [POINTS15, [...POINTS15, 0.7]];

const composed = {
  hardSwish: (x: tf.Tensor) => tf.mul(x, tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6)),
  hardSigmoid: (x: tf.Tensor) => tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6),
};

describe('fused hard-swish / hard-sigmoid kernels', () => {
  beforeAll(useWasmAndCpu);

  it.each(['wasm', 'cpu'] as const)('match the composed ops and their tfjs gradients on %s', async (backend) => {
    await tf.setBackend(backend);
    for (const [name, ours, POINTS] of POINT_SETS.flatMap((p) => [['hardSwish', hardSwish, p], ['hardSigmoid', hardSigmoid, p]] as const)) {
      const x = tf.tensor1d(POINTS);
      const weights = tf.tensor1d(POINTS.map((_, i) => 1 + i / 10));
      const ref = composed[name];
      expect(Array.from(ours(x).dataSync())).toEqual(Array.from(ref(x).dataSync()).map((v) => expect.closeTo(v, 6)));
      const gOurs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ours(t), weights)))(x).dataSync();
      const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ref(t), weights)))(x).dataSync();
      expect(Array.from(gOurs)).toEqual(Array.from(gRef).map((v) => expect.closeTo(v, 6)));
    }
    await tf.setBackend('wasm');
  });
});
