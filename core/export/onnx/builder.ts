/**
 * Builds an OnnxGraph node by node: unique value names, deduplicated small constants, typed inputs/outputs.
 * Op helpers cover the operators our graphs use (opset 17 semantics).
 */
import { encodeOnnxModel, type OnnxAttribute, type OnnxElementType, type OnnxGraph, type OnnxInitializer, type OnnxNode, type OnnxValueInfo } from './model.ts';

export type Value = string;

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxInitializer[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, Value>();

  /** Weights declared as graph inputs (fed at every run, e.g. while training) instead of initializers. */
  readonly fedWeights = new Map<string, { dims: readonly number[]; data: Float32Array }>();

  constructor(
    readonly name: string,
    private readonly weightsAsInputs = false,
  ) {}

  /** A fresh value name based on `hint`. */
  fresh(hint: string): Value {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  input(name: string, type: OnnxElementType, dims: readonly (number | string)[]): Value {
    if (this.used.has(name)) throw new Error(`ONNX graph ${this.name}: value name ${name} already used`);
    this.used.add(name);
    this.inputs.push({ name, type, dims });
    return name;
  }

  output(value: Value, type: OnnxElementType, dims: readonly (number | string)[], name?: string): Value {
    let out = value;
    if (name !== undefined && name !== value) {
      if (this.used.has(name)) throw new Error(`ONNX graph ${this.name}: output name ${name} already used`);
      this.used.add(name);
      this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name] });
      out = name;
    }
    this.outputs.push({ name: out, type, dims });
    return out;
  }

  /** A float initializer (weights). */
  weight(hint: string, dims: readonly number[], data: Float32Array): Value {
    const name = this.fresh(hint);
    if (this.weightsAsInputs) {
      this.inputs.push({ name, type: 'float', dims });
      this.fedWeights.set(name, { dims, data });
    } else {
      this.initializers.push({ name, dims, data });
    }
    return name;
  }

  /** A small float constant, shared by every use of the same values and dims. */
  floats(values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): Value {
    return this.constant('f', dims, Float32Array.from(values));
  }

  scalar(value: number): Value {
    return this.floats([value], []);
  }

  /** A small int64 constant (shapes, axes, pads, slice bounds). */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    return this.constant('i', dims, BigInt64Array.from(values, (v) => BigInt(v)));
  }

  private constant(kind: string, dims: readonly number[], data: Float32Array | BigInt64Array): Value {
    const key = `${kind}[${dims.join(',')}]${Array.from(data as ArrayLike<number | bigint>, String).join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.fresh(kind === 'f' ? 'const_f' : 'const_i');
    this.initializers.push({ name, dims, data });
    this.constants.set(key, name);
    return name;
  }

  node(op: string, inputs: readonly Value[], attributes: Readonly<Record<string, OnnxAttribute>> = {}, hint = op): Value {
    return this.nodeN(op, inputs, 1, attributes, hint)[0] as Value;
  }

  nodeN(op: string, inputs: readonly Value[], outputCount: number, attributes: Readonly<Record<string, OnnxAttribute>> = {}, hint = op): Value[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.fresh(outputCount === 1 ? hint : `${hint}:${i}`));
    this.nodes.push({ op, inputs, outputs, name: outputs[0] as string, attributes });
    return outputs;
  }

  // Elementwise and shape helpers.
  add(a: Value, b: Value, hint?: string): Value { return this.node('Add', [a, b], {}, hint); }
  sub(a: Value, b: Value, hint?: string): Value { return this.node('Sub', [a, b], {}, hint); }
  mul(a: Value, b: Value, hint?: string): Value { return this.node('Mul', [a, b], {}, hint); }
  div(a: Value, b: Value, hint?: string): Value { return this.node('Div', [a, b], {}, hint); }
  neg(a: Value, hint?: string): Value { return this.node('Neg', [a], {}, hint); }
  reshape(x: Value, shape: readonly number[], hint?: string): Value { return this.node('Reshape', [x, this.int64s(shape)], {}, hint); }
  transpose(x: Value, perm: readonly number[], hint?: string): Value { return this.node('Transpose', [x], { perm }, hint); }
  /** ReduceSum/ReduceMean (axes as an input since opset 13/18; ReduceMean takes the attribute in opset 17). */
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean, hint?: string): Value {
    return this.node('ReduceSum', [x, this.int64s(axes)], { keepdims: keepdims ? 1 : 0 }, hint);
  }
  reduceMean(x: Value, axes: readonly number[], keepdims: boolean, hint?: string): Value {
    return this.node('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 }, hint);
  }
  /** x[starts:ends:steps] on `axes`. */
  slice(x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[], hint?: string): Value {
    const inputs = [x, this.int64s(starts), this.int64s(ends), this.int64s(axes)];
    if (steps) inputs.push(this.int64s(steps));
    return this.node('Slice', inputs, {}, hint);
  }
  /** Zero padding: `pads` = [begin per axis…, end per axis…]. */
  pad(x: Value, pads: readonly number[], hint?: string): Value { return this.node('Pad', [x, this.int64s(pads)], {}, hint); }
  concat(values: readonly Value[], axis: number, hint?: string): Value { return this.node('Concat', values, { axis }, hint); }

  graph(): OnnxGraph {
    return { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }

  encode(docString?: string): Uint8Array {
    return encodeOnnxModel(this.graph(), docString ? { docString } : {});
  }
}
