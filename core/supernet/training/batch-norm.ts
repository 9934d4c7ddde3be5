/** Batch-norm moving statistics: the per-step update of every training, and re-estimation for one sub-network. */
import * as tf from '@tensorflow/tfjs';
import type { SubnetConfig } from '../../arch/index.ts';
import type { Dataset } from '../../data/dataset.ts';
import { maskedForward } from '../forward.ts';
import { planBatch } from '../plan.ts';
import { subnetSliceMasks } from '../slice-masks.ts';
import type { SupernetWeights } from '../weights.ts';

/** moving = m·moving + (1 − m)·b on the elements of `mask` (all when absent), on the host. */
export function movingAverageHost(moving: tf.Variable, b: Float32Array, m: number, mask?: Uint8Array): void {
  const next = new Float32Array(moving.dataSync() as Float32Array);
  for (let j = 0; j < next.length; j++) {
    if (mask && mask[j] === 0) continue;
    next[j] = m * (next[j] as number) + (1 - m) * (b[j] as number);
  }
  const t = tf.tensor(next, moving.shape, 'float32');
  moving.assign(t);
  t.dispose();
}

/**
 * Re-estimates the BN moving statistics of `subnet` (undefined: the full network) in `weights`: the average batch
 * mean and variance over `batches` training batches, for the sub-network's channels only. A super-network trained
 * with ordered dropout stores statistics averaged over many sub-networks; a teacher needs its own.
 */
export function recalibrateBatchNorm(
  weights: SupernetWeights,
  subnet: SubnetConfig | undefined,
  dataset: Dataset,
  opts: { batches: number; batchSize: number; seed: number },
): void {
  const train = dataset.split('train');
  const count = Math.min(opts.batches, train.batchCount(opts.batchSize, { dropLast: true }));
  if (count === 0) return;
  const plan = planBatch(weights.spec, opts.batchSize, subnet ? Array.from({ length: opts.batchSize }, () => subnet) : undefined);
  const sums = new Map<string, { mean: Float64Array; variance: Float64Array }>();
  try {
    for (let i = 0; i < count; i++) {
      const batch = train.batch(i, opts.batchSize, { seed: opts.seed, epoch: 0, dropLast: true });
      tf.tidy(() => {
        const x = tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, 3]);
        maskedForward(weights, x, {
          training: true,
          plan,
          onBatchStats: (id, mean, variance) => {
            const m = mean.dataSync() as Float32Array;
            const v = variance.dataSync() as Float32Array;
            let sum = sums.get(id);
            if (!sum) sums.set(id, (sum = { mean: new Float64Array(m.length), variance: new Float64Array(v.length) }));
            for (let j = 0; j < m.length; j++) {
              sum.mean[j] = (sum.mean[j] as number) + (m[j] as number);
              sum.variance[j] = (sum.variance[j] as number) + (v[j] as number);
            }
          },
        });
      });
    }
  } finally {
    plan.dispose();
  }
  const masks = subnet ? subnetSliceMasks(weights, subnet) : undefined;
  for (const [id, sum] of sums) {
    for (const [param, values] of [['mean', sum.mean], ['variance', sum.variance]] as const) {
      const name = `${id}.${param}`;
      const variable = weights.get(name);
      const next = new Float32Array(variable.dataSync() as Float32Array);
      const mask = masks?.get(name);
      for (let j = 0; j < next.length; j++) if (!mask || mask[j] === 1) next[j] = (values[j] as number) / count;
      const t = tf.tensor(next, variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
    }
  }
}
