/**
 * Optimizers with their state on the host (Float32Arrays), so the state is checkpointed and restored bit-exactly.
 * Update rules follow TensorFlow's (tf.compat.v1.train):
 * - SGD with momentum: a = μ·a + g;  w −= lr·a
 * - RMSProp (with momentum): ms = ρ·ms + (1 − ρ)·g²;  mom = μ·mom + lr·g / √(ms + ε);  w −= mom   (ms starts at 1)
 * L2 weight decay adds λ·w to the gradient of the parameters marked `decay`.
 *
 * Why on the host: a network has a few hundred small parameter tensors; per-tensor tf updates cost thousands of kernel
 * launches per step, and flattening them needs slices, which the wasm backend executes very slowly. The CPU-side
 * backends (wasm, cpu) share host memory, so reading gradients and writing parameters is a copy, and one JS loop over
 * all parameters is cheaper than either. A parameter without a gradient in a step gets a zero gradient (its momentum
 * still applies), unlike TF's sparse skip.
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

export class Optimizer {
  readonly config: OptimizerConfig;
  readonly params: OptimizedParam[];
  /** Host copy of every parameter (always equal to the variables after `apply`). */
  readonly values: Float32Array[];
  /** slot name -> per-parameter state. */
  readonly slots: Map<string, Float32Array[]>;

  constructor(config: OptimizerConfig, params: OptimizedParam[]) {
    this.config = config;
    this.params = params;
    this.values = params.map((p) => new Float32Array(p.variable.dataSync() as Float32Array));
    this.slots = new Map();
    const make = (init: number) => params.map((p) => new Float32Array(p.variable.size).fill(init));
    if (config.name === 'sgd') {
      this.slots.set('momentum', make(0));
    } else {
      this.slots.set('ms', make(1));
      this.slots.set('mom', make(0));
    }
  }

  /**
   * Applies one update; `grads` maps variable name (tf.Variable.name) to gradient. `clipNorm` > 0 first scales all
   * gradients together so their global L2 norm is at most `clipNorm` (weight decay is added after clipping).
   * Returns the global gradient norm before clipping.
   */
  apply(grads: tf.NamedTensorMap, lr: number, clipNorm = 0): number {
    return this.applyHost(
      this.params.map((p, i) => {
        const gt = grads[p.variable.name];
        return gt ? (gt.dataSync() as Float32Array) : new Float32Array((this.values[i] as Float32Array).length);
      }),
      lr,
      clipNorm,
    );
  }

  /** `apply` with host gradients, one array per parameter in `params` order (e.g. reduced over workers). */
  applyHost(host: readonly Float32Array[], lr: number, clipNorm = 0): number {
    const { momentum, rmsDecay, rmsEpsilon, weightDecay } = this.config;
    const sgd = this.config.name === 'sgd';
    if (host.length !== this.params.length) throw new Error(`${host.length} gradients for ${this.params.length} parameters`);
    let sumSquares = 0;
    for (const g of host) for (let j = 0; j < g.length; j++) sumSquares += (g[j] as number) * (g[j] as number);
    const norm = Math.sqrt(sumSquares);
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.params.forEach((p, i) => {
      const w = this.values[i] as Float32Array;
      const g = host[i] as Float32Array;
      const wd = p.decay ? weightDecay : 0;
      if (sgd) {
        const a = (this.slots.get('momentum') as Float32Array[])[i] as Float32Array;
        for (let j = 0; j < w.length; j++) {
          const grad = scale * (g[j] as number) + wd * (w[j] as number);
          a[j] = momentum * (a[j] as number) + grad;
          w[j] = (w[j] as number) - lr * (a[j] as number);
        }
      } else {
        const ms = (this.slots.get('ms') as Float32Array[])[i] as Float32Array;
        const mom = (this.slots.get('mom') as Float32Array[])[i] as Float32Array;
        for (let j = 0; j < w.length; j++) {
          const grad = scale * (g[j] as number) + wd * (w[j] as number);
          ms[j] = rmsDecay * (ms[j] as number) + (1 - rmsDecay) * grad * grad;
          mom[j] = momentum * (mom[j] as number) + (lr * grad) / Math.sqrt((ms[j] as number) + rmsEpsilon);
          w[j] = (w[j] as number) - (mom[j] as number);
        }
      }
      const t = tf.tensor(w, p.variable.shape, 'float32');
      p.variable.assign(t);
      t.dispose();
    });
    return norm;
  }

  /** Re-reads the host copy from the variables (after they were assigned from elsewhere, e.g. a checkpoint). */
  syncFromVariables(): void {
    this.params.forEach((p, i) => (this.values[i] as Float32Array).set(p.variable.dataSync() as Float32Array));
  }

  /** Slot values for checkpoints: key `opt.<slot>/<param name>`. */
  stateTensors(): { key: string; shape: number[]; data: Float32Array }[] {
    const out: { key: string; shape: number[]; data: Float32Array }[] = [];
    for (const [slot, arrays] of this.slots) {
      this.params.forEach((p, i) => out.push({ key: `opt.${slot}/${p.name}`, shape: p.variable.shape, data: arrays[i] as Float32Array }));
    }
    return out;
  }

  restore(get: (key: string) => Float32Array | undefined): void {
    for (const [slot, arrays] of this.slots) {
      this.params.forEach((p, i) => {
        const key = `opt.${slot}/${p.name}`;
        const data = get(key);
        const target = arrays[i] as Float32Array;
        if (!data || data.length !== target.length) throw new Error(`checkpoint has no (or a wrong-sized) optimizer state ${key}`);
        target.set(data);
      });
    }
    this.syncFromVariables();
  }

  dispose(): void {
    this.slots.clear();
  }
}
