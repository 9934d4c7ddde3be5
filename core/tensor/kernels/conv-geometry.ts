/**
 * Shape and padding arithmetic shared by the convolution gradient kernels (NHWC, dilation 1).
 */
import * as tf from '@tensorflow/tfjs';

export type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

export interface SidePads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** The padding form tf.conv2d / tf.depthwiseConv2d accept for NHWC; every side must be ≥ 0. */
export function explicitPadding(p: SidePads): ExplicitPadding {
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

export function requireShape(kernel: string, name: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${kernel}: '${name}' has shape [${actual.join(', ')}], expected [${expected.join(', ')}].`);
  }
}

/**
 * Input padding for the "swapped roles" filter-gradient correlation: the forward padding on top/left, and on the
 * bottom/right only what the last output sample reaches. Output rows beyond the filter size (when the forward conv
 * ignores trailing input rows) are cropped by the caller.
 */
export function filterGradientPadding(info: ConvInfo): SidePads {
  const { top, left } = info.padInfo;
  return {
    top,
    left,
    bottom: Math.max(0, (info.outHeight - 1) * info.strideHeight + info.filterHeight - info.inHeight - top),
    right: Math.max(0, (info.outWidth - 1) * info.strideWidth + info.filterWidth - info.inWidth - left),
  };
}

/**
 * Spreads an output gradient dy [N, outH, outW, C] back onto the input grid so that a stride-1 correlation with the
 * spatially flipped filter and the returned padding yields exactly [N, inH, inW, ·]:
 * samples land stride apart (zeros between), then the grid is cropped where the "full" padding would be negative.
 */
export function spreadOutputGradient(dy: tf.Tensor4D, info: ConvInfo): { spread: tf.Tensor4D; padding: SidePads } {
  const [n, outH, outW, c] = dy.shape;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  let spread = sh === 1 && sw === 1 ? dy : zeroStuff(dy, sh, sw);
  // Grid length after stuffing is out·stride (stride-1 trailing zeros); the full correlation needs inH + kh - 1.
  const pads: SidePads = {
    top: kh - 1 - info.padInfo.top,
    left: kw - 1 - info.padInfo.left,
    bottom: info.inHeight + info.padInfo.top - outH * sh,
    right: info.inWidth + info.padInfo.left - outW * sw,
  };
  const cropTop = Math.max(0, -pads.top);
  const cropLeft = Math.max(0, -pads.left);
  const cropBottom = Math.max(0, -pads.bottom);
  const cropRight = Math.max(0, -pads.right);
  if (cropTop + cropLeft + cropBottom + cropRight > 0) {
    spread = tf.slice(spread, [0, cropTop, cropLeft, 0], [
      n,
      outH * sh - cropTop - cropBottom,
      outW * sw - cropLeft - cropRight,
      c,
    ]);
  }
  return {
    spread,
    padding: {
      top: Math.max(0, pads.top),
      left: Math.max(0, pads.left),
      bottom: Math.max(0, pads.bottom),
      right: Math.max(0, pads.right),
    },
  };
}

/** [N, H, W, C] → [N, H·sh, W·sw, C] with each sample followed by sh-1 zero rows and sw-1 zero columns. */
function zeroStuff(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  const padded = tf.pad(t.reshape([n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return padded.reshape([n, h * sh, w * sw, c]);
}
