/**
 * Direct access to a CPU-side backend's tensor memory from a kernel, for kernels written as JavaScript loops: the
 * wasm backend's tensors live in its heap (views, no copy); the cpu backend's in typed arrays.
 *
 * Allocating may grow the wasm heap, which detaches every view taken before: allocate all outputs first, then take
 * the views (of inputs and outputs) and compute.
 */
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { simdKernels, type SimdKernels } from '../simd/kernels.ts';

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

/** The wasm backend's heap with our SIMD kernels bound to it (undefined on other backends or without wasm SIMD). */
export interface WasmHeap {
  kernels: SimdKernels;
  /** Byte offset of a tensor's data in the heap. */
  offset(info: TensorInfo): number;
  /** Scratch memory (bytes); may grow the heap, so allocate before taking views. */
  malloc(bytes: number): number;
  free(pointer: number): void;
  /** A float32 view of `count` floats at byte offset `pointer` (valid until the next allocation). */
  floats(pointer: number, count: number): Float32Array;
}

interface WasmBackendInternals {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(pointer: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

const heaps = new WeakMap<object, WasmHeap | null>();

export function wasmHeap(backend: unknown): WasmHeap | undefined {
  const b = backend as Partial<WasmBackendInternals>;
  if (!isHeapBackend(backend) || !b.wasm?.asm?.memory || !b.dataIdMap) return undefined;
  const cached = heaps.get(backend as object);
  if (cached !== undefined) return cached ?? undefined;
  const { wasm, dataIdMap } = b as WasmBackendInternals;
  const kernels = simdKernels(wasm.asm.memory);
  const heap: WasmHeap | null = kernels
    ? {
      kernels,
      offset: (info) => {
        const data = dataIdMap.get(info.dataId);
        if (!data) throw new Error('tensor data is not in the wasm heap');
        return data.memoryOffset;
      },
      malloc: (bytes) => wasm._malloc(bytes),
      free: (pointer) => wasm._free(pointer),
      floats: (pointer, count) => new Float32Array(wasm.asm.memory.buffer, pointer, count),
    }
    : null;
  heaps.set(backend as object, heap);
  return heap ?? undefined;
}
