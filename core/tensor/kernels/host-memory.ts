/**
 * Direct access to a CPU-side backend's tensor memory from a kernel, for kernels written as JavaScript loops: the
 * wasm backend's tensors live in its heap (views, no copy); the cpu backend's in typed arrays.
 *
 * Allocating may grow the wasm heap, which detaches every view taken before: allocate all outputs first, then take
 * the views (of inputs and outputs) and compute.
 */
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';

interface HeapBackend {
  typedArrayFromHeap(info: TensorInfo): ArrayLike<number>;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

function isHeapBackend(backend: unknown): backend is HeapBackend {
  return typeof (backend as Partial<HeapBackend>).typedArrayFromHeap === 'function' && typeof (backend as Partial<HeapBackend>).makeOutput === 'function';
}

/** A new float32 tensor of `shape` (uninitialized on wasm: the kernel must write every element). */
export function allocFloat32(backend: unknown, shape: readonly number[]): TensorInfo {
  if (isHeapBackend(backend)) return backend.makeOutput([...shape], 'float32');
  const size = shape.reduce((a, b) => a * b, 1);
  return (backend as KernelBackend & { makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo })
    .makeTensorInfo([...shape], 'float32', new Float32Array(size));
}

/** The float32 memory of a tensor (input: read only; an output from allocFloat32: to fill). Valid until the next allocation. */
export function viewFloat32(backend: unknown, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${info.dtype}`);
  if (isHeapBackend(backend)) return backend.typedArrayFromHeap(info) as Float32Array;
  return (backend as KernelBackend).readSync(info.dataId) as Float32Array;
}
