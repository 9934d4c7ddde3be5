/**
 * ResizeNearestNeighborGrad for the wasm backend. The backend ships one, but it ignores halfPixelCenters (so its
 * gradient does not match its own forward pass with that option); this one derives the source pixels exactly as the
 * forward kernels do. (The cpu backend's is worse: wrong for batch > 1 and NaN when downsampling.)
 *
 * The forward pass copies input pixel (srcRow[y], srcCol[x]) to output pixel (y, x); the source maps are separable,
 * so the gradient is Rᵀ·dy·C with 0/1 selection matrices R [outH, inH] and C [outW, inW] — two untransposed matMuls.
 * Integer upscaling (the common decoder case) is a block sum instead: one sum-pool.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, ResizeNearestNeighborGradAttrs } from '@tensorflow/tfjs';
import { as4D } from './kernel-tensors.ts';

const KERNEL = 'ResizeNearestNeighborGrad';

/** Source index of every output position along one axis, exactly as the tfjs forward kernels compute it. */
export function nearestSourceIndices(
  inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean,
): number[] {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const indices: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const frac = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
    let src = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    if (halfPixelCenters) src = Math.max(0, src);
    indices.push(src);
  }
  return indices;
}

/** The factor f if indices are [0×f, 1×f, …] (each source repeated f times in order), else undefined. */
function blockFactor(indices: readonly number[], inSize: number): number | undefined {
  if (indices.length % inSize !== 0) return undefined;
  const f = indices.length / inSize;
  return indices.every((src, o) => src === Math.floor(o / f)) ? f : undefined;
}

/** [inSize, outSize] with a 1 where output o reads input i. */
function selectionTransposed(indices: readonly number[], inSize: number): tf.Tensor2D {
  return tf.transpose(tf.oneHot(tf.tensor1d([...indices], 'int32'), inSize)) as tf.Tensor2D;
}

const resizeNearestNeighborGrad: KernelFunc = ({ inputs, attrs }) => {
  const { alignCorners, halfPixelCenters } = attrs as unknown as ResizeNearestNeighborGradAttrs & NamedAttrMap;
  return tf.tidy(() => {
    const images = as4D(inputs['images'], KERNEL, 'images');
    const dy = tf.cast(as4D(inputs['dy'], KERNEL, 'dy'), 'float32');
    const [n, inH, inW, c] = images.shape;
    const [, outH, outW] = dy.shape;
    const rows = nearestSourceIndices(inH, outH, alignCorners, halfPixelCenters);
    const cols = nearestSourceIndices(inW, outW, alignCorners, halfPixelCenters);
    const fh = blockFactor(rows, inH);
    const fw = blockFactor(cols, inW);
    if (fh !== undefined && fw !== undefined) {
      return tf.avgPool(dy, [fh, fw], [fh, fw], 'valid').mul(fh * fw);
    }
    // Contract the output rows: [outH, outW·N·C] → [inH, outW·N·C].
    const byRow = tf.transpose(dy, [1, 2, 0, 3]).reshape([outH, outW * n * c]);
    const rowSummed = tf.matMul(selectionTransposed(rows, inH), byRow).reshape([inH, outW, n * c]);
    // Contract the output columns: [outW, inH·N·C] → [inW, inH·N·C].
    const byCol = tf.transpose(rowSummed, [1, 0, 2]).reshape([outW, inH * n * c]);
    const summed = tf.matMul(selectionTransposed(cols, inW), byCol).reshape([inW, inH, n, c]);
    return tf.transpose(summed, [2, 1, 0, 3]);
  });
};

export const resizeNearestNeighborGradConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: resizeNearestNeighborGrad,
};
