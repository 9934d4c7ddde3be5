import type { CheckedFlatbuffer, CheckedTable } from './checked-flatbuffer.ts';
import { QuantizationField } from './schema.ts';

/**
 * Reading and checking tensors' quantization parameters (TFLite's QuantizationParameters table) against the int8
 * quantization spec, so that a model with impossible parameters is refused with a message naming the tensor instead
 * of producing garbage in a runtime: scales must be positive and finite, zero points inside the tensor type's range
 * (0 for int16/int32/int64), one scale per slice of `quantized_dimension` for per-axis parameters, and the biases of
 * quantized convolutions / fully-connected layers int32 with scale input_scale · weight_scale.
 */
export interface QuantizationInfo {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

interface TensorLike {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: string;
  readonly quantization?: QuantizationInfo;
}

interface OperatorLike {
  readonly index: number;
  readonly opcode: string;
  readonly inputs: readonly number[];
}

const ZERO_POINT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [0, 0],
  int32: [0, 0],
  int64: [0, 0],
};

/** Relative tolerance on bias scale = input scale · weight scale (float32 rounding of each factor). */
const BIAS_SCALE_TOLERANCE = 1e-5;

/** The tensor's quantization parameters, or undefined when it has none (no table, or no scales). */
export function readQuantization(
  buf: CheckedFlatbuffer,
  table: CheckedTable | null,
  tensor: { readonly index: number; readonly name: string; readonly shape: readonly number[]; readonly type: string },
  where: string,
): QuantizationInfo | undefined {
  if (!table) return undefined;
  const scale = table.float32Vector(QuantizationField.scale, 'scale') ?? [];
  const zeroPoint = table.int64Vector(QuantizationField.zero_point, 'zero_point') ?? [];
  const quantizedDimension = table.i32(QuantizationField.quantized_dimension, 'quantized_dimension');
  if (scale.length === 0 && zeroPoint.length === 0) return undefined;
  const label = `${where}: tensor ${tensor.index} (${tensor.name})`;
  if (zeroPoint.length !== 0 && zeroPoint.length !== scale.length) {
    buf.fail(`${label} has ${scale.length} quantization scales but ${zeroPoint.length} zero points`);
  }
  scale.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0)) buf.fail(`${label}: quantization scale[${i}] = ${s} is not a positive finite number`);
  });
  const zeros = zeroPoint.length === 0 ? scale.map(() => 0) : zeroPoint;
  const allowed = ZERO_POINT_RANGE[tensor.type];
  if (allowed) {
    zeros.forEach((z, i) => {
      if (z < allowed[0] || z > allowed[1]) {
        buf.fail(`${label}: zero point[${i}] = ${z} is outside the range of a ${tensor.type} tensor [${allowed[0]}, ${allowed[1]}]`);
      }
    });
  }
  if (scale.length > 1) {
    if (quantizedDimension < 0 || quantizedDimension >= tensor.shape.length) {
      buf.fail(`${label}: quantized_dimension ${quantizedDimension} is not a dimension of its shape [${tensor.shape.join(',')}]`);
    }
    const slices = tensor.shape[quantizedDimension];
    if (slices !== scale.length) {
      buf.fail(`${label} has ${scale.length} per-axis scales, but dimension ${quantizedDimension} of its shape [${tensor.shape.join(',')}] has ${slices} slices`);
    }
  }
  return { scale, zeroPoint: zeros, quantizedDimension };
}

/** Checks what one tensor cannot: integer tensors of arithmetic operators carry parameters, biases match. */
export function checkQuantizedOperators(buf: CheckedFlatbuffer, tensors: readonly TensorLike[], operators: readonly OperatorLike[], where: string): void {
  const label = (t: TensorLike): string => `tensor ${t.index} (${t.name})`;
  for (const op of operators) {
    if (op.opcode !== 'CONV_2D' && op.opcode !== 'DEPTHWISE_CONV_2D' && op.opcode !== 'FULLY_CONNECTED') continue;
    const [input, weights, bias] = op.inputs.map((i) => (i >= 0 ? tensors[i] : undefined));
    if (!input || input.type !== 'int8') continue;
    const what = `${where}: operator ${op.index} (${op.opcode}) has an int8 input`;
    const inputQ = input.quantization;
    if (!inputQ) buf.fail(`${what}, but its input ${label(input)} has no quantization parameters`);
    if (!weights || weights.type !== 'int8' || !weights.quantization) {
      buf.fail(`${what}, so its weights${weights ? ` ${label(weights)}` : ''} must be int8 with quantization parameters`);
    }
    if (weights.quantization.zeroPoint.some((z) => z !== 0)) buf.fail(`${what}: its weights ${label(weights)} must be symmetric (zero points 0)`);
    if (!bias) continue;
    if (bias.type !== 'int32') buf.fail(`${what}, so its bias ${label(bias)} must be int32, not ${bias.type}`);
    const biasQ = bias.quantization;
    if (!biasQ) buf.fail(`${what}, but its bias ${label(bias)} has no quantization parameters`);
    const weightScales = weights.quantization.scale;
    const channels = bias.shape[0] ?? 0;
    for (let c = 0; c < channels; c++) {
      const expected = (inputQ.scale[0] as number) * (weightScales.length === 1 ? weightScales[0]! : (weightScales[c] ?? NaN));
      const actual = biasQ.scale.length === 1 ? biasQ.scale[0]! : (biasQ.scale[c] ?? NaN);
      if (!(Math.abs(actual - expected) <= BIAS_SCALE_TOLERANCE * expected)) {
        buf.fail(`${where}: the bias ${label(bias)} of operator ${op.index} (${op.opcode}) has scale[${c}] = ${actual}, but input scale × weight scale = ${expected}`);
      }
    }
  }
}
