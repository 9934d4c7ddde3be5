import { ValidationError } from '../../errors.ts';
import type { IrOperator, IrOptions, IrTensor, OptionValue, TfliteDataType, TfliteModelIr } from './model-ir.ts';
import { ActivationCode, type BuiltinOperatorName, type OptionsTableName } from './schema.ts';
import { serializeTfliteModel } from './serialize.ts';
import { littleEndianBytes, paddingCode, pair } from './builder-types.ts';
import type {
  ActivationOptions,
  Conv2dOptions,
  DepthwiseConv2dOptions,
  FullyConnectedOptions,
  FusedActivation,
  Named,
  Pool2dOptions,
  TensorHandle,
  TfliteModelBuilderOptions,
} from './builder-types.ts';
import {
  assertRank,
  assertValidShape,
  broadcastShapes,
  concatShape,
  formatShape,
  normalizeAxis,
  numElements,
  padShape,
  reduceShape,
  resolveReshape,
  sliceShape,
  stridedSliceShape,
  windowOutputShape,
  type StridedSliceMasks,
} from './shapes.ts';

const ACTIVATION_CODES: Record<FusedActivation, number> = {
  none: ActivationCode.NONE,
  relu: ActivationCode.RELU,
  relu6: ActivationCode.RELU6,
};

/**
 * Builds a single-subgraph float32 TFLite model op by op, checking shapes as it goes. Every call returns a handle
 * whose `shape` is the operator's output shape (TFLite semantics), so an exporter can assert it matches its own
 * shape inference. `finish()` serializes; the same sequence of calls always yields identical bytes.
 */
export class TfliteModelBuilder {
  private readonly description: string;
  private readonly subgraphName: string;
  private readonly signatureKey: string;
  private readonly tensors: IrTensor[] = [];
  private readonly handles: TensorHandle[] = [];
  private readonly buffers: Uint8Array[] = [new Uint8Array(0)];
  private readonly operators: IrOperator[] = [];
  private readonly inputs: number[] = [];
  private readonly outputs: number[] = [];
  private readonly names = new Set<string>();
  private readonly nameCounters = new Map<string, number>();

  constructor(options: TfliteModelBuilderOptions = {}) {
    this.description = options.description ?? 'exported by NetAdapt Studio';
    this.subgraphName = options.subgraphName ?? 'main';
    this.signatureKey = options.signatureKey ?? 'serving_default';
  }

  get tensorCount(): number {
    return this.tensors.length;
  }

  get operatorCount(): number {
    return this.operators.length;
  }

  /** A graph input (float32). Inputs are listed in the order they are declared. */
  input(name: string, shape: readonly number[]): TensorHandle {
    assertValidShape(shape, `input ${name}`);
    const handle = this.addTensor(name, shape, 'float32', 0);
    this.inputs.push(handle.index);
    return handle;
  }

  /** A constant tensor stored in its own buffer. */
  constant(name: string, shape: readonly number[], data: Float32Array | Int32Array): TensorHandle {
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ValidationError(`constant ${name}: invalid shape ${formatShape(shape)}`);
    }
    if (data.length !== numElements(shape)) {
      throw new ValidationError(
        `constant ${name}: shape ${formatShape(shape)} needs ${numElements(shape)} values, got ${data.length}`,
      );
    }
    const type: TfliteDataType = data instanceof Float32Array ? 'float32' : 'int32';
    this.buffers.push(littleEndianBytes(data));
    return this.addTensor(name, shape, type, this.buffers.length - 1);
  }

  /** Marks a tensor as a graph output (in call order). */
  output(t: TensorHandle): void {
    this.assertOwn(t);
    if (this.outputs.includes(t.index)) throw new ValidationError(`tensor ${t.name} is already an output`);
    this.outputs.push(t.index);
  }

  conv2d(x: TensorHandle, o: Conv2dOptions): TensorHandle {
    this.assertFloat4d(x, 'CONV_2D');
    const [kh, kw] = pair(o.kernelSize);
    const [sh, sw] = pair(o.stride ?? 1);
    const inChannels = x.shape[3] ?? 0;
    const name = this.outputName(o.name, 'conv2d');
    const outShape = windowOutputShape(x.shape, [kh, kw], [sh, sw], o.padding ?? 'same', o.outChannels);
    const weights = this.constant(`${name}/weights`, [o.outChannels, kh, kw, inChannels], o.weights);
    const bias = this.constant(`${name}/bias`, [o.outChannels], o.bias ?? new Float32Array(o.outChannels));
    return this.addOp('CONV_2D', [x, weights, bias], name, outShape, {
      table: 'Conv2DOptions',
      values: {
        padding: paddingCode(o.padding),
        stride_w: sw,
        stride_h: sh,
        fused_activation_function: ACTIVATION_CODES[o.activation ?? 'none'],
        dilation_w_factor: 1,
        dilation_h_factor: 1,
      },
    });
  }

  depthwiseConv2d(x: TensorHandle, o: DepthwiseConv2dOptions): TensorHandle {
    this.assertFloat4d(x, 'DEPTHWISE_CONV_2D');
    const [kh, kw] = pair(o.kernelSize);
    const [sh, sw] = pair(o.stride ?? 1);
    const channels = x.shape[3] ?? 0;
    const name = this.outputName(o.name, 'depthwise_conv2d');
    const outShape = windowOutputShape(x.shape, [kh, kw], [sh, sw], o.padding ?? 'same', channels);
    const weights = this.constant(`${name}/weights`, [1, kh, kw, channels], o.weights);
    const bias = this.constant(`${name}/bias`, [channels], o.bias ?? new Float32Array(channels));
    return this.addOp('DEPTHWISE_CONV_2D', [x, weights, bias], name, outShape, {
      table: 'DepthwiseConv2DOptions',
      values: {
        padding: paddingCode(o.padding),
        stride_w: sw,
        stride_h: sh,
        depth_multiplier: 1,
        fused_activation_function: ACTIVATION_CODES[o.activation ?? 'none'],
        dilation_w_factor: 1,
        dilation_h_factor: 1,
      },
    });
  }

  averagePool2d(x: TensorHandle, o: Pool2dOptions): TensorHandle {
    return this.pool2d('AVERAGE_POOL_2D', x, o);
  }

  maxPool2d(x: TensorHandle, o: Pool2dOptions): TensorHandle {
    return this.pool2d('MAX_POOL_2D', x, o);
  }

  fullyConnected(x: TensorHandle, o: FullyConnectedOptions): TensorHandle {
    this.assertFloat(x, 'FULLY_CONNECTED');
    const inUnits = x.shape[x.shape.length - 1] ?? 0;
    const name = this.outputName(o.name, 'fully_connected');
    // Without keep_num_dims TFLite flattens the input to [numel / inUnits, inUnits].
    const outShape = [numElements(x.shape) / inUnits, o.outUnits];
    const weights = this.constant(`${name}/weights`, [o.outUnits, inUnits], o.weights);
    const bias = this.constant(`${name}/bias`, [o.outUnits], o.bias ?? new Float32Array(o.outUnits));
    return this.addOp('FULLY_CONNECTED', [x, weights, bias], name, outShape, {
      table: 'FullyConnectedOptions',
      values: { fused_activation_function: ACTIVATION_CODES[o.activation ?? 'none'] },
    });
  }

  add(a: TensorHandle, b: TensorHandle, o: ActivationOptions = {}): TensorHandle {
    return this.binary('ADD', 'AddOptions', a, b, o);
  }

  mul(a: TensorHandle, b: TensorHandle, o: ActivationOptions = {}): TensorHandle {
    return this.binary('MUL', 'MulOptions', a, b, o);
  }

  hardSwish(x: TensorHandle, o: Named = {}): TensorHandle {
    return this.unary('HARD_SWISH', x, o, { table: 'HardSwishOptions', values: {} });
  }

  logistic(x: TensorHandle, o: Named = {}): TensorHandle {
    return this.unary('LOGISTIC', x, o, null);
  }

  relu(x: TensorHandle, o: Named = {}): TensorHandle {
    return this.unary('RELU', x, o, null);
  }

  relu6(x: TensorHandle, o: Named = {}): TensorHandle {
    return this.unary('RELU6', x, o, null);
  }

  softmax(x: TensorHandle, o: Named & { readonly beta?: number } = {}): TensorHandle {
    return this.unary('SOFTMAX', x, o, { table: 'SoftmaxOptions', values: { beta: o.beta ?? 1 } });
  }

  /** MEAN over `axes` (e.g. [1, 2] for global average pooling of NHWC). */
  mean(x: TensorHandle, axes: readonly number[], keepDims: boolean, o: Named = {}): TensorHandle {
    this.assertFloat(x, 'MEAN');
    if (axes.length === 0) throw new ValidationError('MEAN needs at least one axis');
    const normalized = axes.map((a) => normalizeAxis(a, x.shape.length, 'MEAN'));
    const name = this.outputName(o.name, 'mean');
    const outShape = reduceShape(x.shape, normalized, keepDims);
    const axesTensor = this.constant(`${name}/axes`, [normalized.length], Int32Array.from(normalized));
    return this.addOp('MEAN', [x, axesTensor], name, outShape, {
      table: 'ReducerOptions',
      values: { keep_dims: keepDims },
    });
  }

  /** RESHAPE; one dimension may be -1. */
  reshape(x: TensorHandle, shape: readonly number[], o: Named = {}): TensorHandle {
    this.assertOwn(x);
    const outShape = resolveReshape(x.shape, shape);
    const name = this.outputName(o.name, 'reshape');
    const shapeTensor = this.constant(`${name}/shape`, [outShape.length], Int32Array.from(outShape));
    return this.addOp('RESHAPE', [x, shapeTensor], name, outShape, {
      table: 'ReshapeOptions',
      values: { new_shape: outShape },
    });
  }

  concat(xs: readonly TensorHandle[], axis: number, o: ActivationOptions = {}): TensorHandle {
    xs.forEach((x) => this.assertFloat(x, 'CONCATENATION'));
    const outShape = concatShape(
      xs.map((x) => x.shape),
      axis,
    );
    const name = this.outputName(o.name, 'concat');
    return this.addOp('CONCATENATION', [...xs], name, outShape, {
      table: 'ConcatenationOptions',
      values: {
        axis: normalizeAxis(axis, outShape.length, 'CONCATENATION'),
        fused_activation_function: ACTIVATION_CODES[o.activation ?? 'none'],
      },
    });
  }

  /** SLICE: `size[i] = -1` takes the rest of dimension i. */
  slice(x: TensorHandle, begin: readonly number[], size: readonly number[], o: Named = {}): TensorHandle {
    this.assertFloat(x, 'SLICE');
    const outShape = sliceShape(x.shape, begin, size);
    const name = this.outputName(o.name, 'slice');
    const beginTensor = this.constant(`${name}/begin`, [begin.length], Int32Array.from(begin));
    const sizeTensor = this.constant(`${name}/size`, [size.length], Int32Array.from(outShape));
    return this.addOp('SLICE', [x, beginTensor, sizeTensor], name, outShape, { table: 'SliceOptions', values: {} });
  }

  /** STRIDED_SLICE with positive strides; begin/end may be negative (from the end) or masked. */
  stridedSlice(
    x: TensorHandle,
    begin: readonly number[],
    end: readonly number[],
    strides: readonly number[],
    o: Named & StridedSliceMasks = {},
  ): TensorHandle {
    this.assertFloat(x, 'STRIDED_SLICE');
    const outShape = stridedSliceShape(x.shape, begin, end, strides, o);
    const name = this.outputName(o.name, 'strided_slice');
    const rank = x.shape.length;
    const beginTensor = this.constant(`${name}/begin`, [rank], Int32Array.from(begin));
    const endTensor = this.constant(`${name}/end`, [rank], Int32Array.from(end));
    const stridesTensor = this.constant(`${name}/strides`, [rank], Int32Array.from(strides));
    return this.addOp('STRIDED_SLICE', [x, beginTensor, endTensor, stridesTensor], name, outShape, {
      table: 'StridedSliceOptions',
      values: { begin_mask: o.beginMask ?? 0, end_mask: o.endMask ?? 0 },
    });
  }

  /** Zero padding; `paddings[i] = [before, after]` for dimension i. */
  pad(x: TensorHandle, paddings: readonly (readonly [number, number])[], o: Named = {}): TensorHandle {
    this.assertFloat(x, 'PAD');
    const outShape = padShape(x.shape, paddings);
    const name = this.outputName(o.name, 'pad');
    const padTensor = this.constant(`${name}/paddings`, [paddings.length, 2], Int32Array.from(paddings.flat()));
    return this.addOp('PAD', [x, padTensor], name, outShape, { table: 'PadOptions', values: {} });
  }

  /** RESIZE_NEAREST_NEIGHBOR to [height, width] (align_corners and half_pixel_centers off). */
  resizeNearest(x: TensorHandle, size: readonly [number, number], o: Named = {}): TensorHandle {
    this.assertFloat4d(x, 'RESIZE_NEAREST_NEIGHBOR');
    assertValidShape(size, 'RESIZE_NEAREST_NEIGHBOR size');
    const [n, , , c] = x.shape as [number, number, number, number];
    const outShape = [n, size[0], size[1], c];
    const name = this.outputName(o.name, 'resize_nearest');
    const sizeTensor = this.constant(`${name}/size`, [2], Int32Array.from(size));
    return this.addOp('RESIZE_NEAREST_NEIGHBOR', [x, sizeTensor], name, outShape, {
      table: 'ResizeNearestNeighborOptions',
      values: { align_corners: false, half_pixel_centers: false },
    });
  }

  /** The model as plain data (what `finish` serializes). */
  toIr(): TfliteModelIr {
    if (this.inputs.length === 0) throw new ValidationError('the model has no inputs; call input() first');
    if (this.outputs.length === 0) throw new ValidationError('the model has no outputs; call output(tensor)');
    return {
      description: this.description,
      subgraphName: this.subgraphName,
      tensors: [...this.tensors],
      buffers: [...this.buffers],
      operators: [...this.operators],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      signatureKey: this.signatureKey,
    };
  }

  /** Serializes to a .tflite flatbuffer (identifier "TFL3"). */
  finish(): Uint8Array {
    return serializeTfliteModel(this.toIr());
  }

  private pool2d(op: 'AVERAGE_POOL_2D' | 'MAX_POOL_2D', x: TensorHandle, o: Pool2dOptions): TensorHandle {
    this.assertFloat4d(x, op);
    const [fh, fw] = pair(o.filterSize);
    const [sh, sw] = pair(o.stride ?? o.filterSize);
    const name = this.outputName(o.name, op === 'AVERAGE_POOL_2D' ? 'average_pool' : 'max_pool');
    const outShape = windowOutputShape(x.shape, [fh, fw], [sh, sw], o.padding ?? 'valid', x.shape[3] ?? 0);
    return this.addOp(op, [x], name, outShape, {
      table: 'Pool2DOptions',
      values: {
        padding: paddingCode(o.padding ?? 'valid'),
        stride_w: sw,
        stride_h: sh,
        filter_width: fw,
        filter_height: fh,
        fused_activation_function: ACTIVATION_CODES[o.activation ?? 'none'],
      },
    });
  }

  private binary(
    op: 'ADD' | 'MUL',
    table: 'AddOptions' | 'MulOptions',
    a: TensorHandle,
    b: TensorHandle,
    o: ActivationOptions,
  ): TensorHandle {
    this.assertFloat(a, op);
    this.assertFloat(b, op);
    const outShape = broadcastShapes(a.shape, b.shape);
    const name = this.outputName(o.name, op.toLowerCase());
    return this.addOp(op, [a, b], name, outShape, {
      table,
      values: { fused_activation_function: ACTIVATION_CODES[o.activation ?? 'none'] },
    });
  }

  private unary(op: BuiltinOperatorName, x: TensorHandle, o: Named, options: IrOptions | null): TensorHandle {
    this.assertFloat(x, op);
    return this.addOp(op, [x], this.outputName(o.name, op.toLowerCase()), x.shape, options);
  }

  private addOp(
    op: BuiltinOperatorName,
    inputs: readonly TensorHandle[],
    outputName: string,
    outShape: readonly number[],
    options: { table: OptionsTableName; values: Record<string, OptionValue> } | null,
  ): TensorHandle {
    inputs.forEach((t) => this.assertOwn(t));
    assertValidShape(outShape, `${op} output ${outputName}`);
    const out = this.addTensor(outputName, outShape, 'float32', 0);
    this.operators.push({ op, inputs: inputs.map((t) => t.index), outputs: [out.index], options });
    return out;
  }

  private addTensor(name: string, shape: readonly number[], type: TfliteDataType, buffer: number): TensorHandle {
    if (name.length === 0) throw new ValidationError('tensor names must not be empty');
    if (this.names.has(name)) throw new ValidationError(`a tensor named "${name}" already exists in this model`);
    this.names.add(name);
    const frozenShape = Object.freeze([...shape]);
    this.tensors.push({ name, shape: frozenShape, type, buffer });
    const handle: TensorHandle = Object.freeze({ index: this.tensors.length - 1, name, shape: frozenShape, type });
    this.handles.push(handle);
    return handle;
  }

  /** The caller's name, or `<base>_<n>` with the first n that is still free. */
  private outputName(requested: string | undefined, base: string): string {
    if (requested !== undefined) return requested;
    let n = this.nameCounters.get(base) ?? 0;
    while (this.names.has(`${base}_${n}`)) n++;
    this.nameCounters.set(base, n + 1);
    return `${base}_${n}`;
  }

  private assertOwn(t: TensorHandle): void {
    if (this.handles[t.index] !== t) {
      throw new ValidationError(`tensor ${t.name} does not belong to this model builder`);
    }
  }

  private assertFloat(t: TensorHandle, op: string): void {
    this.assertOwn(t);
    if (t.type !== 'float32') throw new ValidationError(`${op} takes float32 tensors; ${t.name} is ${t.type}`);
  }

  private assertFloat4d(t: TensorHandle, op: string): void {
    this.assertFloat(t, op);
    assertRank(t.shape, 4, `${op} (${t.name})`);
  }
}

export type {
  ActivationOptions,
  Conv2dOptions,
  DepthwiseConv2dOptions,
  FullyConnectedOptions,
  FusedActivation,
  PaddingMode,
  Pool2dOptions,
  Size2d,
  TensorHandle,
  TfliteModelBuilderOptions,
} from './builder-types.ts';
