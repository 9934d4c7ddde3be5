/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (which lacks it).
 *
 * dW[i, j, c, k] = Σ_{n, y, x} xPadded[n, y·sh + i, x·sw + j, c] · dy[n, y, x, c·m + k]
 *
 * Computed as one depthwise conv with the roles swapped: every (image, channel) pair becomes a channel of a
 * single-image input, dy (same layout) becomes the filter at dilation = stride, and the per-image results are summed.
 */
import * as tf from '@tensorflow/tfjs';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import { explicitPadding, filterGradientPadding, requireShape } from './conv-geometry.ts';
import { as4D, requireUnitDilations } from './kernel-tensors.ts';

const KERNEL = 'DepthwiseConv2dNativeBackpropFilter';

const depthwiseBackpropFilter: KernelFunc = ({ inputs, attrs }) => {
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs & NamedAttrMap;
  requireUnitDilations(KERNEL, a.dilations);
  return tf.tidy(() => {
    const x = as4D(inputs['x'], KERNEL, 'x');
    const dy = as4D(inputs['dy'], KERNEL, 'dy');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, true,
    );
    requireShape(KERNEL, 'dy', dy.shape, info.outShape);
    const [kh, kw, channels, multiplier] = a.filterShape;
    const [n, h, w] = x.shape;
    const imagesAsChannels = tf.transpose(x, [1, 2, 0, 3]).reshape<tf.Tensor4D>([1, h, w, n * channels]);
    const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]).reshape<tf.Tensor4D>([info.outHeight, info.outWidth, n * channels, multiplier]);
    const correlated = tf.depthwiseConv2d(
      imagesAsChannels, dyAsFilter, 1, explicitPadding(filterGradientPadding(info)), 'NHWC',
      [info.strideHeight, info.strideWidth],
    ); // [1, ≥kh, ≥kw, N·C·m]
    const cropped = correlated.shape[1] === kh && correlated.shape[2] === kw
      ? correlated
      : tf.slice(correlated, [0, 0, 0, 0], [1, kh, kw, n * channels * multiplier]);
    const perImage = cropped.reshape([kh, kw, n, channels * multiplier]);
    return tf.sum(perImage, 2).reshape([kh, kw, channels, multiplier]);
  });
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter,
};
