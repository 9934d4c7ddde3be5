import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../core/random.ts';
import { composedBatchNorm, trainingBatchNorm } from '../../../core/supernet/batch-norm.ts';
import { batchNorm, channelMoments } from '../../../core/supernet/ops.ts';
import { withBatchNormSync, type BatchNormSync } from '../../../core/tensor/kernels/batch-norm.ts';
import { planBatch } from '../../../core/supernet/plan.ts';
import { loadNetwork } from '../../../core/arch/index.ts';
import { relativeError } from '../../support/relative-error.ts';
import { useTestBackend } from './backend.ts';

const EPS = 1e-3;

/** The reference: the taped composition (moments per group by slicing its images, then y·scale + shift). */
function referenceBatchNorm(y: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, group?: number[]): tf.Tensor4D {
  if (!group) {
    const { mean, variance } = channelMoments(y);
    return batchNorm(y, mean, variance, gamma, beta, EPS);
  }
  const n = y.shape[0];
  const rows: tf.Tensor4D[] = [];
  for (let i = 0; i < n; i++) {
    const members = group.flatMap((g, j) => (g === group[i] ? [j] : []));
    const { mean, variance } = channelMoments(tf.gather(y, members) as tf.Tensor4D);
    rows.push(batchNorm(tf.slice(y, [i, 0, 0, 0], [1, -1, -1, -1]), mean, variance, gamma, beta, EPS));
  }
  return tf.concat(rows, 0);
}

function random(shape: number[], rng: Rng, offset = 0): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 2 + offset), shape);
}

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return relativeError(a.dataSync() as Float32Array, b.dataSync() as Float32Array);
}

describe('trainingBatchNorm (fused op with a closed-form gradient)', () => {
  beforeAll(useTestBackend);
  const spec = loadNetwork('mobilenet-v3-demo-32');

  const impls = { kernels: trainingBatchNorm, 'tf ops': composedBatchNorm };
  it.each([
    { name: 'whole batch', group: undefined },
    { name: 'four BN groups', group: [2, 0, 1, 1, 3, 0, 2, 2] },
    { name: 'two unequal groups', group: [0, 0, 0, 0, 0, 1, 1, 0] },
  ].flatMap((c) => (['kernels', 'tf ops'] as const).flatMap((impl) => [6, 8].map((channels) => ({ ...c, impl, channels })))))(
    'matches tf.moments + normalize and its gradients: $name ($impl, $channels channels)', ({ group, impl, channels }) => {
    const trainingBatchNorm = impls[impl];
    const rng = new Rng(11);
    const n = 8;
    // 8 channels take the wasm SIMD path, 6 the JavaScript loops.
    const y = random([n, 5, 3, channels], rng, 0.7) as tf.Tensor4D;
    const gamma = random([channels], rng, 1) as tf.Tensor1D;
    const beta = random([channels], rng) as tf.Tensor1D;
    const upstream = random([n, 5, 3, channels], rng) as tf.Tensor4D;
    const plan = planBatch(spec, n, undefined, group);
    try {
      const groups = plan.bnGroups;
      const fused = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(trainingBatchNorm(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, EPS, groups).out, upstream));
      const reference = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(referenceBatchNorm(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, group), upstream));
      const ours = trainingBatchNorm(y, gamma, beta, EPS, groups);
      expect(maxRelDiff(ours.out, referenceBatchNorm(y, gamma, beta, group))).toBeLessThan(1e-5);
      const first = group ? group.flatMap((g, j) => (g === group[0] ? [j] : [])) : Array.from({ length: n }, (_, j) => j);
      const moments = channelMoments(tf.gather(y, first) as tf.Tensor4D);
      expect(maxRelDiff(ours.mean, moments.mean)).toBeLessThan(1e-5);
      expect(maxRelDiff(ours.variance, moments.variance)).toBeLessThan(1e-5);
      const gradsOurs = tf.grads(fused)([y, gamma, beta]);
      const gradsRef = tf.grads(reference)([y, gamma, beta]);
      gradsOurs.forEach((g, i) => expect(maxRelDiff(g, gradsRef[i] as tf.Tensor)).toBeLessThan(1e-4));
    } finally {
      plan.dispose();
    }
  });

  // Two shards of one batch in this thread: each run sends its own vectors and adds the other shard's latest ones,
  // call by call. A shard's forward vectors depend on its images only, so after four alternating runs both shards
  // hold the whole batch's statistics and backward sums.
  it.each([6, 8])('synchronized over two shards: the whole batch\'s result, one all-reduce per pass (%i channels)', (channels) => {
    const rng = new Rng(5);
    const whole = [2, 0, 1, 1, 3, 0, 2, 2];
    const n = whole.length;
    const y = random([n, 4, 3, channels], rng, 0.5) as tf.Tensor4D;
    const gamma = random([channels], rng, 1) as tf.Tensor1D;
    const beta = random([channels], rng) as tf.Tensor1D;
    const upstream = random([n, 4, 3, channels], rng) as tf.Tensor4D;
    const imagesPerGroup = Float64Array.from([0, 1, 2, 3], (g) => whole.filter((x) => x === g).length);
    const loss = (out: tf.Tensor, from: number) => tf.sum(tf.mul(out, tf.slice(upstream, [from, 0, 0, 0], [out.shape[0] as number, -1, -1, -1])));
    const shard = (from: number, to: number, other: Float64Array[]) => {
      const ids = whole.slice(from, to);
      const globalOf = Int32Array.from([...new Set(ids)].sort((a, b) => a - b));
      const sent: Float64Array[] = [];
      const sync: BatchNormSync = {
        groups: 4,
        globalOf,
        imagesPerGroup,
        allReduce: (v) => {
          sent.push(v.slice());
          const o = other[sent.length - 1];
          if (o) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) + (o[i] as number);
        },
      };
      const plan = planBatch(spec, to - from, undefined, ids);
      try {
        const ys = tf.slice(y, [from, 0, 0, 0], [to - from, -1, -1, -1]) as tf.Tensor4D;
        return withBatchNormSync(sync, () => {
          const result = trainingBatchNorm(ys, gamma, beta, EPS, plan.bnGroups);
          const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(trainingBatchNorm(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, EPS, plan.bnGroups).out, from))([ys, gamma, beta]);
          return { ...result, grads, sent };
        });
      } finally {
        plan.dispose();
      }
    };
    const a0 = shard(0, 4, []);
    const b1 = shard(4, 8, a0.sent);
    const a = shard(0, 4, b1.sent);
    const b = shard(4, 8, a.sent);
    // One forward and one backward all-reduce per run (two runs: the result, and the gradient's forward + backward).
    expect(a.sent.length).toBe(3);
    const reference = referenceBatchNorm(y, gamma, beta, whole);
    expect(maxRelDiff(tf.concat([a.out, b.out], 0), reference)).toBeLessThan(1e-5);
    const first = whole.flatMap((g, j) => (g === whole[0] ? [j] : []));
    const moments = channelMoments(tf.gather(y, first) as tf.Tensor4D);
    expect(maxRelDiff(a.mean, moments.mean)).toBeLessThan(1e-5);
    expect(maxRelDiff(a.variance, moments.variance)).toBeLessThan(1e-5);
    const ref = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => loss(referenceBatchNorm(p as tf.Tensor4D, q as tf.Tensor1D, r as tf.Tensor1D, whole), 0))([y, gamma, beta]);
    expect(maxRelDiff(tf.concat([a.grads[0] as tf.Tensor, b.grads[0] as tf.Tensor], 0), ref[0] as tf.Tensor)).toBeLessThan(1e-4);
    // dγ and dβ stay each shard's part: the parts add up to the whole batch's.
    for (const k of [1, 2]) expect(maxRelDiff(tf.add(a.grads[k] as tf.Tensor, b.grads[k] as tf.Tensor), ref[k] as tf.Tensor)).toBeLessThan(1e-4);
  });

  it('leaks no tensors (statistics belong to the caller)', () => {
    const rng = new Rng(3);
    const y = random([4, 2, 2, 3], rng) as tf.Tensor4D;
    const gamma = tf.variable(tf.ones([3]));
    const beta = tf.variable(tf.zeros([3]));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(trainingBatchNorm(y, gamma as tf.Variable<tf.Rank.R1>, beta as tf.Variable<tf.Rank.R1>, EPS).out) as tf.Scalar);
      value.dataSync();
      tf.dispose(Object.values(grads));
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
