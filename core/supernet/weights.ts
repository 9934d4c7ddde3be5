/**
 * The shared weights of a super-network: one tfjs Variable per parameter at full width and full kernel size, for every
 * layer of the full network (core/arch's resolveNetwork without a sub-network). Sub-networks read slices of them.
 *
 * Names: `<layer id>.<param>`; params by op:
 * - conv:   kernel [k,k,C,M]; with BN gamma/beta/mean/variance [M], without BN bias [M]
 * - dwconv: kernel [k,k,C,1]; BN as above
 * - se:     reduce [C,M], reduce_bias [M], expand [M,C], expand_bias [C]
 * - fc:     kernel [C,units], bias [units]
 * `mean`/`variance` are the BN moving statistics (not trainable); everything else is trainable.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec, ResolvedLayer } from '../arch/index.ts';
import { resolveNetwork } from '../arch/index.ts';
import { Rng } from '../random.ts';

export interface ParamInfo {
  name: string;
  layer: string;
  op: ResolvedLayer['op'];
  shape: number[];
  trainable: boolean;
  /** L2 weight decay applies to conv/fc kernels and SE matrices only (not BN, not biases). */
  decay: boolean;
}

export const BN_EPSILON = 1e-3;

/** Parameter layout of a network (pure: no tensors). */
export function paramLayout(spec: NetworkSpec): ParamInfo[] {
  const out: ParamInfo[] = [];
  const add = (layer: ResolvedLayer, param: string, shape: number[], trainable = true, decay = false) =>
    out.push({ name: `${layer.id}.${param}`, layer: layer.id, op: layer.op, shape, trainable, decay });
  for (const layer of resolveNetwork(spec).layers) {
    const c = layer.input.channels;
    const m = layer.fullFilters;
    const k = layer.fullKernel;
    switch (layer.op) {
      case 'conv':
      case 'dwconv':
        add(layer, 'kernel', layer.op === 'conv' ? [k, k, c, m] : [k, k, c, 1], true, true);
        if (layer.bn) {
          add(layer, 'gamma', [m]);
          add(layer, 'beta', [m]);
          add(layer, 'mean', [m], false);
          add(layer, 'variance', [m], false);
        } else {
          add(layer, 'bias', [m]);
        }
        break;
      case 'se':
        add(layer, 'reduce', [c, m], true, true);
        add(layer, 'reduce_bias', [m]);
        add(layer, 'expand', [m, c], true, true);
        add(layer, 'expand_bias', [c]);
        break;
      case 'fc':
        add(layer, 'kernel', [c, m], true, true);
        add(layer, 'bias', [m]);
        break;
      case 'gap':
      case 'upsample':
        break;
    }
  }
  return out;
}

/** Initial values: He-normal (fan-in) kernels, Glorot-uniform classifier, BN gamma 1 / beta 0 / mean 0 / var 1. */
export function initialValue(info: ParamInfo, rng: Rng): Float32Array {
  const size = info.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  const param = info.name.slice(info.layer.length + 1);
  if (param === 'gamma' || param === 'variance') data.fill(1);
  else if (param === 'kernel' && info.shape.length === 2) {
    const [fanIn, fanOut] = info.shape as [number, number];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < size; i++) data[i] = (rng.next() * 2 - 1) * limit;
  } else if (param === 'kernel' || param === 'reduce' || param === 'expand') {
    const shape = info.shape;
    // conv [k,k,C,M]: fan-in k·k·C; depthwise [k,k,C,1]: k·k; SE matrices [in,out]: in.
    const taps = shape.length === 4 ? (shape[0] as number) * (shape[1] as number) : 1;
    const fanIn = info.op === 'dwconv' ? taps : info.op === 'conv' ? taps * (shape[2] as number) : (shape[0] as number);
    const std = Math.sqrt(2 / Math.max(fanIn, 1));
    for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
  }
  return data;
}

export class SupernetWeights {
  readonly spec: NetworkSpec;
  readonly layout: ParamInfo[];
  readonly vars: Map<string, tf.Variable>;

  constructor(spec: NetworkSpec, values: (info: ParamInfo) => Float32Array) {
    this.spec = spec;
    this.layout = paramLayout(spec);
    this.vars = new Map();
    for (const info of this.layout) {
      const data = values(info);
      this.vars.set(info.name, tf.variable(tf.tensor(data, info.shape, 'float32'), info.trainable, `sn/${info.name}/${nextId++}`));
    }
  }

  static init(spec: NetworkSpec, seed: number): SupernetWeights {
    const rng = new Rng(seed);
    return new SupernetWeights(spec, (info) => initialValue(info, rng));
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`super-network has no parameter "${name}"`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  trainable(): tf.Variable[] {
    return this.layout.filter((p) => p.trainable).map((p) => this.get(p.name));
  }

  /** Copies every value (params and BN statistics) into plain arrays (for checkpoints and EMA swaps). */
  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const info of this.layout) out.set(info.name, this.get(info.name).dataSync() as Float32Array);
    return out;
  }

  assignAll(values: Map<string, Float32Array>): void {
    for (const info of this.layout) {
      const data = values.get(info.name);
      if (!data) continue;
      const t = tf.tensor(data, info.shape, 'float32');
      this.get(info.name).assign(t);
      t.dispose();
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let nextId = 0;
