/**
 * The ONNX model IR we write (onnx/onnx.proto, IR version 8, default-domain opset 17) and its protobuf encoding.
 * Only what our graphs use: float/int64 tensors, nodes with int/float/ints/floats/string attributes, graph inputs
 * and outputs with static or named (symbolic) dimensions.
 */
import { ProtoWriter, littleEndianBytes } from './protobuf.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** TensorProto.DataType codes. */
export const OnnxDataType = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxElementType = keyof typeof OnnxDataType;

export type OnnxAttribute = number | string | readonly number[] | { floats: readonly number[] } | { int: number } | { float: number };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Integers are INT, non-integers FLOAT; arrays INTS unless wrapped in { floats }; { float } forces FLOAT. */
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array | Int32Array;
}

export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  /** A string is a symbolic dimension (e.g. the batch size "N"). */
  dims: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

// onnx.proto field numbers.
const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, docString: 6, graph: 7, opsetImport: 8 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, floats: 7, ints: 8, type: 20 } as const;
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIMENSION = { value: 1, param: 2 } as const;

export function encodeOnnxModel(graph: OnnxGraph, options: { producer?: string; docString?: string } = {}): Uint8Array {
  const w = new ProtoWriter();
  w.int(MODEL.irVersion, ONNX_IR_VERSION);
  w.string(MODEL.producerName, options.producer ?? 'netadapt-studio');
  w.string(MODEL.producerVersion, '1');
  if (options.docString) w.string(MODEL.docString, options.docString);
  w.message(MODEL.graph, (g) => writeGraph(g, graph));
  w.message(MODEL.opsetImport, (o) => o.string(OPSET.domain, '').int(OPSET.version, ONNX_OPSET));
  return w.finish();
}

function writeGraph(w: ProtoWriter, graph: OnnxGraph): void {
  for (const node of graph.nodes) w.message(GRAPH.node, (n) => writeNode(n, node));
  w.string(GRAPH.name, graph.name);
  for (const t of graph.initializers) w.message(GRAPH.initializer, (m) => writeTensor(m, t));
  for (const v of graph.inputs) w.message(GRAPH.input, (m) => writeValueInfo(m, v));
  for (const v of graph.outputs) w.message(GRAPH.output, (m) => writeValueInfo(m, v));
}

function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const i of node.inputs) w.string(NODE.input, i);
  for (const o of node.outputs) w.string(NODE.output, o);
  if (node.name) w.string(NODE.name, node.name);
  w.string(NODE.opType, node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(NODE.attribute, (a) => writeAttribute(a, name, value));
}

function writeAttribute(w: ProtoWriter, name: string, value: OnnxAttribute): void {
  w.string(ATTRIBUTE.name, name);
  if (typeof value === 'string') {
    w.string(ATTRIBUTE.s, value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.string);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value)) w.int(ATTRIBUTE.i, value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.int);
    else w.float(ATTRIBUTE.f, value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.float);
  } else if (isArray(value)) {
    if (value.some((v) => !Number.isInteger(v))) throw new RangeError(`attribute ${name}: INTS must be integers (wrap floats in { floats })`);
    w.packedInts(ATTRIBUTE.ints, value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.ints);
  } else if ('floats' in value) {
    w.packedFloats(ATTRIBUTE.floats, value.floats).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.floats);
  } else if ('int' in value) {
    w.int(ATTRIBUTE.i, value.int).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.int);
  } else {
    w.float(ATTRIBUTE.f, value.float).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.float);
  }
}

function isArray(v: OnnxAttribute): v is readonly number[] {
  return Array.isArray(v);
}

function writeTensor(w: ProtoWriter, t: OnnxInitializer): void {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (expected !== t.data.length) throw new RangeError(`initializer ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  w.packedInts(TENSOR.dims, t.dims);
  const type = t.data instanceof Float32Array ? OnnxDataType.float : t.data instanceof Int32Array ? OnnxDataType.int32 : OnnxDataType.int64;
  w.int(TENSOR.dataType, type);
  w.string(TENSOR.name, t.name);
  w.bytes(TENSOR.rawData, littleEndianBytes(t.data));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(VALUE_INFO.name, v.name);
  w.message(VALUE_INFO.type, (t) =>
    t.message(TYPE.tensorType, (tt) => {
      tt.int(TENSOR_TYPE.elemType, OnnxDataType[v.type]);
      tt.message(TENSOR_TYPE.shape, (s) => {
        for (const d of v.dims) {
          s.message(SHAPE.dim, (dim) => (typeof d === 'string' ? dim.string(DIMENSION.param, d) : dim.int(DIMENSION.value, d)));
        }
      });
    }),
  );
}
