/**
 * Training-time batch norm as ONE differentiable op with its gradient written out (tf.customGrad), instead of the
 * tape of tf.moments + normalize (~20 recorded ops, and reductions over leading axes that the wasm backend runs by
 * transposing the whole tensor first). On wasm and cpu it is one forward and one backward kernel; elsewhere the
 * same closed form as tf ops, with the per-channel reductions as matrix products with a row of ones.
 *
 * Statistics are over all pixels of the batch, or per BN group (plan.ts BnGroups: images of similar width) with
 * each image normalized by its group's statistics. With Y viewed as [P, C] (P = N·H·W pixels), A [G, P] the pixel
 * averaging matrix and B [P, G] the pixel-to-group assignment:
 *   forward:  μ = A·Y,  D = Y − B·μ,  σ² = A·D²,  r = (σ² + ε)^−½,  out = D ⊙ B·(γr) + β
 *   backward: dβ = Σ_p g,  dγ = Σ_g n_g·r ⊙ A·(g ⊙ D),
 *             dY = B·(γr) ⊙ g − B·(γr ⊙ A·g) − D ⊙ B·(γr³ ⊙ A·(g ⊙ D))
 * (the whole batch is the case G = 1, where B·v is a broadcast).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedKernelsAvailable } from '../tensor/fused-ops.ts';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormSyncActive } from '../tensor/kernels/batch-norm.ts';
import type { BnGroups } from './plan.ts';

export interface TrainingBatchNorm {
  out: tf.Tensor4D;
  /** [C] statistics of the whole batch, or of the group of image 0 (what the moving averages track). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export function trainingBatchNorm(
  y: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  groups?: BnGroups,
): TrainingBatchNorm {
  if (fusedKernelsAvailable() && tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) !== undefined) return kernelBatchNorm(y, gamma, beta, epsilon, groups);
  if (batchNormSyncActive()) throw new Error(`data-parallel training synchronizes batch norm in the wasm and cpu kernels only (backend ${tf.getBackend()}); train with 1 worker`);
  return composedBatchNorm(y, gamma, beta, epsilon, groups);
}

/** The wasm/cpu path: one forward and one backward kernel (core/tensor/kernels/batch-norm.ts). */
function kernelBatchNorm(y: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, groups?: BnGroups): TrainingBatchNorm {
  const c = y.shape[3];
  const attrs = { epsilon, imageGroups: groups ? [...groups.imageGroups] : [] };
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad((yIn, gammaIn, betaIn, saveArg) => {
    const [out, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { y: yIn as tf.Tensor, gamma: gammaIn as tf.Tensor, beta: betaIn as tf.Tensor }, attrs as never) as tf.Tensor[];
    (saveArg as tf.GradSaveFunc)([yIn as tf.Tensor, mean as tf.Tensor, variance as tf.Tensor, gammaIn as tf.Tensor]);
    const row = groups ? groups.first : 0;
    stats = [tf.keep(tf.slice(mean as tf.Tensor2D, [row, 0], [1, c]).reshape([c])), tf.keep(tf.slice(variance as tf.Tensor2D, [row, 0], [1, c]).reshape([c]))];
    return {
      value: out as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ySaved, meanSaved, varianceSaved, gammaSaved] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, y: ySaved, mean: meanSaved, variance: varianceSaved, gamma: gammaSaved }, attrs as never) as tf.Tensor[];
      },
    };
  });
  const out = op(y, gamma, beta) as tf.Tensor4D;
  return { out, ...adoptStats(stats) };
}

/** Statistics kept inside a customGrad op (whose scope is tidied), re-owned by the caller's scope. */
function adoptStats(kept: tf.Tensor[]): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [mean, variance] = kept.map((t) => t.clone()) as [tf.Tensor1D, tf.Tensor1D];
  tf.dispose(kept);
  return { mean, variance };
}

/** Other backends: the same math as tf ops, reductions as products with a row of ones. */
export function composedBatchNorm(y: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, groups?: BnGroups): TrainingBatchNorm {
  const [n, h, w, c] = y.shape;
  const pixels = n * h * w;
  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const op = tf.customGrad((yIn, gammaIn, betaIn, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const y2 = (yIn as tf.Tensor).reshape([pixels, c]) as tf.Tensor2D;
    const g1 = (gammaIn as tf.Tensor).reshape([1, c]);
    const b1 = (betaIn as tf.Tensor).reshape([1, c]);
    const m = groups ? pixelMatrices(groups, h * w) : undefined;
    const average = m ? m.average : tf.fill([1, pixels], 1 / pixels) as tf.Tensor2D;
    const mean = tf.matMul(average, y2);
    const centered = tf.sub(y2, m ? tf.matMul(m.assign, mean) : mean) as tf.Tensor2D;
    const variance = tf.matMul(average, tf.square(centered));
    const r = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(r, g1);
    const out = tf.add(tf.mul(centered, m ? tf.matMul(m.assign, scale) : scale), b1);
    const row = groups ? groups.first : 0;
    stats = {
      mean: tf.keep(tf.slice(mean, [row, 0], [1, c]).reshape([c])),
      variance: tf.keep(tf.slice(variance, [row, 0], [1, c]).reshape([c])),
    };
    save([centered, r, scale, average, ...(m ? [m.assign] : [])]);
    return {
      value: out.reshape([n, h, w, c]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [d, rs, sc, avg, assign] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D | undefined];
        const g = dy.reshape([pixels, c]) as tf.Tensor2D;
        const spread = (v: tf.Tensor2D) => (assign ? tf.matMul(assign, v) : v);
        const meanG = tf.matMul(avg, g);
        const meanGD = tf.matMul(avg, tf.mul(g, d) as tf.Tensor2D);
        const dBeta = tf.matMul(tf.fill([1, pixels], 1) as tf.Tensor2D, g);
        // n_g·r ⊙ A·(g ⊙ D) summed over groups: pixel counts of the groups as a row vector.
        const counts = groups ? tf.tensor2d(groups.sizes.map((s) => s * h * w), [1, groups.sizes.length]) : tf.scalar(pixels);
        const dGamma = groups ? tf.matMul(counts as tf.Tensor2D, tf.mul(rs, meanGD) as tf.Tensor2D) : tf.mul(tf.mul(rs, meanGD), counts);
        const dY = tf.sub(
          tf.sub(tf.mul(spread(sc), g), spread(tf.mul(sc, meanG) as tf.Tensor2D)),
          tf.mul(d, spread(tf.mul(tf.mul(sc, tf.square(rs)), meanGD) as tf.Tensor2D)),
        );
        return [dY.reshape([n, h, w, c]), dGamma.reshape([c]), dBeta.reshape([c])];
      },
    };
  });
  const out = op(y, gamma, beta) as tf.Tensor4D;
  const kept = stats as unknown as { mean: tf.Tensor; variance: tf.Tensor };
  return { out, ...adoptStats([kept.mean, kept.variance]) };
}

/** Pixel-level group matrices from the image-level ones: A [G, N·HW] averages, B [N·HW, G] assigns. */
function pixelMatrices(groups: BnGroups, hw: number): { average: tf.Tensor2D; assign: tf.Tensor2D } {
  const [g, n] = groups.average.shape;
  const average = tf.mul(groups.average.reshape([g, n, 1]), tf.fill([1, 1, hw], 1 / hw)).reshape([g, n * hw]) as tf.Tensor2D;
  const assign = tf.mul(groups.assign.reshape([n, 1, g]), tf.ones([1, hw, 1])).reshape([n * hw, g]) as tf.Tensor2D;
  return { average, assign };
}
