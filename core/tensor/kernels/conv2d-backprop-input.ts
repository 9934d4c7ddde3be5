/**
 * Conv2DBackpropInput for the wasm backend. The backend ships one, but it is a scalar loop that runs ~10× slower
 * than its own forward conv; this one is a forward conv (XNNPACK) of the stride-spread output gradient with the
 * spatially flipped, in/out-swapped filter.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import { explicitPadding, requireShape, spreadOutputGradient } from './conv-geometry.ts';
import { as4D, requireNHWC } from './kernel-tensors.ts';

const KERNEL = 'Conv2DBackpropInput';

const conv2dBackpropInput: KernelFunc = ({ inputs, attrs }) => {
  const a = attrs as unknown as Conv2DBackpropInputAttrs & NamedAttrMap;
  requireNHWC(KERNEL, a.dataFormat);
  return tf.tidy(() => {
    const dy = as4D(inputs['dy'], KERNEL, 'dy');
    const filter = as4D(inputs['filter'], KERNEL, 'filter');
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast',
    );
    requireShape(KERNEL, 'dy', dy.shape, info.outShape);
    const { spread, padding } = spreadOutputGradient(dy, info);
    const flipped = info.filterHeight === 1 && info.filterWidth === 1 ? filter : tf.reverse(filter, [0, 1]);
    const swapped = tf.transpose(flipped, [0, 1, 3, 2]); // [kh, kw, Cout, Cin]
    return tf.conv2d(spread, swapped, 1, explicitPadding(padding));
  });
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
