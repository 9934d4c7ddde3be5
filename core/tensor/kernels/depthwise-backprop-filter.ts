/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (which lacks it).
 *
 * dW[i, j, c, k] = Σ_{n, y, x} xPadded[n, y·sh + i, x·sw + j, c] · dy[n, y, x, c·m + k]
 *
 * One JavaScript pass over the output gradient, reading the wasm heap directly and accumulating in float64: the
 * earlier formulation as a "roles swapped" depthwise conv (each (image, channel) pair a channel, dy the filter at
 * dilation = stride) ran XNNPACK with a filter as large as the output map, which it handles poorly — the kernel took
 * ~10× its forward conv and was the largest single cost of a MobileNet training step (bench/train-step-profile.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import { requireShape } from './conv-geometry.ts';
import { allocFloat32, viewFloat32 } from './host-memory.ts';
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
  const sums = accumulate(viewFloat32(backend, x), viewFloat32(backend, dy), info, kh, kw, channels, multiplier);
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

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter,
};
