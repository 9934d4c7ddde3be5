/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (which lacks it).
 *
 * dW[i, j, c, k] = Σ_{n, y, x} xPadded[n, y·sh + i, x·sw + j, c] · dy[n, y, x, c·m + k]
 *
 * One pass over the output gradient in the heap (wasm SIMD rows of taps, or JavaScript), float64 across images: the
 * earlier formulation as a "roles swapped" depthwise conv (each (image, channel) pair a channel, dy the filter at
 * dilation = stride) ran XNNPACK with a filter as large as the output map, which it handles poorly — the kernel took
 * ~10× its forward conv and was the largest single cost of a MobileNet training step (bench/train-step-profile.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import { requireShape } from './conv-geometry.ts';
import { allocFloat32, viewFloat32, wasmHeap, type WasmHeap } from './host-memory.ts';
import { requireUnitDilations } from './kernel-tensors.ts';

const KERNEL = 'DepthwiseConv2dNativeBackpropFilter';

const depthwiseBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs & NamedAttrMap;
  requireUnitDilations(KERNEL, a.dilations);
  const x = inputs['x'];
  const dy = inputs['dy'];
  if (!x || !dy) throw new Error(`${KERNEL}: missing input '${x ? 'dy' : 'x'}'.`);
  if (x.shape.length !== 4) throw new Error(`${KERNEL}: input 'x' must be rank 4, got shape [${x.shape.join(', ')}].`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, true,
  );
  requireShape(KERNEL, 'dy', dy.shape, info.outShape);
  const [kh, kw, channels, multiplier] = a.filterShape;
  const result = allocFloat32(backend, [kh, kw, channels, multiplier]);
  const heap = wasmHeap(backend);
  const sums = heap && multiplier === 1 && channels % 4 === 0
    ? accumulateSimd(heap, heap.offset(x), heap.offset(dy), info, kh, kw, channels)
    : accumulate(viewFloat32(backend, x), viewFloat32(backend, dy), info, kh, kw, channels, multiplier);
  viewFloat32(backend, result).set(sums);
  return result;
};

function accumulate(
  xs: Float32Array, dys: Float32Array, info: ReturnType<typeof tf.backend_util.computeConv2DInfo>,
  kh: number, kw: number, channels: number, multiplier: number,
): Float64Array {
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const cm = channels * multiplier;
  const sums = new Float64Array(kh * kw * cm);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        const dyBase = ((b * oh + y) * ow + xo) * cm;
        for (let i = 0; i < kh; i++) {
          const iy = y * sh + i - top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = xo * sw + j - left;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((b * h + iy) * w + ix) * channels;
            const sBase = (i * kw + j) * cm;
            if (multiplier === 1) {
              for (let c = 0; c < channels; c++) sums[sBase + c] = (sums[sBase + c] as number) + (xs[xBase + c] as number) * (dys[dyBase + c] as number);
            } else {
              for (let c = 0; c < channels; c++) {
                const v = xs[xBase + c] as number;
                for (let k = 0; k < multiplier; k++) {
                  const s = sBase + c * multiplier + k;
                  sums[s] = (sums[s] as number) + v * (dys[dyBase + c * multiplier + k] as number);
                }
              }
            }
          }
        }
      }
    }
  }
  return sums;
}

/** Multiplier 1, channels a multiple of 4: per image and tap, SIMD row sums into a float32 scratch, then float64. */
function accumulateSimd(
  heap: WasmHeap, x: number, dy: number, info: ReturnType<typeof tf.backend_util.computeConv2DInfo>, kh: number, kw: number, c: number,
): Float64Array {
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const taps = kh * kw * c;
  const sums = new Float64Array(taps);
  const scratch = heap.malloc(4 * taps);
  try {
    const acc = heap.floats(scratch, taps);
    // Valid output columns for tap column j: ix = xo·sw + j − left ∈ [0, w).
    const firstCol = (j: number) => Math.max(0, Math.ceil((left - j) / sw));
    const endCol = (j: number) => Math.min(ow, Math.floor((w - 1 + left - j) / sw) + 1);
    for (let b = 0; b < n; b++) {
      acc.fill(0);
      for (let y = 0; y < oh; y++) {
        for (let i = 0; i < kh; i++) {
          const iy = y * sh + i - top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const x0 = firstCol(j);
            const count = endCol(j) - x0;
            if (count <= 0) continue;
            const xPtr = x + 4 * (((b * h + iy) * w + x0 * sw + j - left) * c);
            const dyPtr = dy + 4 * (((b * oh + y) * ow + x0) * c);
            heap.kernels.depthwiseFilterAccumulate(xPtr, dyPtr, count, 4 * sw * c, c, scratch + 4 * (i * kw + j) * c);
          }
        }
      }
      for (let t = 0; t < taps; t++) sums[t] = (sums[t] as number) + (acc[t] as number);
    }
  } finally {
    heap.free(scratch);
  }
  return sums;
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter,
};
