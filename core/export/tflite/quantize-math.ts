import { ValidationError } from '../../errors.ts';

/**
 * The arithmetic of TFLite's int8 quantization spec (tensorflow.org/lite/performance/quantization_spec):
 * real = (q − zero_point) · scale. Activations: per tensor, asymmetric, q in [−128, 127], zero point in
 * [−128, 127], and 0.0 exactly representable (it is the zero point). Weights: symmetric (zero point 0), q in
 * [−127, 127], one scale per output channel for convolutions. Biases: int32, zero point 0,
 * scale = input_scale · weight_scale of their channel.
 */
export interface ValueRange {
  readonly min: number;
  readonly max: number;
}

export interface AffineParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

export const INT8_MIN = -128;
export const INT8_MAX = 127;
const INT32_LIMIT = 2 ** 31 - 1;
/** The narrowest range an activation gets: an all-zero tensor (a dead layer) still needs a positive scale. */
const MIN_RANGE_WIDTH = 1e-3;

/** int8 activation parameters covering `range` (widened to include 0). */
export function activationParams(range: ValueRange, what: string): AffineParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new ValidationError(
      `cannot quantize ${what}: its calibrated range [${range.min}, ${range.max}] is not a finite interval ` +
        '(the float network produced NaN or infinite values on the calibration images)',
    );
  }
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0, lo + MIN_RANGE_WIDTH);
  const scale = (hi - lo) / (INT8_MAX - INT8_MIN);
  const zeroPoint = clamp(roundHalfAway(INT8_MIN - lo / scale), INT8_MIN, INT8_MAX);
  return { scale, zeroPoint };
}

export function quantizeValue(value: number, p: AffineParams): number {
  return clamp(roundHalfAway(value / p.scale) + p.zeroPoint, INT8_MIN, INT8_MAX);
}

export function dequantizeValue(q: number, p: AffineParams): number {
  return (q - p.zeroPoint) * p.scale;
}

export interface PerChannelWeights {
  readonly data: Int8Array;
  readonly scales: number[];
}

/**
 * Symmetric int8 weights with one scale per slice along `axis`: scale_c = max|w_c| / 127. A channel's scale is
 * raised where needed so that its int32 bias (scale input_scale · scale_c) cannot overflow; an all-zero channel takes
 * the largest scale of the others (any positive scale represents it exactly).
 */
export function quantizePerChannel(
  values: Float32Array,
  shape: readonly number[],
  axis: number,
  bias?: { readonly values: Float32Array; readonly inputScale: number },
): PerChannelWeights {
  const channels = shape[axis] ?? 0;
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c] as number, Math.abs(values[i] as number));
  }
  const scales = Array.from(maxAbs, (m, c) => {
    const weightScale = m / INT8_MAX;
    const biasValue = bias ? Math.abs(bias.values[c] ?? 0) : 0;
    const biasScale = bias && biasValue > 0 ? biasValue / (bias.inputScale * INT32_LIMIT) : 0;
    return Math.max(weightScale, biasScale);
  });
  const fallback = Math.max(...scales.filter((s) => s > 0), 1 / INT8_MAX);
  for (let c = 0; c < channels; c++) if (!(scales[c]! > 0)) scales[c] = fallback;
  const data = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    data[i] = clamp(roundHalfAway((values[i] as number) / (scales[channelOf(i)] as number)), -INT8_MAX, INT8_MAX);
  }
  return { data, scales };
}

/** Symmetric int8 with one scale for the whole tensor (a constant operand of ADD or MUL). */
export function quantizePerTensor(values: Float32Array): PerChannelWeights {
  return quantizePerChannel(values, [1, values.length], 0);
}

/** int32 biases: round(b_c / (input_scale · weight_scale_c)). */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: readonly number[]): { data: Int32Array; scales: number[] } {
  const scales = Array.from(bias, (_, c) => inputScale * (weightScales.length === 1 ? weightScales[0]! : weightScales[c]!));
  const data = new Int32Array(bias.length);
  bias.forEach((b, c) => {
    data[c] = clamp(roundHalfAway(b / (scales[c] as number)), -INT32_LIMIT, INT32_LIMIT);
  });
  return { data, scales };
}

/** std::round, as TFLite's kernels round (JavaScript's Math.round rounds −0.5 up). */
function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
