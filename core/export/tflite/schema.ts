/**
 * Facts from the public TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs, schema version 3): the file
 * identifier, enum values, union member order and each table's field order. A flatbuffer field's vtable slot is its
 * position in the table declaration; a union field takes two slots (the `_type` byte, then the table offset).
 * Both the writer (serialize.ts) and the reader (reader.ts) take slots from here, so they cannot disagree.
 */

export const TFLITE_FILE_IDENTIFIER = 'TFL3';
export const TFLITE_SCHEMA_VERSION = 3;

/** `enum TensorType : byte`. */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
  COMPLEX128: 11,
  UINT64: 12,
  RESOURCE: 13,
  VARIANT: 14,
  UINT32: 15,
  UINT16: 16,
  INT4: 17,
} as const;
export type TensorTypeCode = (typeof TensorType)[keyof typeof TensorType];

export const TENSOR_TYPE_NAMES: readonly string[] = Object.keys(TensorType).map((name) => name.toLowerCase());

/** `enum Padding : byte { SAME, VALID }`. */
export const PaddingCode = { SAME: 0, VALID: 1 } as const;

/** `enum ActivationFunctionType : byte`. */
export const ActivationCode = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;
export const ACTIVATION_NAMES: readonly string[] = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

/**
 * `enum BuiltinOperator : int32`, codes 0..161 in order (index = code). The schema comments out code 5 in old
 * versions; it is DEPTH_TO_SPACE now. Codes past the end of this list are shown as BUILTIN_<code> by the reader.
 */
export const BUILTIN_OPERATOR_NAMES: readonly string[] = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU', 'RELU_N1_TO_1',
  'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH', 'CONCAT_EMBEDDINGS',
  'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD', 'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER',
  'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN', 'SUB', 'DIV', 'SQUEEZE',
  'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN', 'EXP', 'TOPK_V2', 'SPLIT',
  'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU', 'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS',
  'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL', 'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV',
  'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL', 'NOT_EQUAL', 'LOG', 'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW',
  'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX', 'PACK', 'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND', 'LOGICAL_NOT',
  'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV', 'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD', 'RANGE',
  'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU', 'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE', 'CEIL',
  'REVERSE_V2', 'ADD_N', 'GATHER_ND', 'COS', 'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE',
  'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF', 'WHILE', 'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5',
  'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL', 'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM',
  'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D', 'CONV_3D', 'IMAG', 'REAL', 'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND',
  'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL', 'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE',
  'ASSIGN_VARIABLE', 'BROADCAST_ARGS', 'RANDOM_STANDARD_NORMAL', 'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU',
  'DYNAMIC_UPDATE_SLICE', 'RELU_0_TO_1', 'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM',
  'ATAN2', 'UNSORTED_SEGMENT_MIN', 'SIGN', 'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT',
];

/** The builtin operators this writer emits, with their `BuiltinOperator` codes. */
export const BuiltinOperator = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  SOFTMAX: 25,
  PAD: 34,
  MEAN: 40,
  STRIDED_SLICE: 45,
  SLICE: 65,
  RESIZE_NEAREST_NEIGHBOR: 97,
  QUANTIZE: 114,
  HARD_SWISH: 117,
} as const;
export type BuiltinOperatorName = keyof typeof BuiltinOperator;

/** Codes at or above this value do not fit `OperatorCode.deprecated_builtin_code` (a byte). */
export const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

export function builtinOperatorName(code: number): string {
  return BUILTIN_OPERATOR_NAMES[code] ?? `BUILTIN_${code}`;
}

/** `union BuiltinOptions` members in declaration order; the union type value is (index + 1), 0 = NONE. */
export const BUILTIN_OPTIONS_NAMES: readonly string[] = [
  'Conv2DOptions', 'DepthwiseConv2DOptions', 'ConcatEmbeddingsOptions', 'LSHProjectionOptions', 'Pool2DOptions',
  'SVDFOptions', 'RNNOptions', 'FullyConnectedOptions', 'SoftmaxOptions', 'ConcatenationOptions', 'AddOptions',
  'L2NormOptions', 'LocalResponseNormalizationOptions', 'LSTMOptions', 'ResizeBilinearOptions', 'CallOptions',
  'ReshapeOptions', 'SkipGramOptions', 'SpaceToDepthOptions', 'EmbeddingLookupSparseOptions', 'MulOptions',
  'PadOptions', 'GatherOptions', 'BatchToSpaceNDOptions', 'SpaceToBatchNDOptions', 'TransposeOptions',
  'ReducerOptions', 'SubOptions', 'DivOptions', 'SqueezeOptions', 'SequenceRNNOptions', 'StridedSliceOptions',
  'ExpOptions', 'TopKV2Options', 'SplitOptions', 'LogSoftmaxOptions', 'CastOptions', 'DequantizeOptions',
  'MaximumMinimumOptions', 'ArgMaxOptions', 'LessOptions', 'NegOptions', 'PadV2Options', 'GreaterOptions',
  'GreaterEqualOptions', 'LessEqualOptions', 'SelectOptions', 'SliceOptions', 'TransposeConvOptions',
  'SparseToDenseOptions', 'TileOptions', 'ExpandDimsOptions', 'EqualOptions', 'NotEqualOptions', 'ShapeOptions',
  'PowOptions', 'ArgMinOptions', 'FakeQuantOptions', 'PackOptions', 'LogicalOrOptions', 'OneHotOptions',
  'LogicalAndOptions', 'LogicalNotOptions', 'UnpackOptions', 'FloorDivOptions', 'SquareOptions', 'ZerosLikeOptions',
  'FillOptions', 'BidirectionalSequenceLSTMOptions', 'BidirectionalSequenceRNNOptions',
  'UnidirectionalSequenceLSTMOptions', 'FloorModOptions', 'RangeOptions', 'ResizeNearestNeighborOptions',
  'LeakyReluOptions', 'SquaredDifferenceOptions', 'MirrorPadOptions', 'AbsOptions', 'SplitVOptions', 'UniqueOptions',
  'ReverseV2Options', 'AddNOptions', 'GatherNdOptions', 'CosOptions', 'WhereOptions', 'RankOptions',
  'ReverseSequenceOptions', 'MatrixDiagOptions', 'QuantizeOptions', 'MatrixSetDiagOptions', 'HardSwishOptions',
];

export function builtinOptionsTypeOf(name: OptionsTableName): number {
  const index = BUILTIN_OPTIONS_NAMES.indexOf(name);
  if (index < 0) throw new Error(`schema: ${name} is not a BuiltinOptions member`);
  return index + 1;
}

export function builtinOptionsName(type: number): string {
  if (type === 0) return 'NONE';
  return BUILTIN_OPTIONS_NAMES[type - 1] ?? `BuiltinOptions_${type}`;
}

/** Scalar kinds used in options tables; enums stored as a byte are `int8`. */
export type OptionsFieldKind = 'int8' | 'bool' | 'int32' | 'float32' | 'int32[]';

export interface OptionsFieldSpec {
  readonly name: string;
  readonly kind: OptionsFieldKind;
  /** The schema default (a field equal to it may be omitted from the buffer). */
  readonly defaultValue?: number | boolean;
}

const f = (name: string, kind: OptionsFieldKind, defaultValue?: number | boolean): OptionsFieldSpec =>
  defaultValue === undefined ? { name, kind } : { name, kind, defaultValue };

/** Field order of the options tables for the operators we write (and can summarize when reading). */
export const OPTIONS_TABLES = {
  Conv2DOptions: [
    f('padding', 'int8'), f('stride_w', 'int32'), f('stride_h', 'int32'), f('fused_activation_function', 'int8'),
    f('dilation_w_factor', 'int32', 1), f('dilation_h_factor', 'int32', 1), f('quantized_bias_type', 'int8'),
  ],
  DepthwiseConv2DOptions: [
    f('padding', 'int8'), f('stride_w', 'int32'), f('stride_h', 'int32'), f('depth_multiplier', 'int32'),
    f('fused_activation_function', 'int8'), f('dilation_w_factor', 'int32', 1), f('dilation_h_factor', 'int32', 1),
  ],
  Pool2DOptions: [
    f('padding', 'int8'), f('stride_w', 'int32'), f('stride_h', 'int32'), f('filter_width', 'int32'),
    f('filter_height', 'int32'), f('fused_activation_function', 'int8'),
  ],
  FullyConnectedOptions: [
    f('fused_activation_function', 'int8'), f('weights_format', 'int8'), f('keep_num_dims', 'bool'),
    f('asymmetric_quantize_inputs', 'bool'), f('quantized_bias_type', 'int8'),
  ],
  SoftmaxOptions: [f('beta', 'float32')],
  ConcatenationOptions: [f('axis', 'int32'), f('fused_activation_function', 'int8')],
  AddOptions: [f('fused_activation_function', 'int8'), f('pot_scale_int16', 'bool', true)],
  MulOptions: [f('fused_activation_function', 'int8')],
  ReshapeOptions: [f('new_shape', 'int32[]')],
  PadOptions: [],
  ReducerOptions: [f('keep_dims', 'bool')],
  StridedSliceOptions: [
    f('begin_mask', 'int32'), f('end_mask', 'int32'), f('ellipsis_mask', 'int32'), f('new_axis_mask', 'int32'),
    f('shrink_axis_mask', 'int32'), f('offset', 'bool'),
  ],
  SliceOptions: [],
  ResizeNearestNeighborOptions: [f('align_corners', 'bool'), f('half_pixel_centers', 'bool')],
  HardSwishOptions: [],
} as const satisfies Record<string, readonly OptionsFieldSpec[]>;
export type OptionsTableName = keyof typeof OPTIONS_TABLES;

/** Vtable slots of the main tables (field position in the schema; unions take two slots). */
export const ModelField = {
  version: 0,
  operator_codes: 1,
  subgraphs: 2,
  description: 3,
  buffers: 4,
  metadata_buffer: 5,
  metadata: 6,
  signature_defs: 7,
} as const;

export const OperatorCodeField = { deprecated_builtin_code: 0, custom_code: 1, version: 2, builtin_code: 3 } as const;

export const SubGraphField = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;

export const TensorField = {
  shape: 0,
  type: 1,
  buffer: 2,
  name: 3,
  quantization: 4,
  is_variable: 5,
  sparsity: 6,
  shape_signature: 7,
  has_rank: 8,
  variant_tensors: 9,
} as const;

export const OperatorField = {
  opcode_index: 0,
  inputs: 1,
  outputs: 2,
  builtin_options_type: 3,
  builtin_options: 4,
  custom_options: 5,
  custom_options_format: 6,
  mutating_variable_inputs: 7,
  intermediates: 8,
  large_custom_options_offset: 9,
  large_custom_options_size: 10,
  builtin_options_2_type: 11,
  builtin_options_2: 12,
} as const;

export const BufferField = { data: 0, offset: 1, size: 2 } as const;

/**
 * `table QuantizationParameters`: min, max, scale, zero_point (a vector of long), details (a union: two slots),
 * quantized_dimension.
 */
export const QuantizationField = {
  min: 0,
  max: 1,
  scale: 2,
  zero_point: 3,
  details_type: 4,
  details: 5,
  quantized_dimension: 6,
} as const;

export const SignatureDefField = {
  inputs: 0,
  outputs: 1,
  signature_key: 2,
  deprecated_tag: 3,
  subgraph_index: 4,
} as const;

export const TensorMapField = { name: 0, tensor_index: 1 } as const;

/** `Buffer.data` is declared with `force_align: 16`. */
export const BUFFER_DATA_ALIGNMENT = 16;
