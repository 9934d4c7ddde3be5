/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (which lacks it): a depthwise conv of the stride-spread
 * output gradient with the spatially flipped filter. A channel multiplier m > 1 runs the conv over all C·m output
 * channels and sums each input channel's m results.
 */
import * as tf from '@tensorflow/tfjs';
import type { DepthwiseConv2dNativeBackpropInputAttrs, KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import { explicitPadding, requireShape, spreadOutputGradient } from './conv-geometry.ts';
import { as4D, requireUnitDilations } from './kernel-tensors.ts';

const KERNEL = 'DepthwiseConv2dNativeBackpropInput';

const depthwiseBackpropInput: KernelFunc = ({ inputs, attrs }) => {
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs & NamedAttrMap;
  requireUnitDilations(KERNEL, a.dilations);
  return tf.tidy(() => {
    const dy = as4D(inputs['dy'], KERNEL, 'dy');
    const filter = as4D(inputs['filter'], KERNEL, 'filter');
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, true,
    );
    requireShape(KERNEL, 'dy', dy.shape, info.outShape);
    const [kh, kw, channels, multiplier] = filter.shape;
    const { spread, padding } = spreadOutputGradient(dy, info);
    const flipped = kh === 1 && kw === 1 ? filter : tf.reverse(filter, [0, 1]);
    const perOutputChannel = multiplier === 1 ? flipped : flipped.reshape<tf.Tensor4D>([kh, kw, channels * multiplier, 1]);
    const dx = tf.depthwiseConv2d(spread, perOutputChannel, 1, explicitPadding(padding));
    if (multiplier === 1) return dx;
    const [n, h, w] = dx.shape;
    return tf.sum(dx.reshape([n, h, w, channels, multiplier]), 4);
  });
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput,
};
