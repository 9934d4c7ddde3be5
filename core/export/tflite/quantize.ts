import { ValidationError } from '../../errors.ts';
import type { IrOperator, IrQuantization, IrTensor, TfliteModelIr } from './model-ir.ts';
import { operatorVersion } from './op-versions.ts';
import {
  activationParams,
  quantizeBias,
  quantizePerChannel,
  quantizePerTensor,
  type AffineParams,
  type ValueRange,
} from './quantize-math.ts';
import type { BuiltinOperatorName } from './schema.ts';

/**
 * Post-training full-integer quantization of a float model (TfliteModelIr -> TfliteModelIr), as TFLite's converter
 * does it: every activation int8 with a scale and zero point from its calibrated range, convolution and
 * fully-connected weights int8 per output channel, biases int32, constant operands of ADD/MUL int8.
 *
 * Operators that move values without arithmetic (RESHAPE, SLICE, STRIDED_SLICE, PAD, RESIZE_NEAREST_NEIGHBOR,
 * pools, CONCATENATION) need the same scale and zero point on their inputs and output (the int8 kernels copy bytes).
 * Such tensors are grouped (union-find) and each group gets one range, the union of its members' ranges, so the
 * graph never needs a requantizing operator and its structure does not depend on the calibration.
 *
 * Edges: with io 'float' the model keeps float inputs and outputs (QUANTIZE after each input, DEQUANTIZE before each
 * output; a final SOFTMAX stays float after the DEQUANTIZE, so probabilities are not rounded to 1/256); with io
 * 'int8' inputs and outputs are int8 (a final SOFTMAX then has TFLite's fixed output scale 1/256, zero point −128).
 */
export type QuantizedIo = 'float' | 'int8';

export interface QuantizeOptions {
  /** Calibrated range of each activation tensor of the float model, by tensor index. */
  readonly ranges: ReadonlyMap<number, ValueRange>;
  readonly io?: QuantizedIo;
}

const SAME_SCALE_OPS = new Set<BuiltinOperatorName>([
  'RESHAPE', 'SLICE', 'STRIDED_SLICE', 'PAD', 'RESIZE_NEAREST_NEIGHBOR', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'CONCATENATION',
]);
/** Operators whose int8 output has fixed parameters (quantization spec). */
const FIXED_OUTPUT: Partial<Record<BuiltinOperatorName, AffineParams>> = {
  SOFTMAX: { scale: 1 / 256, zeroPoint: -128 },
  LOGISTIC: { scale: 1 / 256, zeroPoint: -128 },
};
const WEIGHTED_OPS = new Set<BuiltinOperatorName>(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);

export function quantizeModel(ir: TfliteModelIr, options: QuantizeOptions): TfliteModelIr {
  const io = options.io ?? 'float';
  const tensors: IrTensor[] = [...ir.tensors];
  const buffers: Uint8Array[] = [...ir.buffers];
  const isActivation = (i: number): boolean => ir.tensors[i]?.buffer === 0;
  ir.tensors.forEach((t, i) => {
    if (t.type !== 'float32' && (t.buffer === 0 || t.type !== 'int32')) {
      throw new ValidationError(`quantizeModel takes a float model; tensor ${i} (${t.name}) is ${t.type}`);
    }
  });

  // A final SOFTMAX stays float with float outputs.
  const floatTail = new Set<number>();
  if (io === 'float') {
    ir.operators.forEach((op, i) => {
      if (op.op === 'SOFTMAX' && op.outputs.every((o) => ir.outputs.includes(o))) floatTail.add(i);
    });
  }
  const floatTensors = new Set([...floatTail].flatMap((i) => ir.operators[i]!.outputs));

  const groups = new UnionFind(ir.tensors.length);
  const fixed = new Map<number, AffineParams>();
  ir.operators.forEach((op, i) => {
    if (floatTail.has(i)) return;
    if (SAME_SCALE_OPS.has(op.op)) {
      const data = op.op === 'CONCATENATION' ? op.inputs : op.inputs.slice(0, 1);
      for (const input of data) if (isActivation(input)) groups.union(input, op.outputs[0]!);
    }
    const params = FIXED_OUTPUT[op.op];
    if (params) for (const output of op.outputs) fixed.set(output, params);
  });
  const params = activationParamsByTensor(ir, options.ranges, groups, fixed, floatTensors);
  const quantOf = (i: number): AffineParams => {
    const p = params.get(i);
    if (!p) throw new Error(`quantizeModel: tensor ${i} has no parameters`);
    return p;
  };
  ir.tensors.forEach((t, i) => {
    if (t.buffer === 0 && !floatTensors.has(i)) tensors[i] = { ...t, type: 'int8', quantization: perTensor(quantOf(i)) };
  });

  const consumers = new Map<number, number>();
  ir.operators.forEach((op) => op.inputs.forEach((t) => consumers.set(t, (consumers.get(t) ?? 0) + 1)));
  const replaceConstant = (index: number, data: Int8Array | Int32Array, quantization: IrQuantization): void => {
    const t = ir.tensors[index]!;
    if ((consumers.get(index) ?? 0) !== 1) throw new Error(`quantizeModel: constant ${t.name} is shared by several operators`);
    buffers[t.buffer] = littleEndian(data);
    tensors[index] = { ...t, type: data instanceof Int8Array ? 'int8' : 'int32', quantization };
  };

  const operators: IrOperator[] = ir.operators.map((op, i) => {
    if (floatTail.has(i)) return op;
    const firstInput = op.inputs[0]!;
    if (WEIGHTED_OPS.has(op.op)) {
      const [, weightsIndex, biasIndex] = op.inputs as [number, number, number];
      const inputScale = quantOf(firstInput).scale;
      const w = ir.tensors[weightsIndex]!;
      // OHWI conv and [out, in] fully-connected weights: axis 0; 1HWC depthwise weights: axis 3.
      const axis = op.op === 'DEPTHWISE_CONV_2D' ? 3 : 0;
      const biasValues = floatData(ir, biasIndex);
      const weights = quantizePerChannel(floatData(ir, weightsIndex), w.shape, axis, { values: biasValues, inputScale });
      replaceConstant(weightsIndex, weights.data, { scale: weights.scales, zeroPoint: weights.scales.map(() => 0), quantizedDimension: axis });
      const bias = quantizeBias(biasValues, inputScale, weights.scales);
      replaceConstant(biasIndex, bias.data, { scale: bias.scales, zeroPoint: bias.scales.map(() => 0), quantizedDimension: 0 });
    } else if (op.op === 'ADD' || op.op === 'MUL') {
      for (const input of op.inputs) {
        if (isActivation(input)) continue;
        const q = quantizePerTensor(floatData(ir, input));
        replaceConstant(input, q.data, { scale: q.scales, zeroPoint: [0], quantizedDimension: 0 });
      }
    }
    const scaleOf = (t: number): number => tensors[t]?.quantization?.scale[0] ?? 0;
    const mulRescale = op.op === 'MUL' ? (scaleOf(op.inputs[0]!) * scaleOf(op.inputs[1]!)) / scaleOf(op.outputs[0]!) : undefined;
    return { ...op, version: operatorVersion(op.op, 'int8', mulRescale) };
  });

  const inputs = [...ir.inputs];
  const outputs = [...ir.outputs];
  if (io === 'float') {
    const rename = (index: number, suffix: string): string => {
      const t = tensors[index]!;
      tensors[index] = { ...t, name: `${t.name}${suffix}` };
      return t.name;
    };
    const floatTensor = (name: string, shape: readonly number[]): number => tensors.push({ name, shape, type: 'float32', buffer: 0 }) - 1;
    const head: IrOperator[] = ir.inputs.map((index, k) => {
      const floatIndex = floatTensor(rename(index, '/int8'), ir.tensors[index]!.shape);
      inputs[k] = floatIndex;
      return { op: 'QUANTIZE', inputs: [floatIndex], outputs: [index], options: null, version: operatorVersion('QUANTIZE', 'float32') };
    });
    const dequantize = (index: number, name: string): IrOperator => ({
      op: 'DEQUANTIZE',
      inputs: [index],
      outputs: [floatTensor(name, ir.tensors[index]!.shape)],
      options: null,
      version: operatorVersion('DEQUANTIZE', 'int8'),
    });
    const body: IrOperator[] = [];
    operators.forEach((op, i) => {
      if (floatTail.has(i)) {
        const source = op.inputs[0]!;
        const dq = dequantize(source, `${tensors[source]!.name}/float`);
        body.push(dq, { ...op, inputs: [dq.outputs[0]!, ...op.inputs.slice(1)], version: 1 });
      } else {
        body.push(op);
      }
    });
    const tail: IrOperator[] = [];
    ir.outputs.forEach((index, k) => {
      if (floatTensors.has(index)) return;
      const dq = dequantize(index, rename(index, '/int8'));
      outputs[k] = dq.outputs[0]!;
      tail.push(dq);
    });
    return { ...ir, tensors, buffers, operators: [...head, ...body, ...tail], inputs, outputs };
  }
  return { ...ir, tensors, buffers, operators, inputs, outputs };
}

function activationParamsByTensor(
  ir: TfliteModelIr,
  ranges: ReadonlyMap<number, ValueRange>,
  groups: UnionFind,
  fixed: ReadonlyMap<number, AffineParams>,
  floatTensors: ReadonlySet<number>,
): Map<number, AffineParams> {
  const members = new Map<number, number[]>();
  ir.tensors.forEach((t, i) => {
    if (t.buffer !== 0 || floatTensors.has(i)) return;
    const root = groups.find(i);
    members.set(root, [...(members.get(root) ?? []), i]);
  });
  const out = new Map<number, AffineParams>();
  for (const group of members.values()) {
    const names = group.map((i) => ir.tensors[i]!.name);
    const fixedParams = group.map((i) => fixed.get(i)).filter((p) => p !== undefined);
    let params: AffineParams;
    if (fixedParams.length > 0) {
      if (group.length > 1) throw new Error(`quantizeModel: fixed-scale tensor grouped with others (${names.join(', ')})`);
      params = fixedParams[0]!;
    } else {
      const known = group.map((i) => ranges.get(i)).filter((r) => r !== undefined);
      if (known.length === 0) {
        throw new ValidationError(`cannot quantize the model: no calibrated range for tensor${group.length > 1 ? 's' : ''} ${names.join(', ')}`);
      }
      const union = { min: Math.min(...known.map((r) => r.min)), max: Math.max(...known.map((r) => r.max)) };
      params = activationParams(union, `tensor ${names[0]}`);
    }
    for (const i of group) out.set(i, params);
  }
  return out;
}

function perTensor(p: AffineParams): IrQuantization {
  return { scale: [p.scale], zeroPoint: [p.zeroPoint], quantizedDimension: 0 };
}

function floatData(ir: TfliteModelIr, index: number): Float32Array {
  const t = ir.tensors[index]!;
  const bytes = ir.buffers[t.buffer]!;
  if (t.type !== 'float32' || bytes.byteLength === 0) throw new Error(`quantizeModel: ${t.name} is not a float constant`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

function littleEndian(data: Int8Array | Int32Array): Uint8Array {
  if (data instanceof Int8Array) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setInt32(i * 4, v, true));
  return bytes;
}

class UnionFind {
  private readonly parent: number[];

  constructor(size: number) {
    this.parent = Array.from({ length: size }, (_, i) => i);
  }

  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root]!;
    while (this.parent[i] !== root) {
      const next = this.parent[i]!;
      this.parent[i] = root;
      i = next;
    }
    return root;
  }

  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}
