/**
 * TFLite export of whole sub-networks and of single layers, following docs/forward-semantics.md. Shapes come from
 * core/arch's ResolvedNetwork; every operator's output shape from the builder is checked against it.
 *
 * With `quantization` the model is written full-integer int8 (tflite/quantize.ts): every activation tensor of the
 * float graph is tagged with the forward-semantics point it holds (core/weights/activation-ranges.ts), and its
 * calibrated range sets its scale and zero point.
 */
import type { ResolvedLayer, Shape3 } from '../arch/layers.ts';
import type { ResolvedNetwork } from '../arch/resolve.ts';
import { ValidationError } from '../errors.ts';
import { INPUT_RANGE_KEY, rangeKey, type ActivationRanges, type RangePoint } from '../weights/activation-ranges.ts';
import type { ConvWeights, FoldedWeights, LayerWeights, SqueezeExciteWeights } from '../weights/folded.ts';
import { TfliteModelBuilder, type FusedActivation, type TensorHandle } from './tflite/builder.ts';
import { quantizeModel, type QuantizedIo } from './tflite/quantize.ts';
import type { ValueRange } from './tflite/quantize-math.ts';
import { serializeTfliteModel } from './tflite/serialize.ts';

export interface QuantizationOptions {
  /** Calibrated activation ranges of exactly this sub-network (core/supernet/calibrate.ts), by range key. */
  ranges: Pick<ActivationRanges, 'get'>;
  /** 'float' (default): float input and output with QUANTIZE / DEQUANTIZE at the edges; 'int8': int8 ones. */
  io?: QuantizedIo;
}

export interface ExportOptions {
  /** Append SOFTMAX to a classifier's logits (default true: what an app deploys). */
  softmax?: boolean;
  description?: string;
  /** Write a full-integer int8 model (default: float32). */
  quantization?: QuantizationOptions;
}

/**
 * Which range keys each float tensor holds. `factor` scales the range (relu6(x + 3) is 6 · hard-sigmoid); `clip`
 * narrows it where the only consumer saturates outside it (relu6(x + 3) is 0 or 6 outside [−3, 3]), so the 256
 * levels are not spent on values that all give the same result.
 */
interface Tag {
  readonly key: string;
  readonly factor: number;
  readonly clip?: ValueRange;
}

class Emitter {
  readonly tags = new Map<number, Tag[]>();

  constructor(
    readonly b: TfliteModelBuilder,
    readonly weights: FoldedWeights,
  ) {}

  tag(t: TensorHandle, layer: ResolvedLayer, point: RangePoint, factor = 1, clip?: ValueRange): TensorHandle {
    return this.tagKey(t, rangeKey(layer.id, point), factor, clip);
  }

  tagKey(t: TensorHandle, key: string, factor = 1, clip?: ValueRange): TensorHandle {
    this.tags.set(t.index, [...(this.tags.get(t.index) ?? []), { key, factor, ...(clip ? { clip } : {}) }]);
    return t;
  }

  finish(quantization: QuantizationOptions | undefined): Uint8Array {
    const ir = this.b.toIr();
    if (!quantization) return serializeTfliteModel(ir);
    const ranges = new Map<number, ValueRange>();
    for (const [index, tags] of this.tags) {
      const found = tags.map((tag) => {
        const range = quantization.ranges.get(tag.key);
        if (!range) {
          throw new ValidationError(`cannot quantize: the calibrated ranges have no entry "${tag.key}" (tensor ${ir.tensors[index]?.name}); they belong to another sub-network`);
        }
        const lo = range.min * tag.factor;
        const hi = range.max * tag.factor;
        return tag.clip ? { min: Math.max(lo, tag.clip.min), max: Math.min(hi, tag.clip.max) } : { min: lo, max: hi };
      });
      ranges.set(index, { min: Math.min(...found.map((r) => r.min)), max: Math.max(...found.map((r) => r.max)) });
    }
    return serializeTfliteModel(quantizeModel(ir, { ranges, ...(quantization.io ? { io: quantization.io } : {}) }));
  }
}

/** The whole (sub-)network as a .tflite model with input [1, H, W, C]. */
export function exportNetwork(network: ResolvedNetwork, weights: FoldedWeights, options: ExportOptions = {}): Uint8Array {
  const { spec } = network;
  const kind = options.quantization ? 'int8' : 'float32';
  const e = new Emitter(
    new TfliteModelBuilder({
      description: options.description ?? `NetAdapt Studio: ${spec.name}, ${network.macs} MACs, ${network.params} params, ${kind}`,
    }),
    weights,
  );
  let x = e.tagKey(e.b.input('input', [1, spec.input.height, spec.input.width, spec.input.channels]), INPUT_RANGE_KEY);
  let blockInput: TensorHandle | undefined;
  let currentUnit = -1;
  for (const layer of network.layers) {
    if (layer.unitIndex !== currentUnit) {
      currentUnit = layer.unitIndex;
      blockInput = x;
    }
    x = emitLayer(e, layer, x, blockInput);
  }
  if (spec.task === 'classification' && options.softmax !== false) x = e.b.softmax(x, { name: 'probabilities' });
  e.b.output(x);
  return e.finish(options.quantization);
}

/**
 * One layer as it sits in the network, for a per-layer latency entry: its input shape, its folded weights,
 * activation and bypass. A residual projection has a second input, the block input. Quantized, the inputs take the
 * ranges of the previous layer's output (`<previous id>:output`, or `input`) and of the block input, given under the
 * keys `<id>:input` and `<id>:block_input`.
 */
export function exportLayer(layer: ResolvedLayer, weights: FoldedWeights, description?: string, quantization?: QuantizationOptions): Uint8Array {
  const e = new Emitter(new TfliteModelBuilder({ description: description ?? `NetAdapt Studio layer ${layer.id}` }), weights);
  const x = e.tagKey(e.b.input(`${layer.id}/input`, nhwc(layer.input)), layerInputKey(layer.id));
  const blockInput = layer.residual && layer.blockInput
    ? e.tagKey(e.b.input(`${layer.id}/block_input`, nhwc(layer.blockInput)), layerBlockInputKey(layer.id))
    : undefined;
  let y = emitLayer(e, layer, x, blockInput);
  if (y === x || y === blockInput) y = e.b.reshape(y, nhwc(layer.output), { name: `${layer.id}/identity` });
  e.b.output(y);
  return e.finish(quantization);
}

/** Range keys of a single-layer model's inputs (see exportLayer). */
export function layerInputKey(layerId: string): string {
  return `${layerId}:input`;
}

export function layerBlockInputKey(layerId: string): string {
  return `${layerId}:block_input`;
}

/**
 * The network's calibrated ranges plus, for every layer, the ranges of the tensors that feed it in the network
 * (under layerInputKey / layerBlockInputKey): what its single-layer model needs to be quantized as it is in the
 * whole int8 network.
 */
export function withLayerInputRanges(network: ResolvedNetwork, ranges: ActivationRanges): ActivationRanges {
  const out = new Map(ranges);
  let previous = INPUT_RANGE_KEY;
  let block = INPUT_RANGE_KEY;
  let unit = -1;
  for (const layer of network.layers) {
    if (layer.unitIndex !== unit) {
      unit = layer.unitIndex;
      block = previous;
    }
    const input = ranges.get(previous);
    const blockInput = ranges.get(block);
    if (input) out.set(layerInputKey(layer.id), input);
    if (blockInput) out.set(layerBlockInputKey(layer.id), blockInput);
    previous = rangeKey(layer.id, 'output');
  }
  return out;
}

/**
 * Ranges for models measured for latency only (random weights, no calibration data): the int8 operators and their
 * shapes are what a calibrated model has, and the values of scales do not change an int8 kernel's work.
 */
export const NOMINAL_RANGES: Pick<ActivationRanges, 'get'> = {
  get: (key: string) => (key.endsWith(':se.gate') ? { min: 0, max: 1 } : { min: -4, max: 4 }),
};

function nhwc(shape: Shape3): number[] {
  return [1, shape.height, shape.width, shape.channels];
}

function emitLayer(e: Emitter, layer: ResolvedLayer, x: TensorHandle, blockInput: TensorHandle | undefined): TensorHandle {
  if (layer.identity) return layer.residual ? requireBlockInput(layer, blockInput) : x;
  const { b } = e;
  let y: TensorHandle;
  switch (layer.op) {
    case 'conv':
    case 'dwconv':
      y = layer.residual ? residualProjection(e, layer, x, requireBlockInput(layer, blockInput)) : plainConv(e, layer, x);
      break;
    case 'se':
      y = squeezeExcite(e, layer, x, weightsOf<SqueezeExciteWeights>(layer, e.weights, 'se'));
      break;
    case 'gap':
      y = e.tag(b.mean(x, [1, 2], true, { name: layer.id }), layer, 'output');
      break;
    case 'upsample':
      y = b.resizeNearest(x, [layer.output.height, layer.output.width], { name: layer.id });
      break;
    case 'fc': {
      const w = weightsOf<ConvWeights>(layer, e.weights, 'fc');
      const flat = b.reshape(x, [1, layer.input.channels], { name: `${layer.id}/flatten` });
      const out = b.fullyConnected(flat, {
        name: layer.id,
        weights: transpose2d(w.kernel, layer.input.channels, layer.filters),
        outUnits: layer.filters,
        bias: w.bias,
        activation: fusable(layer.act),
      });
      y = layer.act === 'hswish' ? e.tag(b.hardSwish(e.tag(out, layer, 'preact'), { name: `${layer.id}/hswish` }), layer, 'output') : e.tag(out, layer, 'output');
      return checkShape(layer, y, [1, layer.output.channels]);
    }
  }
  return checkShape(layer, y, nhwc(layer.output));
}

function requireBlockInput(layer: ResolvedLayer, blockInput: TensorHandle | undefined): TensorHandle {
  if (!blockInput) throw new ValidationError(`layer ${layer.id}: residual projection without a block input`);
  return blockInput;
}

function fusable(act: ResolvedLayer['act']): FusedActivation {
  return act === 'relu' || act === 'relu6' ? act : 'none';
}

/** The filters part: conv (or depthwise on the first M channels) with folded BN and the activation. */
function filtersPart(e: Emitter, layer: ResolvedLayer, x: TensorHandle): TensorHandle {
  const { b, weights } = e;
  const m = layer.filters;
  const k = layer.kernel;
  const c = layer.input.channels;
  let y: TensorHandle;
  if (layer.op === 'dwconv') {
    const w = weightsOf<ConvWeights>(layer, weights, 'dwconv');
    const input = m < c ? b.slice(x, [0, 0, 0, 0], [-1, -1, -1, m], { name: `${layer.id}/filtered_channels` }) : x;
    y = b.depthwiseConv2d(input, {
      name: `${layer.id}/dw`,
      weights: w.kernel,
      kernelSize: k,
      bias: w.bias,
      stride: layer.stride,
      padding: 'same',
      activation: fusable(layer.act),
    });
  } else {
    const w = weightsOf<ConvWeights>(layer, weights, 'conv');
    y = b.conv2d(x, {
      name: `${layer.id}/conv`,
      weights: hwioToOhwi(w.kernel, k, c, m),
      outChannels: m,
      kernelSize: k,
      bias: w.bias,
      stride: layer.stride,
      padding: 'same',
      activation: fusable(layer.act),
    });
  }
  if (layer.act !== 'hswish') return e.tag(y, layer, 'filters');
  return e.tag(b.hardSwish(e.tag(y, layer, 'preact'), { name: `${layer.id}/hswish` }), layer, 'filters');
}

/** Channels [from, to) of x, spatially subsampled by the layer's stride. */
function bypassSlice(b: TfliteModelBuilder, layer: ResolvedLayer, x: TensorHandle, from: number, to: number): TensorHandle {
  const s = layer.stride;
  const [, h, w, c] = x.shape as [number, number, number, number];
  if (s === 1 && from === 0 && to === c) return x;
  if (s === 1) return b.slice(x, [0, 0, 0, from], [-1, -1, -1, to - from], { name: `${layer.id}/bypass` });
  return b.stridedSlice(x, [0, 0, 0, from], [1, h, w, to], [1, s, s, 1], { name: `${layer.id}/bypass` });
}

function plainConv(e: Emitter, layer: ResolvedLayer, x: TensorHandle): TensorHandle {
  const m = layer.filters;
  const bypass = layer.bypassChannels;
  if (m === 0) return bypassSlice(e.b, layer, x, 0, bypass);
  const filtered = filtersPart(e, layer, x);
  if (bypass === 0) return filtered;
  const bypassed = bypassSlice(e.b, layer, x, m, m + bypass);
  return e.tag(e.b.concat([filtered, bypassed], 3, { name: `${layer.id}/cbc` }), layer, 'output');
}

/** y[i] = (i < M ? conv(x)[i] : 0) + (i < R ? B[i] : 0), zero-padding the narrower side to Z = max(R, M). */
function residualProjection(e: Emitter, layer: ResolvedLayer, x: TensorHandle, block: TensorHandle): TensorHandle {
  const { b } = e;
  const m = layer.filters;
  const r = layer.bypassChannels;
  const z = layer.output.channels;
  const cb = block.shape[3] ?? 0;
  let filtered = m > 0 ? filtersPart(e, layer, x) : undefined;
  if (r === 0 && filtered) return filtered;
  const residual = r === cb ? block : b.slice(block, [0, 0, 0, 0], [-1, -1, -1, r], { name: `${layer.id}/residual` });
  if (!filtered) return residual;
  const padded = (t: TensorHandle, channels: number, name: string) =>
    channels === z ? t : b.pad(t, [[0, 0], [0, 0], [0, 0], [0, z - channels]], { name });
  filtered = padded(filtered, m, `${layer.id}/pad_filters`);
  return e.tag(b.add(filtered, padded(residual, r, `${layer.id}/pad_residual`), { name: `${layer.id}/add` }), layer, 'output');
}

/** Where relu6(x + 3) is not constant. */
const HARD_SIGMOID_INPUT: ValueRange = { min: -3, max: 3 };

function squeezeExcite(e: Emitter, layer: ResolvedLayer, x: TensorHandle, w: SqueezeExciteWeights): TensorHandle {
  const { b } = e;
  const c = layer.input.channels;
  const m = layer.filters;
  const pooled = e.tag(b.mean(x, [1, 2], true, { name: `${layer.id}/squeeze` }), layer, 'se.pooled');
  const reduced = b.conv2d(pooled, {
    name: `${layer.id}/reduce`,
    weights: hwioToOhwi(w.reduce, 1, c, m),
    outChannels: m,
    kernelSize: 1,
    bias: w.reduceBias,
    activation: 'relu',
  });
  e.tag(reduced, layer, 'se.hidden');
  const expanded = b.conv2d(reduced, {
    name: `${layer.id}/expand`,
    weights: hwioToOhwi(w.expand, 1, m, c),
    outChannels: c,
    kernelSize: 1,
    bias: w.expandBias,
  });
  // hard-sigmoid(x) = relu6(x + 3) / 6, from ADD (fused RELU6) and MUL.
  const three = b.constant(`${layer.id}/three`, [1], Float32Array.of(3));
  const sixth = b.constant(`${layer.id}/sixth`, [1], Float32Array.of(1 / 6));
  e.tag(expanded, layer, 'se.expanded', 1, HARD_SIGMOID_INPUT);
  const shifted = e.tag(b.add(expanded, three, { name: `${layer.id}/hsigmoid_add`, activation: 'relu6' }), layer, 'se.gate', 6);
  const gate = e.tag(b.mul(shifted, sixth, { name: `${layer.id}/gate` }), layer, 'se.gate');
  return e.tag(b.mul(x, gate, { name: `${layer.id}/excite` }), layer, 'output');
}

function weightsOf<T extends LayerWeights>(layer: ResolvedLayer, weights: FoldedWeights, kind: LayerWeights['kind']): T {
  const w = weights.get(layer.id);
  if (!w) throw new ValidationError(`no weights for layer "${layer.id}"`);
  if (w.kind !== kind) throw new ValidationError(`weights of layer "${layer.id}" are for a ${w.kind} layer, expected ${kind}`);
  const expected = expectedSizes(layer);
  const actual = w.kind === 'se' ? [w.reduce.length, w.expand.length] : [w.kernel.length, w.bias.length];
  if (expected.some((n, i) => n !== actual[i])) {
    throw new ValidationError(
      `weights of layer "${layer.id}" have ${actual.join('/')} values, the sub-network needs ${expected.join('/')}: they belong to another network or sub-network`,
    );
  }
  return w as T;
}

function expectedSizes(layer: ResolvedLayer): number[] {
  const { filters: m, kernel: k } = layer;
  const c = layer.input.channels;
  switch (layer.op) {
    case 'conv':
      return [k * k * c * m, m];
    case 'dwconv':
      return [k * k * m, m];
    case 'se':
      return [c * m, m * c];
    case 'fc':
      return [c * m, m];
    default:
      return [];
  }
}

function checkShape(layer: ResolvedLayer, t: TensorHandle, expected: number[]): TensorHandle {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`export of ${layer.id}: TFLite shape [${t.shape.join(',')}] differs from core/arch's [${expected.join(',')}]`);
  }
  return t;
}

/** [k, k, C, M] (HWIO) -> [M, k, k, C] (OHWI). */
export function hwioToOhwi(kernel: Float32Array, k: number, c: number, m: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let h = 0; h < k; h++) {
    for (let w = 0; w < k; w++) {
      for (let i = 0; i < c; i++) {
        const src = ((h * k + w) * c + i) * m;
        for (let o = 0; o < m; o++) out[((o * k + h) * k + w) * c + i] = kernel[src + o] as number;
      }
    }
  }
  return out;
}

/** [rows, cols] -> [cols, rows]. */
export function transpose2d(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c] as number;
  return out;
}
