import type { BuiltinOperatorName } from './schema.ts';

/**
 * Operator versions of int8 operators, from TFLite's versioning rules (tensorflow/lite/tools/versioning/
 * op_version.cc, GetBuiltinOperatorVersion): a runtime refuses a model whose operator version it does not know, and
 * an int8 kernel is only registered at the version that introduced it. Float operators stay at version 1.
 */
const INT8_VERSIONS: Partial<Record<BuiltinOperatorName, number>> = {
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 3,
  FULLY_CONNECTED: 4,
  ADD: 2,
  MUL: 2,
  AVERAGE_POOL_2D: 2,
  MAX_POOL_2D: 2,
  CONCATENATION: 2,
  SOFTMAX: 2,
  MEAN: 2,
  PAD: 2,
  SLICE: 2,
  STRIDED_SLICE: 2,
  RESIZE_NEAREST_NEIGHBOR: 2,
  LOGISTIC: 2,
  RELU: 2,
  RELU6: 2,
  DEQUANTIZE: 2,
  // RESHAPE, HARD_SWISH and QUANTIZE (float -> int8, per tensor) keep version 1.
};

/**
 * The version an operator needs given the type of its first input. MUL whose rescale factor
 * input1_scale · input2_scale / output_scale is at least 1 needs version 3.
 */
export function operatorVersion(op: BuiltinOperatorName, firstInputType: string, mulRescale?: number): number {
  if (firstInputType !== 'int8') return 1;
  if (op === 'MUL' && mulRescale !== undefined && mulRescale >= 1) return 3;
  return INT8_VERSIONS[op] ?? 1;
}
