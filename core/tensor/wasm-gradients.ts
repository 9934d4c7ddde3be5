/**
 * Gradient kernels for the tfjs wasm backend, built from its forward ops (XNNPACK convs, transposes, pads, …).
 *
 * tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter/Input or
 * UnsortedSegmentSum, so training a conv net (or anything with tf.gather) fails there without these. Its
 * Conv2DBackpropInput exists but is a scalar loop ~10× slower than the forward conv, its MaxPoolGrad returns wrong
 * values for many shapes, and its ResizeNearestNeighborGrad ignores halfPixelCenters; we replace those three.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './kernels/conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './kernels/conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig } from './kernels/depthwise-backprop-filter.ts';
import { depthwiseBackpropInputConfig } from './kernels/depthwise-backprop-input.ts';
import { maxPoolGradConfig } from './kernels/max-pool-grad.ts';
import { resizeNearestNeighborGradConfig } from './kernels/resize-nearest-neighbor-grad.ts';
import { unsortedSegmentSumConfig } from './kernels/unsorted-segment-sum.ts';
import { zeroCopyCastConfig, zeroCopyIdentityConfig } from './kernels/zero-copy.ts';

/** Kernels the wasm backend does not have. */
export const ADDED_WASM_KERNELS: readonly KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  unsortedSegmentSumConfig,
];

/** Kernels the wasm backend has, replaced: one is ~10× slower than it needs to be, two give wrong gradients. */
export const REPLACED_WASM_KERNELS: readonly KernelConfig[] = [
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  resizeNearestNeighborGradConfig,
];

/**
 * Forward kernels replaced for training speed: Identity and same-dtype Cast share the buffer instead of copying it
 * (tfjs clones every tensor it saves for the backward pass; gradient functions cast float32 masks to float32).
 * A Cast that changes the dtype still runs the backend's own kernel.
 */
export const ZERO_COPY_WASM_KERNELS = ['Identity', 'Cast'] as const;

const ours = new WeakSet<KernelFunc>();

function install(config: KernelConfig): void {
  const current = tf.getKernel(config.kernelName, config.backendName);
  if (current !== undefined && ours.has(current.kernelFunc)) return;
  if (current !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
  ours.add(config.kernelFunc);
}

/**
 * Registers our kernels for the 'wasm' backend. Safe to call any number of times, before or after the backend is
 * initialized (the kernels need no per-backend setup).
 */
export function registerWasmGradientKernels(): void {
  for (const config of [...ADDED_WASM_KERNELS, ...REPLACED_WASM_KERNELS, zeroCopyIdentityConfig]) install(config);
  const cast = tf.getKernel('Cast', 'wasm');
  if (cast !== undefined && !ours.has(cast.kernelFunc)) install(zeroCopyCastConfig(cast));
}

/** True if the kernel registered under this name for wasm is one of ours. */
export function isOurWasmKernel(kernelName: string): boolean {
  const current = tf.getKernel(kernelName, 'wasm');
  return current !== undefined && ours.has(current.kernelFunc);
}
