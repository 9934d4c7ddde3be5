/**
 * Conv2DBackpropFilter for the wasm backend (which lacks it), built from wasm forward ops.
 *
 * dW[i, j, ci, co] = Σ_{n, y, x} xPadded[n, y·sh + i, x·sw + j, ci] · dy[n, y, x, co]
 *
 * That is a correlation of the input with dy as the filter, at dilation = stride, with the roles of the axes swapped:
 * input channels act as the batch and the batch acts as the channels to reduce. XNNPACK's conv does it in one call.
 * A 1×1 stride-1 unpadded conv (the pointwise convs of separable blocks) is a plain matrix product instead.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import { explicitPadding, filterGradientPadding, requireShape, type ConvInfo } from './conv-geometry.ts';
import { transposeRows } from './fast-layout.ts';
import { as4D, requireNHWC } from './kernel-tensors.ts';

const KERNEL = 'Conv2DBackpropFilter';

const conv2dBackpropFilter: KernelFunc = ({ inputs, attrs }) => {
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & NamedAttrMap;
  requireNHWC(KERNEL, a.dataFormat);
  return tf.tidy(() => {
    const x = as4D(inputs['x'], KERNEL, 'x');
    const dy = as4D(inputs['dy'], KERNEL, 'dy');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast',
    );
    requireShape(KERNEL, 'dy', dy.shape, info.outShape);
    return isPlainPointwise(info) ? pointwiseFilterGradient(x, dy, info) : swappedConvFilterGradient(x, dy, info);
  });
};

function isPlainPointwise(info: ConvInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    top === 0 && bottom === 0 && left === 0 && right === 0;
}

/** dW = xᵀ·dy over all pixels. The wasm matMul is fast only untransposed, so one operand is transposed first. */
function pointwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, info: ConvInfo): tf.Tensor4D {
  const { inChannels: cin, outChannels: cout } = info;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const x2 = x.reshape<tf.Tensor2D>([pixels, cin]);
  const dy2 = dy.reshape<tf.Tensor2D>([pixels, cout]);
  // The untransposed operand B is packed by XNNPACK on every call; keeping it the narrower one measured fastest.
  const dW = cin <= cout ? tf.transpose(tf.matMul(transposeRows(dy2), x2)) : tf.matMul(transposeRows(x2), dy2);
  return dW.reshape([1, 1, cin, cout]);
}

function swappedConvFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, info: ConvInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  const xChannelsAsBatch = tf.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, N]
  const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]); // [outH, outW, N, Cout]
  const correlated = tf.conv2d(
    xChannelsAsBatch, dyAsFilter, 1, explicitPadding(filterGradientPadding(info)), 'NHWC',
    [info.strideHeight, info.strideWidth],
  ); // [Cin, ≥kh, ≥kw, Cout]
  const cropped = correlated.shape[1] === kh && correlated.shape[2] === kw
    ? correlated
    : tf.slice(correlated, [0, 0, 0, 0], [cin, kh, kw, cout]);
  return tf.transpose(cropped, [1, 2, 0, 3]);
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
