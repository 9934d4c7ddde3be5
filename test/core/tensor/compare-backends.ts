/**
 * Test helpers: run the same computation on the tfjs cpu backend (reference) and on wasm (with our kernels) in one
 * process, on identical inputs, and measure the difference.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { initBackend } from '../../../core/tensor/backend.ts';
import type { Rng } from '../../../core/random.ts';

export { tf };

/** Initializes wasm once (registers our kernels); the cpu backend is always available. */
export async function useWasmAndCpu(): Promise<void> {
  const backend = await initBackend({ prefer: 'wasm' });
  if (backend.name !== 'wasm') throw new Error(`wasm backend unavailable, got ${backend.name}`);
}

export interface HostTensor {
  values: Float32Array;
  shape: number[];
}

export function randomHost(shape: number[], rng: Rng): HostTensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return { values, shape };
}

/** Runs `compute` on the given backend with fresh tensors built from `inputs`; returns the output values. */
export async function runOn(
  backend: 'cpu' | 'wasm',
  inputs: Record<string, HostTensor>,
  compute: (t: Record<string, Tensor>) => Tensor,
): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => {
    const tensors: Record<string, Tensor> = {};
    for (const [name, h] of Object.entries(inputs)) tensors[name] = tf.tensor(h.values, h.shape);
    return compute(tensors);
  });
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

/** max |a − b| / max(1e-6, max |b|) */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
    maxRef = Math.max(maxRef, Math.abs(b[i] ?? 0));
  }
  return Number.isNaN(maxDiff) ? Number.POSITIVE_INFINITY : maxDiff / Math.max(1e-6, maxRef);
}

/** Runs one registered kernel by name on both backends; returns the wasm-vs-cpu relative error and the shapes. */
export async function compareKernel(
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: NamedAttrMap,
): Promise<{ error: number; shape: number[] }> {
  let shape: number[] = [];
  const compute = (t: Record<string, Tensor>): Tensor => {
    const out = tf.engine().runKernel(kernelName, t, attrs) as Tensor;
    shape = out.shape;
    return out;
  };
  const reference = await runOn('cpu', inputs, compute);
  const cpuShape = shape;
  const actual = await runOn('wasm', inputs, compute);
  if (shape.join() !== cpuShape.join()) {
    throw new Error(`${kernelName}: wasm shape [${shape.join()}] differs from cpu shape [${cpuShape.join()}]`);
  }
  return { error: relativeError(actual, reference), shape };
}

/** Forward-conv output size, to build a dy of the right shape. */
export function convOutShape(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number,
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]],
  depthwise: boolean,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): number[] {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, depthwise).outShape;
}

export const TOLERANCE = 1e-4;
