/**
 * Materialized (slim) sub-networks: the shared weights sliced to a SubnetConfig — physically fewer channels
 * (filters [:M], input channels [:C]), centre-cropped kernels, removed layers gone, bypass as slice/concat — and a
 * tfjs inference forward pass over them (docs/forward-semantics.md). `foldedWeights` folds BN into conv biases for the
 * TFLite exporter (core/weights/folded.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedLayer, ResolvedNetwork, SubnetConfig } from '../arch/index.ts';
import { resolveNetwork } from '../arch/index.ts';
import type { RangePoint } from '../weights/activation-ranges.ts';
import type { FoldedWeights } from '../weights/folded.ts';
import { activate, batchNorm, centerCrop, channelMoments, channelSlice, fitChannels, hardSigmoid, subsample, upsampleNearest } from './ops.ts';
import { BN_EPSILON, type SupernetWeights } from './weights.ts';

export interface BatchNormParams {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** conv: kernel [k,k,C,M]; dwconv: kernel [k,k,M,1]. Either BN or a bias. */
export interface SlimConvParams {
  kind: 'conv' | 'dwconv';
  kernel: tf.Tensor4D;
  bn?: BatchNormParams;
  bias?: tf.Tensor1D;
}

export interface SlimSEParams {
  kind: 'se';
  reduce: tf.Tensor2D;
  reduceBias: tf.Tensor1D;
  expand: tf.Tensor2D;
  expandBias: tf.Tensor1D;
}

export interface SlimFCParams {
  kind: 'fc';
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

export type SlimParams = SlimConvParams | SlimSEParams | SlimFCParams;

export interface SlimPredictOptions {
  /** Normalize with batch statistics and report them (BN recalibration) instead of the stored statistics. */
  onBatchStats?: (layerId: string, mean: tf.Tensor1D, variance: tf.Tensor1D) => void;
  /** Debugging: receives every layer's output. */
  trace?: (layerId: string, output: tf.Tensor) => void;
  /**
   * Calibration (calibrate.ts): receives every tensor the exported model holds, named by its point of
   * core/weights/activation-ranges.ts (layer outputs, filters parts, pre-activations, SE internals).
   */
  probe?: (layerId: string, point: RangePoint, value: tf.Tensor) => void;
}

export class SlimNetwork {
  readonly resolved: ResolvedNetwork;
  /** Layer id -> parameters; layers with M = 0 and weightless layers have none. */
  readonly params: Map<string, SlimParams>;

  constructor(resolved: ResolvedNetwork, params: Map<string, SlimParams>) {
    this.resolved = resolved;
    this.params = params;
    resolved.layers.forEach((layer, i) => {
      const prev = resolved.layers[i - 1];
      if (prev) this.previousLayer.set(layer.id, prev);
    });
  }

  get config(): ResolvedNetwork {
    return this.resolved;
  }

  /** Inference forward pass: logits [N, classes] or an output map [N, H, W, C]. */
  predict(input: tf.Tensor4D, opts: SlimPredictOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      let x: tf.Tensor = input;
      let blockInput = input;
      let unit = -1;
      for (const layer of this.resolved.layers) {
        if (layer.unitIndex !== unit) {
          unit = layer.unitIndex;
          blockInput = x as tf.Tensor4D;
        }
        x = this.layerForward(layer, x, blockInput, opts);
        opts.trace?.(layer.id, x);
        opts.probe?.(layer.id, 'output', x);
      }
      return x;
    });
  }

  private layerForward(layer: ResolvedLayer, x: tf.Tensor, blockInput: tf.Tensor4D, opts: SlimPredictOptions): tf.Tensor {
    // Identity layers do nothing; a removed residual projection outputs the block input (padded to its width).
    if (layer.identity && !layer.residual) return x;
    switch (layer.op) {
      case 'conv':
      case 'dwconv':
        return this.conv(layer, x as tf.Tensor4D, blockInput, opts);
      case 'se': {
        const p = this.params.get(layer.id) as SlimSEParams | undefined;
        if (!p) return x;
        const [n, , , c] = x.shape as [number, number, number, number];
        const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
        const r = tf.relu(tf.add(tf.matMul(pooled, p.reduce), p.reduceBias)) as tf.Tensor2D;
        const expanded = tf.add(tf.matMul(r, p.expand), p.expandBias);
        const gate = hardSigmoid(expanded);
        if (opts.probe) {
          opts.probe(layer.id, 'se.pooled', pooled);
          opts.probe(layer.id, 'se.hidden', r);
          opts.probe(layer.id, 'se.expanded', expanded);
          opts.probe(layer.id, 'se.gate', gate);
        }
        return tf.mul(x, tf.reshape(gate, [n, 1, 1, c]));
      }
      case 'gap':
        return tf.mean(x, [1, 2], true);
      case 'upsample':
        return upsampleNearest(x as tf.Tensor4D, layer.scale);
      case 'fc': {
        const p = this.params.get(layer.id) as SlimFCParams;
        const flat = tf.reshape(x, [x.shape[0] as number, -1]) as tf.Tensor2D;
        const linear = tf.add(tf.matMul(flat, p.kernel), p.bias) as tf.Tensor2D;
        opts.probe?.(layer.id, 'preact', linear);
        return activate(linear, layer.act);
      }
    }
  }

  /** Folded (kernel, bias) per conv layer, valid while the BN statistics tensors it was folded from are current. */
  private readonly foldedCache = new Map<string, { from: SlimConvParams['bn'] | undefined; mean?: tf.Tensor; variance?: tf.Tensor; kernel: tf.Tensor4D; bias: tf.Tensor1D }>();

  private foldedParams(layer: ResolvedLayer, p: SlimConvParams): { kernel: tf.Tensor4D; bias: tf.Tensor1D } {
    const cached = this.foldedCache.get(layer.id);
    if (cached && cached.from === p.bn && cached.mean === p.bn?.mean && cached.variance === p.bn?.variance) return cached;
    if (cached) tf.dispose([cached.kernel, cached.bias]);
    // Kept: predict() runs inside tf.tidy, and these outlive the call (disposed with the network or on refold).
    const { kernel, bias } = foldConv(p);
    tf.keep(kernel);
    tf.keep(bias);
    const entry = { from: p.bn, mean: p.bn?.mean, variance: p.bn?.variance, kernel, bias };
    this.foldedCache.set(layer.id, entry);
    return entry;
  }

  private fusedConv(layer: ResolvedLayer, p: SlimConvParams, x: tf.Tensor4D, opts: SlimPredictOptions): tf.Tensor4D {
    const { kernel, bias } = this.foldedParams(layer, p);
    const fusedAct = layer.act === 'relu' || layer.act === 'relu6' ? layer.act : 'linear';
    const y = p.kind === 'conv'
      ? tf.fused.conv2d({ x, filter: kernel, strides: layer.stride, pad: 'same', bias, activation: fusedAct })
      : tf.fused.depthwiseConv2d({ x, filter: kernel, strides: layer.stride, pad: 'same', bias, activation: fusedAct });
    if (fusedAct !== 'linear') return y;
    opts.probe?.(layer.id, 'preact', y);
    return activate(y, layer.act);
  }

  /**
   * A depthwise layer with bypass channels as ONE depthwise conv over all input channels: the bypass channels get a
   * single unit tap (bias 0) at the position that reads input pixel (i·s, j·s) — exactly the subsampled bypass — so the
   * slice / slice / concat of the general path disappear. Cached like the folded parameters.
   */
  private wideDepthwise(layer: ResolvedLayer, p: SlimConvParams): { kernel: tf.Tensor4D; bias: tf.Tensor1D } {
    const folded = this.foldedParams(layer, p);
    const cached = this.wideCache.get(layer.id);
    if (cached && cached.from === folded.kernel) return cached;
    if (cached) tf.dispose([cached.kernel, cached.bias]);
    const k = layer.kernel;
    const b = layer.bypassChannels;
    const tapRow = samePadBefore(layer.input.height, k, layer.stride);
    const tapCol = samePadBefore(layer.input.width, k, layer.stride);
    const unit = new Float32Array(k * k * b);
    unit.fill(1, (tapRow * k + tapCol) * b, (tapRow * k + tapCol + 1) * b);
    const kernel = tf.keep(tf.tidy(() => tf.concat([folded.kernel, tf.tensor4d(unit, [k, k, b, 1])], 2)));
    const bias = tf.keep(tf.tidy(() => tf.concat([folded.bias, tf.zeros([b])]) as tf.Tensor1D));
    const entry = { from: folded.kernel, kernel, bias };
    this.wideCache.set(layer.id, entry);
    return entry;
  }

  private readonly wideCache = new Map<string, { from: tf.Tensor4D; kernel: tf.Tensor4D; bias: tf.Tensor1D }>();

  /**
   * True when the bypass channels of this depthwise layer pass its activation unchanged: they are the output of the
   * previous layer's fused activation (which covered all its channels) and act(act_prev(v)) = act_prev(v).
   */
  private bypassSurvivesActivation(layer: ResolvedLayer, x: tf.Tensor4D): boolean {
    if (layer.op !== 'dwconv' || layer.residual || layer.bypassChannels === 0) return false;
    if (x.shape[3] !== layer.filters + layer.bypassChannels) return false;
    if (layer.act === 'none') return true;
    const prev = this.previousLayer.get(layer.id);
    if (!prev || prev.op !== 'conv' || prev.unitIndex !== layer.unitIndex || prev.residual || prev.identity) return false;
    if (prev.filters !== prev.output.channels || prev.bypassChannels !== 0 || !this.params.has(prev.id)) return false;
    if (layer.act === 'relu') return prev.act === 'relu' || prev.act === 'relu6';
    if (layer.act === 'relu6') return prev.act === 'relu6';
    return false;
  }

  private readonly previousLayer = new Map<string, ResolvedLayer>();

  private conv(layer: ResolvedLayer, x: tf.Tensor4D, blockInput: tf.Tensor4D, opts: SlimPredictOptions): tf.Tensor4D {
    const m = layer.filters;
    let y: tf.Tensor4D | undefined;
    const p = this.params.get(layer.id) as SlimConvParams | undefined;
    if (m > 0 && p && !opts.onBatchStats && !opts.probe && this.bypassSurvivesActivation(layer, x)) {
      const { kernel, bias } = this.wideDepthwise(layer, p);
      const fusedAct = layer.act === 'relu' || layer.act === 'relu6' ? layer.act : 'linear';
      return tf.fused.depthwiseConv2d({ x, filter: kernel, strides: layer.stride, pad: 'same', bias, activation: fusedAct });
    }
    if (m > 0 && p && !opts.onBatchStats) {
      // Inference with stored statistics: BN folded into kernel + bias once, one fused op (bias + relu/relu6).
      y = this.fusedConv(layer, p, p.kind === 'conv' ? x : channelSlice(x, 0, m), opts);
    } else if (m > 0 && p) {
      y = p.kind === 'conv'
        ? tf.conv2d(x, p.kernel, layer.stride, 'same')
        : tf.depthwiseConv2d(channelSlice(x, 0, m), p.kernel, layer.stride, 'same');
      if (p.bn) {
        if (opts.onBatchStats) {
          const { mean, variance } = channelMoments(y);
          opts.onBatchStats(layer.id, mean, variance);
          y = batchNorm(y, mean, variance, p.bn.gamma, p.bn.beta, BN_EPSILON);
        } else {
          y = batchNorm(y, p.bn.mean, p.bn.variance, p.bn.gamma, p.bn.beta, BN_EPSILON);
        }
      } else if (p.bias) {
        y = tf.add(y, p.bias) as tf.Tensor4D;
      }
      opts.probe?.(layer.id, 'preact', y);
      y = activate(y, layer.act);
    }
    if (y) opts.probe?.(layer.id, 'filters', y);
    const z = layer.output.channels;
    if (layer.residual) {
      const r = layer.bypassChannels;
      if (r === 0) return y as tf.Tensor4D;
      const skip = fitChannels(channelSlice(blockInput, 0, r), z);
      return y ? tf.add(fitChannels(y, z), skip) : skip;
    }
    if (layer.bypassChannels > 0) {
      const bypass = channelSlice(subsample(x, layer.stride), m, layer.bypassChannels);
      return y ? tf.concat([y, bypass], 3) : bypass;
    }
    return y as tf.Tensor4D;
  }

  /**
   * BN recalibration: runs the batches with batch-statistics normalization and stores, per BN layer, the average of the
   * batch means and of the batch variances as the new statistics.
   */
  recalibrate(batches: readonly tf.Tensor4D[]): void {
    if (batches.length === 0) return;
    const sums = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
    for (const batch of batches) {
      tf.tidy(() => {
        this.predict(batch, {
          onBatchStats: (id, mean, variance) => {
            const prev = sums.get(id);
            const next = prev
              ? { mean: tf.add(prev.mean, mean) as tf.Tensor1D, variance: tf.add(prev.variance, variance) as tf.Tensor1D }
              : { mean: mean.clone(), variance: variance.clone() };
            tf.keep(next.mean);
            tf.keep(next.variance);
            if (prev) {
              prev.mean.dispose();
              prev.variance.dispose();
            }
            sums.set(id, next);
          },
        });
      });
    }
    for (const [id, sum] of sums) {
      const p = this.params.get(id) as SlimConvParams;
      if (!p.bn) continue;
      p.bn.mean.dispose();
      p.bn.variance.dispose();
      p.bn.mean = tf.tidy(() => tf.div(sum.mean, batches.length) as tf.Tensor1D);
      p.bn.variance = tf.tidy(() => tf.div(sum.variance, batches.length) as tf.Tensor1D);
      sum.mean.dispose();
      sum.variance.dispose();
    }
  }

  /** BN folded into each conv: the FoldedWeights map the TFLite exporter writes (core/weights/folded.ts layouts). */
  foldedWeights(): FoldedWeights {
    const out: FoldedWeights = new Map();
    for (const [id, p] of this.params) {
      if (p.kind === 'se') {
        out.set(id, {
          kind: 'se',
          reduce: read(p.reduce),
          reduceBias: read(p.reduceBias),
          expand: read(p.expand),
          expandBias: read(p.expandBias),
        });
      } else if (p.kind === 'fc') {
        out.set(id, { kind: 'fc', kernel: read(p.kernel), bias: read(p.bias) });
      } else {
        const { kernel, bias } = foldConv(p);
        out.set(id, { kind: p.kind, kernel: read(kernel), bias: read(bias) });
        kernel.dispose();
        bias.dispose();
      }
    }
    return out;
  }

  /** The same network with BN folded into conv kernels and biases (what the exported model computes). */
  folded(): SlimNetwork {
    const params = new Map<string, SlimParams>();
    for (const [id, p] of this.params) {
      if (p.kind === 'se' || p.kind === 'fc') params.set(id, cloneParams(p));
      else params.set(id, { kind: p.kind, ...foldConv(p) });
    }
    return new SlimNetwork(this.resolved, params);
  }

  dispose(): void {
    for (const p of this.params.values()) disposeParams(p);
    this.params.clear();
    for (const f of this.foldedCache.values()) tf.dispose([f.kernel, f.bias]);
    this.foldedCache.clear();
    for (const f of this.wideCache.values()) tf.dispose([f.kernel, f.bias]);
    this.wideCache.clear();
  }
}

/** Rows (or columns) of zero padding before the input for tfjs 'same' padding. */
function samePadBefore(size: number, kernel: number, stride: number): number {
  const out = Math.ceil(size / stride);
  return Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2);
}

function foldConv(p: SlimConvParams): { kernel: tf.Tensor4D; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    if (!p.bn) {
      const m = p.kind === 'conv' ? p.kernel.shape[3] : p.kernel.shape[2];
      return { kernel: p.kernel.clone(), bias: p.bias ? p.bias.clone() : tf.zeros([m]) as tf.Tensor1D };
    }
    const scale = tf.mul(p.bn.gamma, tf.rsqrt(tf.add(p.bn.variance, BN_EPSILON)));
    const bias = tf.sub(p.bn.beta, tf.mul(p.bn.mean, scale)) as tf.Tensor1D;
    const kernel = p.kind === 'conv'
      ? (tf.mul(p.kernel, scale) as tf.Tensor4D)
      : (tf.mul(p.kernel, tf.reshape(scale, [1, 1, -1, 1])) as tf.Tensor4D);
    return { kernel, bias };
  });
}

function read(t: tf.Tensor): Float32Array {
  return new Float32Array(t.dataSync() as Float32Array);
}

function cloneParams(p: SlimSEParams | SlimFCParams): SlimParams {
  if (p.kind === 'fc') return { kind: 'fc', kernel: p.kernel.clone(), bias: p.bias.clone() };
  return { kind: 'se', reduce: p.reduce.clone(), reduceBias: p.reduceBias.clone(), expand: p.expand.clone(), expandBias: p.expandBias.clone() };
}

function disposeParams(p: SlimParams): void {
  if (p.kind === 'se') tf.dispose([p.reduce, p.reduceBias, p.expand, p.expandBias]);
  else if (p.kind === 'fc') tf.dispose([p.kernel, p.bias]);
  else {
    tf.dispose([p.kernel, ...(p.bias ? [p.bias] : [])]);
    if (p.bn) tf.dispose([p.bn.gamma, p.bn.beta, p.bn.mean, p.bn.variance]);
  }
}

/** A copy of `t[begin : begin + size]` that the caller owns. */
function take<T extends tf.Tensor>(t: tf.Tensor, begin: number[], size: number[]): T {
  return tf.tidy(() => tf.slice(t, begin, size).clone()) as T;
}

/** Slices the shared weights into the slim network of `config` (undefined: the full network). */
export function materialize(weights: SupernetWeights, config?: SubnetConfig): SlimNetwork {
  const resolved = resolveNetwork(weights.spec, config);
  const params = new Map<string, SlimParams>();
  for (const layer of resolved.layers) {
    if (layer.identity) continue; // no work, no weights (also the layers of a block whose projection is removed)
    const m = layer.filters;
    const c = layer.input.channels;
    const id = layer.id;
    if (layer.op === 'conv' || layer.op === 'dwconv') {
      if (m === 0) continue;
      const kernel = tf.tidy(() => {
        const cropped = centerCrop(weights.get(`${id}.kernel`) as unknown as tf.Tensor4D, layer.kernel);
        const k = layer.kernel;
        return (layer.op === 'conv' ? tf.slice(cropped, [0, 0, 0, 0], [k, k, c, m]) : tf.slice(cropped, [0, 0, 0, 0], [k, k, m, 1])).clone();
      }) as tf.Tensor4D;
      const vec = (name: string) => take<tf.Tensor1D>(weights.get(`${id}.${name}`), [0], [m]);
      const p: SlimConvParams = { kind: layer.op, kernel };
      if (layer.bn) p.bn = { gamma: vec('gamma'), beta: vec('beta'), mean: vec('mean'), variance: vec('variance') };
      else p.bias = vec('bias');
      params.set(id, p);
    } else if (layer.op === 'se') {
      if (m === 0) continue;
      params.set(id, {
        kind: 'se',
        reduce: take(weights.get(`${id}.reduce`), [0, 0], [c, m]),
        reduceBias: take(weights.get(`${id}.reduce_bias`), [0], [m]),
        expand: take(weights.get(`${id}.expand`), [0, 0], [m, c]),
        expandBias: take(weights.get(`${id}.expand_bias`), [0], [c]),
      });
    } else if (layer.op === 'fc') {
      params.set(id, {
        kind: 'fc',
        kernel: take(weights.get(`${id}.kernel`), [0, 0], [c, m]),
        bias: take(weights.get(`${id}.bias`), [0], [m]),
      });
    }
  }
  return new SlimNetwork(resolved, params);
}

/** Folded inference weights of a sub-network straight from the shared weights (BN statistics as stored). */
export function foldedWeights(weights: SupernetWeights, config?: SubnetConfig): FoldedWeights {
  const slim = materialize(weights, config);
  try {
    return slim.foldedWeights();
  } finally {
    slim.dispose();
  }
}
