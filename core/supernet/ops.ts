/**
 * Small tensor helpers shared by the masked super-network and the slim network. Every op here has a gradient in
 * tfjs 4.22 on all backends we use (no tf.fused ops, no strided slices; hard-swish/sigmoid from fused-ops.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../arch/index.ts';
import { hardSigmoid, hardSwish } from '../tensor/fused-ops.ts';

export function activate(x: tf.Tensor4D, act: Activation): tf.Tensor4D;
export function activate(x: tf.Tensor2D, act: Activation): tf.Tensor2D;
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'hswish':
      return hardSwish(x);
    case 'none':
      return x;
  }
}

export { hardSigmoid };

/** The centre k×k taps of a [K,K,…] kernel (superkernel). */
export function centerCrop(kernel: tf.Tensor4D, k: number): tf.Tensor4D {
  const full = kernel.shape[0];
  if (k === full) return kernel;
  if (k > full || (full - k) % 2 !== 0) throw new RangeError(`cannot cut a ${k}×${k} kernel from a ${full}×${full} one`);
  const off = (full - k) / 2;
  return tf.slice(kernel, [off, off, 0, 0], [k, k, kernel.shape[2], kernel.shape[3]]);
}

/** x[:, ::s, ::s, :] (rows/cols 0, s, 2s, …), the bypass path of a strided layer; built from pad/reshape/slice. */
export function subsample(x: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return x;
  const [n, h, w, c] = x.shape;
  const ho = Math.ceil(h / stride);
  const wo = Math.ceil(w / stride);
  const padded = ho * stride === h && wo * stride === w ? x : tf.pad(x, [[0, 0], [0, ho * stride - h], [0, wo * stride - w], [0, 0]]);
  const rows = tf.reshape(padded, [n * ho, stride, wo, stride * c]);
  const picked = tf.slice(rows, [0, 0, 0, 0], [n * ho, 1, wo, c]);
  return tf.reshape(picked, [n, ho, wo, c]);
}

export function upsampleNearest(x: tf.Tensor4D, scale: number): tf.Tensor4D {
  if (scale === 1) return x;
  return tf.image.resizeNearestNeighbor(x, [x.shape[1] * scale, x.shape[2] * scale], false, false);
}

/** Pads or cuts the channel axis to exactly `channels`. */
export function fitChannels(x: tf.Tensor4D, channels: number): tf.Tensor4D {
  const c = x.shape[3];
  if (c === channels) return x;
  if (c > channels) return tf.slice(x, [0, 0, 0, 0], [x.shape[0], x.shape[1], x.shape[2], channels]);
  return tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, channels - c]]);
}

export function channelSlice(x: tf.Tensor4D, start: number, size: number): tf.Tensor4D {
  if (start === 0 && size === x.shape[3]) return x;
  return tf.slice(x, [0, 0, 0, start], [x.shape[0], x.shape[1], x.shape[2], size]);
}

/** Applies batch norm as y·scale + shift with scale = γ/√(σ²+ε), shift = β − μ·scale. */
export function batchNorm(
  y: tf.Tensor4D,
  /** [C], or [N,1,1,C] for per-image (grouped) statistics. */
  mean: tf.Tensor1D | tf.Tensor4D,
  variance: tf.Tensor1D | tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): tf.Tensor4D {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
  const shift = tf.sub(beta, tf.mul(mean, scale));
  return tf.add(tf.mul(y, scale), shift);
}

/** Per-channel mean and (biased) variance over batch, height and width. */
export function channelMoments(y: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  return { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
