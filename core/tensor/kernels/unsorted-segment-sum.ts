/**
 * UnsortedSegmentSum for the wasm backend (which lacks it; tf.gather's gradient needs it): a one-hot matrix of the
 * segment ids times the data. Ids outside [0, numSegments) get an all-zero one-hot row, so they are dropped, as in
 * TensorFlow.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs';
import { asTensor } from './kernel-tensors.ts';

const KERNEL = 'UnsortedSegmentSum';

const unsortedSegmentSum: KernelFunc = ({ inputs, attrs }) => {
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs & NamedAttrMap;
  return tf.tidy(() => {
    const x = asTensor(inputs['x'], KERNEL, 'x');
    const ids = asTensor(inputs['segmentIds'], KERNEL, 'segmentIds');
    const rows = ids.size;
    const rowShape = x.shape.slice(ids.rank);
    const data = tf.cast(x, 'float32').reshape([rows, rows === 0 ? 0 : x.size / rows]);
    // [numSegments, rows]: transposed here so that the matMul runs untransposed, its only fast path on wasm.
    const selector = tf.transpose(tf.oneHot(tf.cast(ids.reshape([rows]), 'int32'), numSegments));
    const sums = tf.matMul(selector, data).reshape([numSegments, ...rowShape]);
    return x.dtype === 'float32' ? sums : tf.cast(tf.round(sums), x.dtype);
  });
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
