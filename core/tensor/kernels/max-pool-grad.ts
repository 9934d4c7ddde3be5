/**
 * MaxPoolGrad for the wasm backend. The backend ships one, but tfjs-backend-wasm 4.22's gives wrong gradients for
 * many shapes (e.g. 2×2 stride 2 on a 6×6 single-channel image), so we replace it.
 *
 * Like the cpu backend, each window's gradient goes to its first maximum in row-major order. Per filter tap (in
 * that order) we mark the window positions whose input equals the pooled max and were not claimed by an earlier
 * tap, then scatter dy at the marked positions back onto the input grid. k² rounds of elementwise ops: fine for the
 * occasional max-pool; MobileNet-style nets use none.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, NamedAttrMap } from '@tensorflow/tfjs';
import { as4D } from './kernel-tensors.ts';

const KERNEL = 'MaxPoolGrad';

const maxPoolGrad: KernelFunc = ({ inputs, attrs }) => {
  const a = attrs as unknown as MaxPoolGradAttrs & NamedAttrMap;
  return tf.tidy(() => {
    const dy = as4D(inputs['dy'], KERNEL, 'dy');
    const x = as4D(inputs['input'], KERNEL, 'input');
    const y = as4D(inputs['output'], KERNEL, 'output');
    const info = tf.backend_util.computePool2DInfo(x.shape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { top, left } = info.padInfo;
    const { strideHeight: sh, strideWidth: sw, outHeight: outH, outWidth: outW } = info;
    const [n, h, w, c] = x.shape;
    // Grid big enough for every tap's samples (the forward padding may leave trailing rows unused, or be short).
    const gridH = Math.max(h + top, (outH - 1) * sh + info.filterHeight);
    const gridW = Math.max(w + left, (outW - 1) * sw + info.filterWidth);
    const xPadded = tf.pad(x, [[0, 0], [top, gridH - h - top], [left, gridW - w - left], [0, 0]], Number.NEGATIVE_INFINITY);
    let claimed = tf.zerosLike(y).cast('bool');
    let dxPadded: tf.Tensor4D = tf.zeros([n, gridH, gridW, c]);
    for (let i = 0; i < info.filterHeight; i++) {
      for (let j = 0; j < info.filterWidth; j++) {
        const samples = tf.stridedSlice(
          xPadded, [0, i, j, 0], [n, i + (outH - 1) * sh + 1, j + (outW - 1) * sw + 1, c], [1, sh, sw, 1],
        ) as tf.Tensor4D;
        const isMax = tf.logicalAnd(tf.equal(samples, y), tf.logicalNot(claimed));
        claimed = tf.logicalOr(claimed, isMax);
        const routed = tf.where(isMax, dy, tf.zerosLike(dy));
        dxPadded = tf.add(dxPadded, placeOnGrid(routed, i, j, sh, sw, gridH, gridW));
      }
    }
    return tf.slice(dxPadded, [0, top, left, 0], [n, h, w, c]);
  });
};

/** Puts sample (oy, ox) of t at grid position (oy·sh + i, ox·sw + j); zeros elsewhere. */
function placeOnGrid(
  t: tf.Tensor4D, i: number, j: number, sh: number, sw: number, gridH: number, gridW: number,
): tf.Tensor4D {
  const [n, outH, outW, c] = t.shape;
  const spread = sh === 1 && sw === 1
    ? t
    : tf.pad(t.reshape([n, outH, 1, outW, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]])
      .reshape<tf.Tensor4D>([n, outH * sh, outW * sw, c]);
  const spreadH = Math.min(spread.shape[1], gridH - i);
  const spreadW = Math.min(spread.shape[2], gridW - j);
  const fitted = spreadH === spread.shape[1] && spreadW === spread.shape[2]
    ? spread
    : tf.slice(spread, [0, 0, 0, 0], [n, spreadH, spreadW, c]);
  return tf.pad(fitted, [[0, 0], [i, gridH - i - spreadH], [j, gridW - j - spreadW], [0, 0]]);
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
