/**
 * Hard-swish and hard-sigmoid and their gradients as single-pass kernels for the CPU-side backends (wasm, cpu):
 * composed from tf ops they cost 4 forward and ~9 backward full-tensor passes, several of them comparison ops
 * that the wasm backend runs ~15× slower than relu6 (bench/train-step-profile.ts). See core/tensor/fused-ops.ts for
 * the ops that use them (with a composed fallback on other backends). On wasm they run as SIMD loops
 * (core/tensor/simd); the JavaScript loops (cpu backend, odd sizes) are written out, without a shared per-element
 * callback, so the JIT compiles each monomorphic.
 *
 *   hardSigmoid(x) = relu6(x + 3) / 6           hardSigmoid'(x) = 1/6 on (−3, 3), else 0
 *   hardSwish(x)   = x · relu6(x + 3) / 6       hardSwish'(x)   = (relu6(x + 3) + x·[−3 < x < 3]) / 6
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { allocFloat32, viewFloat32, wasmHeap } from './host-memory.ts';

export const HARD_SWISH = 'NetadaptHardSwish';
export const HARD_SWISH_GRAD = 'NetadaptHardSwishGrad';
export const HARD_SIGMOID = 'NetadaptHardSigmoid';
export const HARD_SIGMOID_GRAD = 'NetadaptHardSigmoidGrad';

const SIXTH = 1 / 6;

function input(inputs: Record<string, TensorInfo | undefined>, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: missing input '${name}'.`);
  if (t.dtype !== 'float32') throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}.`);
  return t;
}

const hardSwish: KernelFunc = ({ inputs, backend }) => {
  const x = input(inputs, 'x', HARD_SWISH);
  const result = allocFloat32(backend, x.shape);
  const heap = wasmHeap(backend);
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (heap && size % 4 === 0 && size > 0) {
    heap.kernels.hardSwish(heap.offset(x), heap.offset(result), size / 4);
    return result;
  }
  const xs = viewFloat32(backend, x);
  const out = viewFloat32(backend, result);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i] as number;
    out[i] = v <= -3 ? 0 : v >= 3 ? v : v * (v + 3) * SIXTH;
  }
  return result;
};

const hardSwishGrad: KernelFunc = ({ inputs, backend }) => {
  const x = input(inputs, 'x', HARD_SWISH_GRAD);
  const dy = input(inputs, 'dy', HARD_SWISH_GRAD);
  const result = allocFloat32(backend, x.shape);
  const heap = wasmHeap(backend);
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (heap && size % 4 === 0 && size > 0) {
    heap.kernels.hardSwishGradient(heap.offset(x), heap.offset(dy), heap.offset(result), size / 4);
    return result;
  }
  const xs = viewFloat32(backend, x);
  const dys = viewFloat32(backend, dy);
  const out = viewFloat32(backend, result);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i] as number;
    const d = dys[i] as number;
    out[i] = v <= -3 ? 0 : v >= 3 ? d : d * (2 * v + 3) * SIXTH;
  }
  return result;
};

const hardSigmoid: KernelFunc = ({ inputs, backend }) => {
  const x = input(inputs, 'x', HARD_SIGMOID);
  const result = allocFloat32(backend, x.shape);
  const heap = wasmHeap(backend);
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (heap && size % 4 === 0 && size > 0) {
    heap.kernels.hardSigmoid(heap.offset(x), heap.offset(result), size / 4);
    return result;
  }
  const xs = viewFloat32(backend, x);
  const out = viewFloat32(backend, result);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i] as number;
    out[i] = v <= -3 ? 0 : v >= 3 ? 1 : (v + 3) * SIXTH;
  }
  return result;
};

const hardSigmoidGrad: KernelFunc = ({ inputs, backend }) => {
  const x = input(inputs, 'x', HARD_SIGMOID_GRAD);
  const dy = input(inputs, 'dy', HARD_SIGMOID_GRAD);
  const result = allocFloat32(backend, x.shape);
  const heap = wasmHeap(backend);
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (heap && size % 4 === 0 && size > 0) {
    heap.kernels.hardSigmoidGradient(heap.offset(x), heap.offset(dy), heap.offset(result), size / 4);
    return result;
  }
  const xs = viewFloat32(backend, x);
  const dys = viewFloat32(backend, dy);
  const out = viewFloat32(backend, result);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i] as number;
    out[i] = v <= -3 || v >= 3 ? 0 : (dys[i] as number) * SIXTH;
  }
  return result;
};

/** The kernels, for one backend they run on. */
export function activationKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: HARD_SWISH, backendName, kernelFunc: hardSwish },
    { kernelName: HARD_SWISH_GRAD, backendName, kernelFunc: hardSwishGrad },
    { kernelName: HARD_SIGMOID, backendName, kernelFunc: hardSigmoid },
    { kernelName: HARD_SIGMOID_GRAD, backendName, kernelFunc: hardSigmoidGrad },
  ];
}
