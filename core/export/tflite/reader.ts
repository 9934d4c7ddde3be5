import { CheckedFlatbuffer, type CheckedTable } from './checked-flatbuffer.ts';
import { checkQuantizedOperators, readQuantization, type QuantizationInfo } from './quantization-check.ts';
import {
  ACTIVATION_NAMES,
  BufferField,
  ModelField,
  OPTIONS_TABLES,
  OperatorCodeField,
  OperatorField,
  SignatureDefField,
  SubGraphField,
  TENSOR_TYPE_NAMES,
  TFLITE_FILE_IDENTIFIER,
  TFLITE_SCHEMA_VERSION,
  TensorField,
  builtinOperatorName,
  builtinOptionsName,
  type OptionsFieldSpec,
} from './schema.ts';

/**
 * Parses a .tflite flatbuffer into a plain summary (for `netadapt inspect`, round-trip tests and sanity checks
 * before a model goes to a runtime or a phone). Every offset is bounds-checked; anything malformed — empty or
 * truncated file, wrong identifier, offsets or indices out of range — throws FileFormatError, never RangeError.
 *
 * Policy on the file identifier: it is required. Every TFLite writer (the converter, flatbuffers' generated
 * FinishModelBuffer, this project) writes "TFL3", and TFLite's own verifier rejects buffers without it, so a file
 * without it is far more likely to be something else than an old model.
 */
export interface TfliteModelInfo {
  readonly fileSize: number;
  readonly version: number;
  readonly description: string | null;
  readonly operatorCodes: readonly OperatorCodeInfo[];
  readonly subgraphs: readonly SubgraphInfo[];
  /** Where each buffer's bytes are in the file (`bytes.subarray(offset, offset + size)`); buffer 0 is empty. */
  readonly buffers: readonly BufferInfo[];
  readonly buffersCount: number;
  readonly signatureKeys: readonly string[];
}

export interface OperatorCodeInfo {
  /** Builtin operator name (e.g. "CONV_2D"), "CUSTOM:<code>" for custom ops. */
  readonly name: string;
  readonly builtinCode: number;
  readonly version: number;
}

export interface BufferInfo {
  readonly offset: number;
  readonly size: number;
}

export interface TensorInfo {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  /** Lower-case TensorType name ("float32", "int32", ...). */
  readonly type: string;
  readonly bufferIndex: number;
  /** Bytes of constant data (0 for activations and inputs). */
  readonly bufferSize: number;
  /** Scales and zero points (real = (q − zero point) · scale), when the tensor is quantized. */
  readonly quantization?: QuantizationInfo;
}

export type { QuantizationInfo } from './quantization-check.ts';

export type OptionsSummaryValue = number | boolean | string | readonly number[];

export interface OperatorInfo {
  readonly index: number;
  readonly opcodeIndex: number;
  readonly opcode: string;
  /** -1 marks an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** BuiltinOptions member name ("Conv2DOptions") or "NONE". */
  readonly optionsType: string;
  /** Decoded fields for the options tables this project writes (padding/activation as names); else empty. */
  readonly options: Readonly<Record<string, OptionsSummaryValue>>;
}

export interface SubgraphInfo {
  readonly name: string | null;
  readonly tensors: readonly TensorInfo[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly OperatorInfo[];
}

const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  float32: 4, float16: 2, int32: 4, uint8: 1, int64: 8, bool: 1, int16: 2, int8: 1, float64: 8, uint64: 8,
  uint32: 4, uint16: 2,
};

/** `label` names the file in error messages (e.g. its path). */
export function readTfliteModel(bytes: Uint8Array, label = 'the file'): TfliteModelInfo {
  const buf = new CheckedFlatbuffer(bytes, label);
  if (bytes.length === 0) buf.fail('it is empty');
  if (bytes.length < 8) buf.fail(`it is only ${bytes.length} bytes long`);
  const identifier = String.fromCharCode(...bytes.subarray(4, 8));
  if (identifier !== TFLITE_FILE_IDENTIFIER) {
    buf.fail(`its file identifier is ${JSON.stringify(identifier)}, expected "${TFLITE_FILE_IDENTIFIER}"`);
  }
  const model = buf.table(buf.deref(0, 'root table offset'), 'Model');

  const version = model.u32(ModelField.version, 'version');
  if (version !== TFLITE_SCHEMA_VERSION) {
    buf.fail(`schema version ${version} is not supported (expected ${TFLITE_SCHEMA_VERSION})`);
  }
  const buffers = (model.tableVector(ModelField.buffers, 'buffers') ?? []).map((t) => readBuffer(buf, t));
  const operatorCodes = (model.tableVector(ModelField.operator_codes, 'operator_codes') ?? []).map(readOperatorCode);
  const subgraphTables = model.tableVector(ModelField.subgraphs, 'subgraphs') ?? [];
  if (subgraphTables.length === 0) buf.fail('it has no subgraphs');
  const subgraphs = subgraphTables.map((t, i) => readSubgraph(buf, t, i, operatorCodes, buffers));
  const signatureKeys = (model.tableVector(ModelField.signature_defs, 'signature_defs') ?? []).map(
    (t) => t.string(SignatureDefField.signature_key, 'signature_key') ?? '',
  );

  return {
    fileSize: bytes.length,
    version,
    description: model.string(ModelField.description, 'description'),
    operatorCodes,
    subgraphs,
    buffers,
    buffersCount: buffers.length,
    signatureKeys,
  };
}

function readBuffer(buf: CheckedFlatbuffer, t: CheckedTable): BufferInfo {
  const data = t.vector(BufferField.data, 1, 'data');
  if (data) return { offset: data.start, size: data.length };
  // Models over 2 GB keep buffer data after the flatbuffer; offset/size are then relative to the file start.
  const offset = t.u64(BufferField.offset, 'offset');
  const size = t.u64(BufferField.size, 'size');
  if (offset > 1n) {
    if (offset + size > BigInt(buf.size)) buf.fail(`${t.what} points past the end of the file`);
    return { offset: Number(offset), size: Number(size) };
  }
  return { offset: 0, size: 0 };
}

function readOperatorCode(t: CheckedTable): OperatorCodeInfo {
  // TFLite takes the larger of the two fields: old files only set the byte, new ones set both.
  const deprecated = t.i8(OperatorCodeField.deprecated_builtin_code, 'deprecated_builtin_code');
  const extended = t.i32(OperatorCodeField.builtin_code, 'builtin_code');
  const builtinCode = Math.max(deprecated, extended);
  const version = t.i32(OperatorCodeField.version, 'version', 1);
  const custom = t.string(OperatorCodeField.custom_code, 'custom_code');
  const name = builtinOperatorName(builtinCode);
  return { name: name === 'CUSTOM' && custom !== null ? `CUSTOM:${custom}` : name, builtinCode, version };
}

function readSubgraph(
  buf: CheckedFlatbuffer,
  t: CheckedTable,
  index: number,
  operatorCodes: readonly OperatorCodeInfo[],
  buffers: readonly BufferInfo[],
): SubgraphInfo {
  const where = `subgraph ${index}`;
  const tensors = (t.tableVector(SubGraphField.tensors, 'tensors') ?? []).map((tensor, i) =>
    readTensor(buf, tensor, i, buffers, where),
  );
  const checkTensorIndex = (value: number, what: string, allowOmitted: boolean): void => {
    if (allowOmitted && value === -1) return;
    if (value < 0 || value >= tensors.length) {
      buf.fail(`${where}: ${what} refers to tensor ${value}, but there are ${tensors.length} tensors`);
    }
  };
  const inputs = t.int32Vector(SubGraphField.inputs, 'inputs') ?? [];
  const outputs = t.int32Vector(SubGraphField.outputs, 'outputs') ?? [];
  inputs.forEach((v) => checkTensorIndex(v, 'an input', false));
  outputs.forEach((v) => checkTensorIndex(v, 'an output', false));

  const operators = (t.tableVector(SubGraphField.operators, 'operators') ?? []).map((op, i): OperatorInfo => {
    const opcodeIndex = op.u32(OperatorField.opcode_index, 'opcode_index');
    const code = operatorCodes[opcodeIndex];
    if (!code) {
      buf.fail(`${where}: operator ${i} uses operator code ${opcodeIndex}, but there are ${operatorCodes.length}`);
    }
    const opInputs = op.int32Vector(OperatorField.inputs, 'inputs') ?? [];
    const opOutputs = op.int32Vector(OperatorField.outputs, 'outputs') ?? [];
    opInputs.forEach((v) => checkTensorIndex(v, `operator ${i} (${code.name}) input`, true));
    opOutputs.forEach((v) => checkTensorIndex(v, `operator ${i} (${code.name}) output`, false));
    const optionsTypeCode = op.u8(OperatorField.builtin_options_type, 'builtin_options_type');
    const optionsType = builtinOptionsName(optionsTypeCode);
    const optionsTable = optionsTypeCode === 0 ? null : op.table(OperatorField.builtin_options, 'builtin_options');
    return {
      index: i,
      opcodeIndex,
      opcode: code.name,
      inputs: opInputs,
      outputs: opOutputs,
      optionsType,
      options: optionsTable ? summarizeOptions(optionsType, optionsTable) : {},
    };
  });
  checkQuantizedOperators(buf, tensors, operators, where);
  return { name: t.string(SubGraphField.name, 'name'), tensors, inputs, outputs, operators };
}

function readTensor(
  buf: CheckedFlatbuffer,
  t: CheckedTable,
  index: number,
  buffers: readonly BufferInfo[],
  where: string,
): TensorInfo {
  const shape = t.int32Vector(TensorField.shape, 'shape') ?? [];
  const typeCode = t.i8(TensorField.type, 'type');
  const type = TENSOR_TYPE_NAMES[typeCode] ?? `type_${typeCode}`;
  const bufferIndex = t.u32(TensorField.buffer, 'buffer');
  const name = t.string(TensorField.name, 'name') ?? '';
  const buffer = buffers[bufferIndex];
  if (!buffer) {
    buf.fail(`${where}: tensor ${index} (${name}) uses buffer ${bufferIndex}, but there are ${buffers.length}`);
  }
  const elementBytes = ELEMENT_BYTES[type];
  if (buffer.size > 0 && elementBytes !== undefined && shape.every((d) => d >= 0)) {
    const expected = shape.reduce((p, d) => p * d, 1) * elementBytes;
    if (expected !== buffer.size) {
      buf.fail(`${where}: tensor ${index} (${name}) has ${buffer.size} bytes of data but its shape needs ${expected}`);
    }
  }
  const quantization = readQuantization(buf, t.table(TensorField.quantization, 'quantization'), { index, name, shape, type }, where);
  return { index, name, shape, type, bufferIndex, bufferSize: buffer.size, ...(quantization ? { quantization } : {}) };
}

function summarizeOptions(type: string, t: CheckedTable): Record<string, OptionsSummaryValue> {
  const fields = (OPTIONS_TABLES as Readonly<Record<string, readonly OptionsFieldSpec[]>>)[type];
  if (!fields) return {};
  const out: Record<string, OptionsSummaryValue> = {};
  fields.forEach((field, slot) => {
    const def = field.defaultValue;
    switch (field.kind) {
      case 'int8': {
        const value = t.i8(slot, field.name, typeof def === 'number' ? def : 0);
        if (field.name === 'padding') out[field.name] = value === 0 ? 'SAME' : value === 1 ? 'VALID' : value;
        else if (field.name === 'fused_activation_function') out[field.name] = ACTIVATION_NAMES[value] ?? value;
        else out[field.name] = value;
        break;
      }
      case 'bool':
        out[field.name] = t.bool(slot, field.name, def === true);
        break;
      case 'int32':
        out[field.name] = t.i32(slot, field.name, typeof def === 'number' ? def : 0);
        break;
      case 'float32':
        out[field.name] = t.f32(slot, field.name, typeof def === 'number' ? def : 0);
        break;
      case 'int32[]':
        out[field.name] = t.int32Vector(slot, field.name) ?? [];
        break;
    }
  });
  return out;
}
