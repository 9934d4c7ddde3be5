/**
 * Optimizers implemented directly on tf Variables so their state can be checkpointed and restored bit-exactly.
 * Update rules follow TensorFlow's (tf.compat.v1.train):
 * - SGD with momentum: a = μ·a + g;  w −= lr·a
 * - RMSProp (with momentum): ms = ρ·ms + (1 − ρ)·g²;  mom = μ·mom + lr·g / √(ms + ε);  w −= mom   (ms starts at 1)
 * L2 weight decay adds λ·w to the gradient of the parameters marked `decay`.
 *
 * All parameters are updated as one flat vector (concat → a dozen element-wise ops → split): a network has a few
 * hundred small parameter tensors, and per-tensor updates would cost thousands of tiny kernel launches per step.
 * A parameter without a gradient in a step gets a zero gradient (its momentum still applies), unlike TF's sparse skip.
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerName = 'rmsprop' | 'sgd';

export interface OptimizerConfig {
  name: OptimizerName;
  momentum: number;
  rmsDecay: number;
  rmsEpsilon: number;
  weightDecay: number;
}

export interface OptimizedParam {
  name: string;
  variable: tf.Variable;
  decay: boolean;
}

/** Flattens a list of variables into one vector and writes a vector back (shared with the EMA). */
export class FlatView {
  readonly vars: tf.Variable[];
  readonly sizes: number[];
  readonly offsets: number[];
  readonly total: number;

  constructor(vars: tf.Variable[]) {
    this.vars = vars;
    this.sizes = vars.map((v) => v.size);
    this.offsets = [];
    let offset = 0;
    for (const size of this.sizes) {
      this.offsets.push(offset);
      offset += size;
    }
    this.total = offset;
  }

  /** Concatenation of the variables' current values (a new tensor). */
  read(): tf.Tensor1D {
    return tf.concat(this.vars.map((v) => tf.reshape(v, [-1]))) as tf.Tensor1D;
  }

  /** Concatenation of per-variable tensors (missing: zeros). */
  gather(tensors: (tf.Tensor | undefined)[]): tf.Tensor1D {
    return tf.concat(tensors.map((t, i) => (t ? tf.reshape(t, [-1]) : tf.zeros([this.sizes[i] as number])))) as tf.Tensor1D;
  }

  write(flat: tf.Tensor1D): void {
    const parts = tf.split(flat, this.sizes);
    parts.forEach((part, i) => {
      const v = this.vars[i] as tf.Variable;
      v.assign(tf.reshape(part, v.shape));
    });
  }

  /** Splits a flat host array into per-variable arrays. */
  unflatten(data: Float32Array): Float32Array[] {
    return this.sizes.map((size, i) => data.subarray(this.offsets[i], (this.offsets[i] as number) + size));
  }
}

export class Optimizer {
  readonly config: OptimizerConfig;
  readonly params: OptimizedParam[];
  readonly view: FlatView;
  /** slot name -> flat variable. */
  readonly slots: Map<string, tf.Variable>;
  private readonly decayMask: tf.Tensor1D;

  constructor(config: OptimizerConfig, params: OptimizedParam[]) {
    this.config = config;
    this.params = params;
    this.view = new FlatView(params.map((p) => p.variable));
    const mask = new Float32Array(this.view.total);
    params.forEach((p, i) => {
      if (p.decay) mask.fill(1, this.view.offsets[i], (this.view.offsets[i] as number) + (this.view.sizes[i] as number));
    });
    this.decayMask = tf.tensor1d(mask);
    this.slots = new Map();
    const make = (init: number) => tf.variable(tf.fill([this.view.total], init), false);
    if (config.name === 'sgd') {
      this.slots.set('momentum', make(0));
    } else {
      this.slots.set('ms', make(1));
      this.slots.set('mom', make(0));
    }
  }

  /** Applies one update; `grads` maps variable name (tf.Variable.name) to gradient. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    const { momentum, rmsDecay, rmsEpsilon, weightDecay } = this.config;
    tf.tidy(() => {
      const w = this.view.read();
      let g = this.view.gather(this.params.map((p) => grads[p.variable.name]));
      if (weightDecay > 0) g = tf.add(g, tf.mul(tf.mul(w, this.decayMask), weightDecay));
      let next: tf.Tensor1D;
      if (this.config.name === 'sgd') {
        const a = this.slots.get('momentum') as tf.Variable;
        const nextA = tf.add(tf.mul(a, momentum), g);
        a.assign(nextA);
        next = tf.sub(w, tf.mul(nextA, lr));
      } else {
        const ms = this.slots.get('ms') as tf.Variable;
        const mom = this.slots.get('mom') as tf.Variable;
        const nextMs = tf.add(tf.mul(ms, rmsDecay), tf.mul(tf.square(g), 1 - rmsDecay));
        const nextMom = tf.add(tf.mul(mom, momentum), tf.div(tf.mul(g, lr), tf.sqrt(tf.add(nextMs, rmsEpsilon))));
        ms.assign(nextMs);
        mom.assign(nextMom);
        next = tf.sub(w, nextMom);
      }
      this.view.write(next);
    });
  }

  /** Slot values for checkpoints: key `opt.<slot>/<param name>`. */
  stateTensors(): { key: string; shape: number[]; data: Float32Array }[] {
    const out: { key: string; shape: number[]; data: Float32Array }[] = [];
    for (const [slot, v] of this.slots) {
      const parts = this.view.unflatten(v.dataSync() as Float32Array);
      this.params.forEach((p, i) => out.push({ key: `opt.${slot}/${p.name}`, shape: p.variable.shape, data: parts[i] as Float32Array }));
    }
    return out;
  }

  restore(get: (key: string) => Float32Array | undefined): void {
    for (const [slot, v] of this.slots) {
      const flat = new Float32Array(this.view.total);
      this.params.forEach((p, i) => {
        const key = `opt.${slot}/${p.name}`;
        const data = get(key);
        if (!data || data.length !== this.view.sizes[i]) throw new Error(`checkpoint has no (or a wrong-sized) optimizer state ${key}`);
        flat.set(data, this.view.offsets[i]);
      });
      const t = tf.tensor1d(flat);
      v.assign(t);
      t.dispose();
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
    this.decayMask.dispose();
  }
}
