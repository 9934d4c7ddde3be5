/**
 * Training losses and evaluation metrics.
 * - classification: softmax cross-entropy with label smoothing; top-1 accuracy.
 * - depth: the network predicts log-depth; L1 or berHu on log-depth over pixels with a measurement (depth > 0);
 *   metrics RMSE (metres) and δ1 = fraction of pixels with max(pred/gt, gt/pred) < 1.25.
 */
import * as tf from '@tensorflow/tfjs';

export type DepthLoss = 'l1' | 'berhu';

/** `imageWeights` [N] (optional): a weighted mean over images, Σ wₙ·lossₙ / Σ wₙ. */
export function classificationLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number, imageWeights?: tf.Tensor1D): tf.Scalar {
  const classes = logits.shape[1];
  const target = tf.add(tf.mul(tf.oneHot(labels, classes), 1 - smoothing), smoothing / classes);
  const perImage = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1));
  if (!imageWeights) return tf.mean(perImage) as tf.Scalar;
  return tf.div(tf.sum(tf.mul(perImage, imageWeights)), tf.sum(imageWeights)) as tf.Scalar;
}

/** `depth`: metres, ≤ 0 = no measurement. */
export function depthLoss(logPred: tf.Tensor4D, depth: tf.Tensor4D, kind: DepthLoss): tf.Scalar {
  const valid = tf.cast(tf.greater(depth, 0), 'float32');
  const logGt = tf.log(tf.maximum(depth, 1e-3));
  const diff = tf.mul(tf.sub(logPred, logGt), valid);
  const count = tf.maximum(tf.sum(valid), 1);
  const abs = tf.abs(diff);
  if (kind === 'l1') return tf.div(tf.sum(abs), count);
  // berHu: |d| for |d| ≤ c, (d² + c²) / 2c above, with c = 0.2·max|d| held constant (as in Laina et al.; no gradient
  // flows through c). Written as |d| + step(|d| − c)·(|d| − c)² / 2c = |d| + relu(|d| − c)² / 2c: no comparison op
  // (LessEqual etc. have no gradient in tfjs 4.22), and c is read back to the host so the tape never sees max/maximum.
  const c = Math.max(0.2 * (tf.max(abs).dataSync()[0] as number), 1e-6);
  const excess = tf.relu(tf.sub(abs, c));
  return tf.div(tf.sum(tf.add(abs, tf.div(tf.square(excess), 2 * c))), count);
}

/** Correct top-1 predictions in a batch. */
export function top1Correct(logits: tf.Tensor2D, labels: Int32Array): number {
  const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync() as Int32Array);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
  return correct;
}

export interface DepthSums {
  pixels: number;
  squaredError: number;
  withinDelta1: number;
}

/** Accumulates depth metrics of a batch: `logPred` [N,H,W,1] log-depth, `depth` metres. */
export function depthSums(logPred: tf.Tensor4D, depth: Float32Array): DepthSums {
  return depthSumsOf(tf.tidy(() => tf.exp(logPred).dataSync() as Float32Array), depth);
}

/** depthSums of predictions already in metres (e.g. the exp of a .tflite model's log-depth output). */
export function depthSumsOf(pred: ArrayLike<number>, depth: Float32Array, sums: DepthSums = { pixels: 0, squaredError: 0, withinDelta1: 0 }): DepthSums {
  for (let i = 0; i < depth.length; i++) {
    const gt = depth[i] as number;
    if (!(gt > 0)) continue;
    const p = pred[i] as number;
    sums.pixels++;
    sums.squaredError += (p - gt) * (p - gt);
    if (Math.max(p / gt, gt / p) < 1.25) sums.withinDelta1++;
  }
  return sums;
}
/** Classification distillation: (1 − α)·CE + α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)). */
export function distillationLoss(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  labels: tf.Tensor1D,
  opts: { alpha: number; temperature: number; labelSmoothing: number },
): tf.Scalar {
  const { alpha, temperature: t } = opts;
  const ce = classificationLoss(student, labels, opts.labelSmoothing);
  if (alpha === 0) return ce;
  const logPt = tf.logSoftmax(tf.div(teacher, t));
  const logPs = tf.logSoftmax(tf.div(student, t));
  const kl = tf.mean(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), 1));
  return tf.add(tf.mul(ce, 1 - alpha), tf.mul(kl, alpha * t * t)) as tf.Scalar;
}

