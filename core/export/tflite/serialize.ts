import { Builder } from 'flatbuffers';
import type { IrOperator, IrOptions, IrQuantization, IrTensor, TfliteDataType, TfliteModelIr } from './model-ir.ts';
import {
  BUFFER_DATA_ALIGNMENT,
  BufferField,
  BuiltinOperator,
  ModelField,
  OPTIONS_TABLES,
  OperatorCodeField,
  OperatorField,
  PLACEHOLDER_FOR_GREATER_OP_CODES,
  QuantizationField,
  SignatureDefField,
  SubGraphField,
  TFLITE_FILE_IDENTIFIER,
  TFLITE_SCHEMA_VERSION,
  TensorField,
  TensorMapField,
  TensorType,
  builtinOptionsTypeOf,
  type BuiltinOperatorName,
  type OptionsFieldSpec,
} from './schema.ts';

type Offset = number;

/**
 * Writes a TfliteModelIr as a TFLite flatbuffer (schema 3, identifier "TFL3"). The output depends only on the IR:
 * the same IR always gives the same bytes. Operator codes are listed in order of first use.
 */
export function serializeTfliteModel(ir: TfliteModelIr): Uint8Array {
  assertIrConsistent(ir);
  const weightBytes = ir.buffers.reduce((sum, data) => sum + data.byteLength + BUFFER_DATA_ALIGNMENT, 0);
  const b = new Builder(Math.max(1024, weightBytes + 64 * 1024));

  const opNames: BuiltinOperatorName[] = [];
  // One operator code per builtin, at the highest version any of its operators needs (as TFLite's converter does).
  const opVersions = new Map<BuiltinOperatorName, number>();
  for (const op of ir.operators) {
    if (!opNames.includes(op.op)) opNames.push(op.op);
    opVersions.set(op.op, Math.max(opVersions.get(op.op) ?? 1, op.version ?? 1));
  }

  // Children are written before their parents (flatbuffers builds back to front). Buffers go first so the large
  // weight blobs sit at the end of the file, after the small metadata tables.
  const buffers = ir.buffers.map((data) => writeBuffer(b, data));
  const operatorCodes = opNames.map((name) => writeOperatorCode(b, name, opVersions.get(name) ?? 1));
  const subgraph = writeSubgraph(b, ir, opNames);
  const signature = writeSignatureDef(b, ir);
  const description = b.createString(ir.description);

  const operatorCodesVec = offsetVector(b, operatorCodes);
  const subgraphsVec = offsetVector(b, [subgraph]);
  const buffersVec = offsetVector(b, buffers);
  const signaturesVec = offsetVector(b, [signature]);

  b.startObject(Object.keys(ModelField).length);
  b.addFieldInt32(ModelField.version, TFLITE_SCHEMA_VERSION, 0);
  b.addFieldOffset(ModelField.operator_codes, operatorCodesVec, 0);
  b.addFieldOffset(ModelField.subgraphs, subgraphsVec, 0);
  b.addFieldOffset(ModelField.description, description, 0);
  b.addFieldOffset(ModelField.buffers, buffersVec, 0);
  b.addFieldOffset(ModelField.signature_defs, signaturesVec, 0);
  const model = b.endObject();
  b.finish(model, TFLITE_FILE_IDENTIFIER);
  // asUint8Array is a view into the builder's (larger) buffer; copy so callers own a tight array.
  return b.asUint8Array().slice();
}

function assertIrConsistent(ir: TfliteModelIr): void {
  if (ir.buffers.length === 0 || ir.buffers[0]?.byteLength !== 0) {
    throw new Error('serializeTfliteModel: buffer 0 must be the empty sentinel buffer');
  }
  const tensorCount = ir.tensors.length;
  const checkTensor = (index: number, where: string): void => {
    if (!Number.isInteger(index) || index < 0 || index >= tensorCount) {
      throw new Error(`serializeTfliteModel: ${where} refers to tensor ${index}, but there are ${tensorCount} tensors`);
    }
  };
  ir.tensors.forEach((t, i) => {
    if (t.buffer < 0 || t.buffer >= ir.buffers.length) {
      throw new Error(`serializeTfliteModel: tensor ${i} (${t.name}) refers to missing buffer ${t.buffer}`);
    }
  });
  ir.operators.forEach((op, i) => {
    op.inputs.forEach((t) => checkTensor(t, `operator ${i} (${op.op}) input`));
    op.outputs.forEach((t) => checkTensor(t, `operator ${i} (${op.op}) output`));
  });
  ir.inputs.forEach((t) => checkTensor(t, 'subgraph input'));
  ir.outputs.forEach((t) => checkTensor(t, 'subgraph output'));
}

function writeBuffer(b: Builder, data: Uint8Array): Offset {
  let dataVec = 0;
  if (data.byteLength > 0) {
    // Pad so that the vector's first byte lands on a 16-byte boundary (schema: force_align 16). createByteVector's
    // own 4-byte alignment is then a no-op, and finish() aligns the whole file to the largest alignment used.
    b.prep(BUFFER_DATA_ALIGNMENT, data.byteLength);
    dataVec = b.createByteVector(data);
  }
  b.startObject(Object.keys(BufferField).length);
  if (dataVec !== 0) b.addFieldOffset(BufferField.data, dataVec, 0);
  return b.endObject();
}

function writeOperatorCode(b: Builder, name: BuiltinOperatorName, version: number): Offset {
  const code = BuiltinOperator[name];
  b.startObject(Object.keys(OperatorCodeField).length);
  // forceDefaults-like explicit writes: readers that only know the old byte field must still see the code.
  b.addFieldInt8(OperatorCodeField.deprecated_builtin_code, Math.min(code, PLACEHOLDER_FOR_GREATER_OP_CODES), -1);
  b.addFieldInt32(OperatorCodeField.version, version, 0);
  b.addFieldInt32(OperatorCodeField.builtin_code, code, -1);
  return b.endObject();
}

function writeSubgraph(b: Builder, ir: TfliteModelIr, opNames: readonly BuiltinOperatorName[]): Offset {
  const tensors = ir.tensors.map((t) => writeTensor(b, t));
  const operators = ir.operators.map((op) => writeOperator(b, op, opNames.indexOf(op.op)));
  const tensorsVec = offsetVector(b, tensors);
  const inputsVec = int32Vector(b, ir.inputs);
  const outputsVec = int32Vector(b, ir.outputs);
  const operatorsVec = offsetVector(b, operators);
  const name = b.createString(ir.subgraphName);
  b.startObject(Object.keys(SubGraphField).length);
  b.addFieldOffset(SubGraphField.tensors, tensorsVec, 0);
  b.addFieldOffset(SubGraphField.inputs, inputsVec, 0);
  b.addFieldOffset(SubGraphField.outputs, outputsVec, 0);
  b.addFieldOffset(SubGraphField.operators, operatorsVec, 0);
  b.addFieldOffset(SubGraphField.name, name, 0);
  return b.endObject();
}

const TENSOR_TYPE_CODES: Record<TfliteDataType, number> = {
  float32: TensorType.FLOAT32,
  int32: TensorType.INT32,
  int8: TensorType.INT8,
};

function writeTensor(b: Builder, t: IrTensor): Offset {
  const shape = int32Vector(b, t.shape);
  const name = b.createString(t.name);
  const quantization = t.quantization ? writeQuantization(b, t.quantization) : 0;
  b.startObject(Object.keys(TensorField).length);
  b.addFieldOffset(TensorField.shape, shape, 0);
  b.addFieldInt8(TensorField.type, TENSOR_TYPE_CODES[t.type], -1);
  b.addFieldInt32(TensorField.buffer, t.buffer, 0);
  b.addFieldOffset(TensorField.name, name, 0);
  if (quantization !== 0) b.addFieldOffset(TensorField.quantization, quantization, 0);
  return b.endObject();
}

function writeQuantization(b: Builder, q: IrQuantization): Offset {
  b.startVector(4, q.scale.length, 4);
  for (let i = q.scale.length - 1; i >= 0; i--) b.addFloat32(q.scale[i] ?? 0);
  const scale = b.endVector();
  b.startVector(8, q.zeroPoint.length, 8);
  for (let i = q.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(q.zeroPoint[i] ?? 0));
  const zeroPoint = b.endVector();
  b.startObject(Object.keys(QuantizationField).length);
  b.addFieldOffset(QuantizationField.scale, scale, 0);
  b.addFieldOffset(QuantizationField.zero_point, zeroPoint, 0);
  b.addFieldInt32(QuantizationField.quantized_dimension, q.quantizedDimension, 0);
  return b.endObject();
}

function writeOperator(b: Builder, op: IrOperator, opcodeIndex: number): Offset {
  const inputs = int32Vector(b, op.inputs);
  const outputs = int32Vector(b, op.outputs);
  const options = op.options ? writeOptions(b, op.options) : 0;
  b.startObject(Object.keys(OperatorField).length);
  b.addFieldInt32(OperatorField.opcode_index, opcodeIndex, 0);
  b.addFieldOffset(OperatorField.inputs, inputs, 0);
  b.addFieldOffset(OperatorField.outputs, outputs, 0);
  if (op.options) {
    b.addFieldInt8(OperatorField.builtin_options_type, builtinOptionsTypeOf(op.options.table), 0);
    b.addFieldOffset(OperatorField.builtin_options, options, 0);
  }
  return b.endObject();
}

function writeOptions(b: Builder, options: IrOptions): Offset {
  const fields: readonly OptionsFieldSpec[] = OPTIONS_TABLES[options.table];
  for (const name of Object.keys(options.values)) {
    if (!fields.some((field) => field.name === name)) {
      throw new Error(`serializeTfliteModel: ${options.table} has no field ${name}`);
    }
  }
  // Vectors must be written before the table that points at them.
  const vectors = fields.map((field) => {
    const value = options.values[field.name];
    return field.kind === 'int32[]' && Array.isArray(value) ? int32Vector(b, value) : 0;
  });
  b.startObject(fields.length);
  fields.forEach((field, slot) => {
    const value = options.values[field.name];
    if (value === undefined) return;
    const defaultNumber = field.defaultValue === undefined ? 0 : Number(field.defaultValue);
    switch (field.kind) {
      case 'int8':
      case 'bool':
        b.addFieldInt8(slot, Number(value), defaultNumber);
        break;
      case 'int32':
        b.addFieldInt32(slot, Number(value), defaultNumber);
        break;
      case 'float32':
        b.addFieldFloat32(slot, Number(value), defaultNumber);
        break;
      case 'int32[]':
        b.addFieldOffset(slot, vectors[slot] ?? 0, 0);
        break;
    }
  });
  return b.endObject();
}

function writeSignatureDef(b: Builder, ir: TfliteModelIr): Offset {
  const tensorMaps = (indices: readonly number[]): Offset =>
    offsetVector(
      b,
      indices.map((index) => {
        const name = b.createString(ir.tensors[index]?.name ?? `tensor_${index}`);
        b.startObject(Object.keys(TensorMapField).length);
        b.addFieldOffset(TensorMapField.name, name, 0);
        b.addFieldInt32(TensorMapField.tensor_index, index, -1);
        return b.endObject();
      }),
    );
  const inputs = tensorMaps(ir.inputs);
  const outputs = tensorMaps(ir.outputs);
  const key = b.createString(ir.signatureKey);
  b.startObject(Object.keys(SignatureDefField).length);
  b.addFieldOffset(SignatureDefField.inputs, inputs, 0);
  b.addFieldOffset(SignatureDefField.outputs, outputs, 0);
  b.addFieldOffset(SignatureDefField.signature_key, key, 0);
  b.addFieldInt32(SignatureDefField.subgraph_index, 0, -1);
  return b.endObject();
}

function int32Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i] ?? 0);
  return b.endVector();
}

function offsetVector(b: Builder, offsets: readonly Offset[]): Offset {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i] ?? 0);
  return b.endVector();
}
