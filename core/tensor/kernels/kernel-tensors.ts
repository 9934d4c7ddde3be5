/**
 * Helpers for kernels written with tf ops: a kernel receives TensorInfos and must hand back one it owns.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { UserError } from '../../errors.ts';

/** A Tensor view of a kernel input (inputs usually are Tensors already; a bare TensorInfo is wrapped). */
export function asTensor<R extends tf.Rank>(info: TensorInfo | undefined, kernel: string, name: string): tf.Tensor<R> {
  if (info === undefined) throw new Error(`${kernel}: missing input '${name}'.`);
  if (info instanceof tf.Tensor) return info as tf.Tensor<R>;
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}

export function as4D(info: TensorInfo | undefined, kernel: string, name: string): tf.Tensor4D {
  const t = asTensor<tf.Rank.R4>(info, kernel, name);
  if (t.rank !== 4) throw new Error(`${kernel}: input '${name}' must be rank 4, got shape [${t.shape.join(', ')}].`);
  return t;
}

/** A limitation of our kernels (not a bug): the message says what is unsupported and what to use instead. */
export class UnsupportedKernelCaseError extends UserError {}

export function pair(value: number | [number, number] | undefined, fallback: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  return typeof value === 'number' ? [value, value] : value;
}

export function requireUnitDilations(kernel: string, dilations: number | [number, number] | undefined): void {
  const [dh, dw] = pair(dilations, 1);
  if (dh !== 1 || dw !== 1) {
    throw new UnsupportedKernelCaseError(
      `${kernel} on the wasm backend supports only dilation 1 (got [${dh}, ${dw}]); tfjs gradients never need more.`,
    );
  }
}

export function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new UnsupportedKernelCaseError(
      `${kernel} on the wasm backend supports only NHWC data (got '${dataFormat}'); use channels-last tensors.`,
    );
  }
}
