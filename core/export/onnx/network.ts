/**
 * ONNX export of whole (sub-)networks for fast batched evaluation in ONNX Runtime, following
 * docs/forward-semantics.md like the TFLite writer (core/export/network.ts). Input 'input' is NHWC [N, H, W, 3]
 * with a symbolic batch N (transposed to NCHW inside); output 'output' is logits [N, classes] or the NHWC map.
 *
 * Two forms:
 * - inference: `weights` are BN-folded (core/weights/folded.ts), one Conv with bias per layer;
 * - calibration: `weights` hold the raw conv kernels (bias 0 for BN layers) and `batchNorm` their γ/β; BN layers
 *   normalize with the batch's statistics and the graph also outputs `<layer id>/mean` and `<layer id>/variance`
 *   ([M], biased variance, two-pass), which BN recalibration averages.
 */
import type { Activation } from '../../arch/spec.ts';
import type { ResolvedLayer } from '../../arch/layers.ts';
import type { ResolvedNetwork } from '../../arch/resolve.ts';
import { ValidationError } from '../../errors.ts';
import type { ConvWeights, FoldedWeights, LayerWeights, SqueezeExciteWeights } from '../../weights/folded.ts';
import { OnnxGraphBuilder, type Value } from './builder.ts';

export interface BatchNormAffine {
  gamma: Float32Array;
  beta: Float32Array;
}

export interface OnnxNetworkOptions {
  /** Calibration form: γ/β per BN layer id (the layers whose statistics are output). */
  batchNorm?: ReadonlyMap<string, BatchNormAffine>;
  /** BN epsilon of the calibration form. */
  epsilon?: number;
  /** Weights as graph inputs (OnnxGraphBuilder.fedWeights) instead of initializers. */
  weightsAsInputs?: boolean;
}

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';

/** Names of the statistics outputs of a BN layer in the calibration form. */
export function statisticsOutputs(layerId: string): { mean: string; variance: string } {
  return { mean: `${layerId}/mean`, variance: `${layerId}/variance` };
}

export function exportOnnxNetwork(network: ResolvedNetwork, weights: FoldedWeights, options: OnnxNetworkOptions = {}): Uint8Array {
  return onnxNetworkGraph(network, weights, options).encode(`NetAdapt Studio: ${network.spec.name}, ${network.macs} MACs`);
}

/** The graph of exportOnnxNetwork, before encoding. */
export function onnxNetworkGraph(network: ResolvedNetwork, weights: FoldedWeights, options: OnnxNetworkOptions = {}): OnnxGraphBuilder {
  const { spec } = network;
  const b = new OnnxGraphBuilder(spec.name, options.weightsAsInputs ?? false);
  const input = b.input(ONNX_INPUT, 'float', ['N', spec.input.height, spec.input.width, spec.input.channels]);
  const ctx: EmitContext = { b, weights, options, stats: [] };
  let x = b.transpose(input, [0, 3, 1, 2], 'nchw');
  let blockInput = x;
  let unit = -1;
  for (const layer of network.layers) {
    if (layer.unitIndex !== unit) {
      unit = layer.unitIndex;
      blockInput = x;
    }
    x = emitLayer(ctx, layer, x, blockInput);
  }
  const out = network.output;
  if (spec.task === 'classification') {
    b.output(x, 'float', ['N', out.channels], ONNX_OUTPUT);
  } else {
    b.output(b.transpose(x, [0, 2, 3, 1], 'nhwc'), 'float', ['N', out.height, out.width, out.channels], ONNX_OUTPUT);
  }
  for (const s of ctx.stats) {
    const names = statisticsOutputs(s.id);
    b.output(s.mean, 'float', [s.channels], names.mean);
    b.output(s.variance, 'float', [s.channels], names.variance);
  }
  return b;
}

interface EmitContext {
  b: OnnxGraphBuilder;
  weights: FoldedWeights;
  options: OnnxNetworkOptions;
  stats: { id: string; channels: number; mean: Value; variance: Value }[];
}

function emitLayer(ctx: EmitContext, layer: ResolvedLayer, x: Value, blockInput: Value): Value {
  const { b } = ctx;
  if (layer.identity) return layer.residual ? blockInput : x;
  switch (layer.op) {
    case 'conv':
    case 'dwconv':
      return layer.residual ? residualProjection(ctx, layer, x, blockInput) : plainConv(ctx, layer, x);
    case 'se':
      return squeezeExcite(ctx, layer, x, weightsOf<SqueezeExciteWeights>(ctx.weights, layer, 'se'));
    case 'gap':
      return b.node('GlobalAveragePool', [x], {}, layer.id);
    case 'upsample':
      return b.node('Resize', [x, '', b.floats([1, 1, layer.scale, layer.scale])], {
        mode: 'nearest',
        coordinate_transformation_mode: 'asymmetric',
        nearest_mode: 'floor',
      }, layer.id);
    case 'fc': {
      const w = weightsOf<ConvWeights>(ctx.weights, layer, 'fc');
      const flat = b.node('Flatten', [x], { axis: 1 }, `${layer.id}/flatten`);
      const kernel = b.weight(`${layer.id}/kernel`, [layer.input.channels, layer.filters], w.kernel);
      const bias = b.weight(`${layer.id}/bias`, [layer.filters], w.bias);
      return activate(b, b.node('Gemm', [flat, kernel, bias], {}, layer.id), layer.act, layer.id);
    }
  }
}

export function activate(b: OnnxGraphBuilder, x: Value, act: Activation, hint: string): Value {
  switch (act) {
    case 'relu':
      return b.node('Relu', [x], {}, `${hint}/relu`);
    case 'relu6':
      return b.node('Clip', [x, b.scalar(0), b.scalar(6)], {}, `${hint}/relu6`);
    case 'hswish':
      return b.node('HardSwish', [x], {}, `${hint}/hswish`);
    case 'none':
      return x;
  }
}

/** tfjs 'same' padding (extra row/column at the end), as ONNX pads [top, left, bottom, right]. */
export function samePads(inH: number, inW: number, k: number, stride: number): number[] {
  const along = (size: number) => {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  };
  const [top, bottom] = along(inH);
  const [left, right] = along(inW);
  return [top, left, bottom, right];
}

/** [k, k, C, M] (HWIO) → [M, C, k, k] (OIHW). */
export function hwioToOihw(kernel: Float32Array, k: number, c: number, m: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let h = 0; h < k; h++) {
    for (let w = 0; w < k; w++) {
      for (let i = 0; i < c; i++) {
        const src = ((h * k + w) * c + i) * m;
        for (let o = 0; o < m; o++) out[((o * c + i) * k + h) * k + w] = kernel[src + o] as number;
      }
    }
  }
  return out;
}

/** [k, k, M] (HWC) → [M, 1, k, k]. */
export function hwcToM1hw(kernel: Float32Array, k: number, m: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let p = 0; p < k * k; p++) for (let o = 0; o < m; o++) out[o * k * k + p] = kernel[p * m + o] as number;
  return out;
}

/** The filters part: conv (or depthwise on the first M channels), folded bias or batch-statistics BN, activation. */
function filtersPart(ctx: EmitContext, layer: ResolvedLayer, x: Value): Value {
  const { b } = ctx;
  const m = layer.filters;
  const k = layer.kernel;
  const c = layer.input.channels;
  const pads = samePads(layer.input.height, layer.input.width, k, layer.stride);
  const attrs = { kernel_shape: [k, k], strides: [layer.stride, layer.stride], pads };
  const bn = ctx.options.batchNorm?.get(layer.id);
  let y: Value;
  if (layer.op === 'dwconv') {
    const w = weightsOf<ConvWeights>(ctx.weights, layer, 'dwconv');
    const input = m < c ? b.slice(x, [0], [m], [1], undefined, `${layer.id}/filtered_channels`) : x;
    const kernel = b.weight(`${layer.id}/kernel`, [m, 1, k, k], hwcToM1hw(w.kernel, k, m));
    const inputs = bn ? [input, kernel] : [input, kernel, b.weight(`${layer.id}/bias`, [m], w.bias)];
    y = b.node('Conv', inputs, { ...attrs, group: m }, `${layer.id}/dw`);
  } else {
    const w = weightsOf<ConvWeights>(ctx.weights, layer, 'conv');
    const kernel = b.weight(`${layer.id}/kernel`, [m, c, k, k], hwioToOihw(w.kernel, k, c, m));
    const inputs = bn ? [x, kernel] : [x, kernel, b.weight(`${layer.id}/bias`, [m], w.bias)];
    y = b.node('Conv', inputs, attrs, `${layer.id}/conv`);
  }
  if (bn) y = batchStatisticsNorm(ctx, layer.id, y, m, bn);
  return activate(b, y, layer.act, layer.id);
}

/**
 * Batch-statistics BN in four passes over y: the mean, y − mean, the sum of its squares (the two-pass biased
 * variance) and ONNX BatchNormalization (inference form) fed with those statistics (was seven passes of
 * elementwise ops; a third less kernel time in ONNX Runtime).
 */
function batchStatisticsNorm(ctx: EmitContext, id: string, y: Value, m: number, bn: BatchNormAffine): Value {
  const { b } = ctx;
  const mean = b.reduceMean(y, [0, 2, 3], true, `${id}/batch_mean`);
  const centered = b.sub(y, mean, `${id}/centered`);
  const squares = b.node('ReduceSumSquare', [centered], { axes: [0, 2, 3], keepdims: 0 }, `${id}/squares`);
  // N·H·W with a symbolic batch N: the element count of y over its M channels.
  const count = b.div(b.node('Cast', [b.node('Size', [y], {}, `${id}/size`)], { to: 1 }, `${id}/size_float`), b.scalar(m), `${id}/count`);
  const variance = b.div(squares, count, `${id}/batch_variance`);
  const flatMean = b.reshape(mean, [m]);
  ctx.stats.push({ id, channels: m, mean: flatMean, variance });
  const gamma = b.weight(`${id}/gamma`, [m], bn.gamma);
  const beta = b.weight(`${id}/beta`, [m], bn.beta);
  return b.node('BatchNormalization', [y, gamma, beta, flatMean, variance], { epsilon: { float: ctx.options.epsilon ?? 1e-3 } }, `${id}/bn`);
}

/** Channels [from, to) of x (NCHW), spatially subsampled by the layer's stride. */
function bypassSlice(b: OnnxGraphBuilder, layer: ResolvedLayer, x: Value, from: number, to: number): Value {
  const s = layer.stride;
  const { height: h, width: w } = layer.input;
  if (s === 1) return b.slice(x, [from], [to], [1], undefined, `${layer.id}/bypass`);
  return b.slice(x, [from, 0, 0], [to, h, w], [1, 2, 3], [1, s, s], `${layer.id}/bypass`);
}

function plainConv(ctx: EmitContext, layer: ResolvedLayer, x: Value): Value {
  const m = layer.filters;
  const bypass = layer.bypassChannels;
  if (m === 0) return bypassSlice(ctx.b, layer, x, 0, bypass);
  const filtered = filtersPart(ctx, layer, x);
  if (bypass === 0) return filtered;
  return ctx.b.concat([filtered, bypassSlice(ctx.b, layer, x, m, m + bypass)], 1, `${layer.id}/cbc`);
}

/** y[i] = (i < M ? conv(x)[i] : 0) + (i < R ? B[i] : 0), zero-padding the narrower side to Z = max(R, M). */
function residualProjection(ctx: EmitContext, layer: ResolvedLayer, x: Value, block: Value): Value {
  const { b } = ctx;
  const m = layer.filters;
  const r = layer.bypassChannels;
  const z = layer.output.channels;
  const cb = layer.blockInput?.channels ?? r;
  const filtered = m > 0 ? filtersPart(ctx, layer, x) : undefined;
  if (r === 0 && filtered) return filtered;
  const residual = r === cb ? block : b.slice(block, [0], [r], [1], undefined, `${layer.id}/residual`);
  if (!filtered) return residual;
  const padded = (t: Value, channels: number, hint: string) => (channels === z ? t : b.pad(t, [0, 0, 0, 0, 0, z - channels, 0, 0], hint));
  return b.add(padded(filtered, m, `${layer.id}/pad_filters`), padded(residual, r, `${layer.id}/pad_residual`), `${layer.id}/add`);
}

function squeezeExcite(ctx: EmitContext, layer: ResolvedLayer, x: Value, w: SqueezeExciteWeights): Value {
  const { b } = ctx;
  const c = layer.input.channels;
  const m = layer.filters;
  const pooled = b.node('GlobalAveragePool', [x], {}, `${layer.id}/squeeze`);
  const reduceW = b.weight(`${layer.id}/reduce`, [m, c, 1, 1], hwioToOihw(w.reduce, 1, c, m));
  const reduced = b.node('Relu', [b.node('Conv', [pooled, reduceW, b.weight(`${layer.id}/reduce_bias`, [m], w.reduceBias)], {}, `${layer.id}/reduce`)]);
  const expandW = b.weight(`${layer.id}/expand`, [c, m, 1, 1], hwioToOihw(w.expand, 1, m, c));
  const expanded = b.node('Conv', [reduced, expandW, b.weight(`${layer.id}/expand_bias`, [c], w.expandBias)], {}, `${layer.id}/expand`);
  // hard-sigmoid: relu6(x + 3) / 6 = max(0, min(1, x/6 + 1/2)).
  const gate = b.node('HardSigmoid', [expanded], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }, `${layer.id}/gate`);
  return b.mul(x, gate, `${layer.id}/excite`);
}

function weightsOf<T extends LayerWeights>(weights: FoldedWeights, layer: ResolvedLayer, kind: LayerWeights['kind']): T {
  const w = weights.get(layer.id);
  if (!w) throw new ValidationError(`no weights for layer "${layer.id}"`);
  if (w.kind !== kind) throw new ValidationError(`weights of layer "${layer.id}" are for a ${w.kind} layer, expected ${kind}`);
  return w as T;
}
