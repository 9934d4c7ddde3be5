/**
 * Training one fixed sub-network inside the super-network's full-width weight layout: every image of every batch runs
 * the same SubnetConfig through the masked forward pass (one plan, built once). Channels outside the sub-network get
 * a zero gradient; parameters (and optimizer slots) outside its slice are additionally restored after each update, so
 * weight decay and momentum cannot move them either — only the sub-network's slice of `weights` changes. BN moving
 * statistics are updated like the super-network trainer's, for the sub-network's channels only.
 *
 * Optional distillation from a teacher (another SupernetWeights, run in inference mode without gradients):
 *   classification: (1 − α)·CE(labels) + α·T²·KL(softmax(teacher/T) ‖ softmax(student/T))
 *   depth:          (1 − α)·L(ground truth) + α·mean |student − teacher|   (both in log-depth)
 *
 * Deterministic from the seed: step s uses batch (s mod B) of epoch ⌊s / B⌋ of the training split's seeded order and a
 * dropout mask from mixSeed(seed, s, …); the learning rate follows `learningRate(config, s, B)`. Passing `startStep`
 * and the optimizer state of an interrupted run continues it exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { SubnetConfig } from '../arch/index.ts';
import { resolveNetwork } from '../arch/index.ts';
import type { Dataset } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { Rng, mixSeed } from '../random.ts';
import { maskedForward } from './forward.ts';
import { classificationLoss, depthLoss } from './losses.ts';
import { materialize } from './materialize.ts';
import { Optimizer } from './optimizer.ts';
import { planBatch, type BatchPlan } from './plan.ts';
import { DEFAULT_TRAIN_CONFIG, checkDatasetFits, learningRate, type SupernetTrainConfig } from './train.ts';
import { SupernetWeights } from './weights.ts';

export interface DistillationTeacher {
  weights: SupernetWeights;
  /** The teacher's sub-network (default: the full network). */
  subnet?: SubnetConfig;
  /** Weight of the distillation term in [0, 1]; 0 = plain training. */
  alpha: number;
  temperature: number;
}

export interface SubnetTrainingEvent {
  step: number;
  totalSteps: number;
  loss: number;
  imagesPerSec: number;
  etaSec: number;
}

/** What a caller needs to checkpoint to continue the run later (see `startStep` / `optimizerState`). */
export interface SubnetTrainingState {
  /** Steps done so far (the next step to run). */
  step: number;
  /** Losses of steps [startStep, step) of this call. */
  losses: number[];
  /** Optimizer slots, keyed `opt.<slot>/<param>` like the super-network trainer's checkpoints. */
  optimizerTensors: { key: string; shape: number[]; data: Float32Array }[];
}

export interface SubnetTrainingOptions {
  /** Full-layout weights, trained IN PLACE (only the sub-network's slice changes). */
  weights: SupernetWeights;
  subnet: SubnetConfig;
  dataset: Dataset;
  /** Optimizer steps (batches) to run in total, counting from step 0 (a resumed run does steps − startStep). */
  steps: number;
  /** optimizer, lr, batchSize, seed, weightDecay, labelSmoothing, warm-up… (epochs is ignored: `steps` rules). */
  config?: Partial<SupernetTrainConfig>;
  teacher?: DistillationTeacher;
  /** Stops after the current step; the result then has fewer steps (see `interrupted`). */
  signal?: AbortSignal;
  onEvent?: (e: SubnetTrainingEvent) => void;
  /** Resume: the global step to start at (schedule, batches and seeds continue from there). Default 0. */
  startStep?: number;
  /** Resume: optimizer slots saved from `SubnetTrainingState.optimizerTensors`. */
  optimizerState?: (key: string) => Float32Array | undefined;
  /** Calls `onCheckpoint` every this many steps (0/absent: only when aborted). */
  checkpointEvery?: number;
  onCheckpoint?: (state: SubnetTrainingState) => void;
}

export interface SubnetTrainingResult {
  /** Loss of every step this call ran (index 0 = step startStep). */
  losses: number[];
  /** Steps done in total (global: startStep + losses.length). */
  steps: number;
  interrupted?: boolean;
}

/** Which elements of each parameter belong to a sub-network: 1 = in its slice. */
export type SliceMasks = Map<string, Uint8Array>;

/**
 * The sub-network's slice of every parameter, found with `materialize` (the single source of the slicing rules):
 * it slices a copy of the layout whose elements hold their own index + 1, and every value that comes out marks an
 * element in the slice. Parameters of layers the sub-network removes are all-zero masks.
 */
export function subnetSliceMasks(weights: SupernetWeights, subnet: SubnetConfig): SliceMasks {
  const probe = new SupernetWeights(weights.spec, (info) => {
    const size = info.shape.reduce((a, b) => a * b, 1);
    if (size >= 2 ** 24) throw new Error(`parameter ${info.name} is too large to probe its slice`);
    return Float32Array.from({ length: size }, (_, i) => i + 1);
  });
  const masks: SliceMasks = new Map();
  for (const info of probe.layout) masks.set(info.name, new Uint8Array(info.shape.reduce((a, b) => a * b, 1)));
  const slim = materialize(probe, subnet);
  try {
    const mark = (name: string, t: tf.Tensor | undefined) => {
      if (!t) return;
      const mask = masks.get(name) as Uint8Array;
      for (const v of t.dataSync() as Float32Array) mask[v - 1] = 1;
    };
    for (const [id, p] of slim.params) {
      if (p.kind === 'se') {
        mark(`${id}.reduce`, p.reduce);
        mark(`${id}.reduce_bias`, p.reduceBias);
        mark(`${id}.expand`, p.expand);
        mark(`${id}.expand_bias`, p.expandBias);
      } else if (p.kind === 'fc') {
        mark(`${id}.kernel`, p.kernel);
        mark(`${id}.bias`, p.bias);
      } else {
        mark(`${id}.kernel`, p.kernel);
        mark(`${id}.bias`, p.bias);
        if (p.bn) {
          mark(`${id}.gamma`, p.bn.gamma);
          mark(`${id}.beta`, p.bn.beta);
          mark(`${id}.mean`, p.bn.mean);
          mark(`${id}.variance`, p.bn.variance);
        }
      }
    }
  } finally {
    slim.dispose();
    probe.dispose();
  }
  return masks;
}

/**
 * Re-estimates the BN moving statistics of `subnet` (undefined: the full network) in `weights`: the average batch
 * mean and variance over `batches` training batches, for the sub-network's channels only. A super-network trained
 * with ordered dropout stores statistics averaged over many sub-networks; a teacher needs its own.
 */
export function recalibrateBatchNorm(
  weights: SupernetWeights,
  subnet: SubnetConfig | undefined,
  dataset: Dataset,
  opts: { batches: number; batchSize: number; seed: number },
): void {
  const train = dataset.split('train');
  const count = Math.min(opts.batches, train.batchCount(opts.batchSize, { dropLast: true }));
  if (count === 0) return;
  const plan = planBatch(weights.spec, opts.batchSize, subnet ? Array.from({ length: opts.batchSize }, () => subnet) : undefined);
  const sums = new Map<string, { mean: Float64Array; variance: Float64Array }>();
  try {
    for (let i = 0; i < count; i++) {
      const batch = train.batch(i, opts.batchSize, { seed: opts.seed, epoch: 0, dropLast: true });
      tf.tidy(() => {
        const x = tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, 3]);
        maskedForward(weights, x, {
          training: true,
          plan,
          onBatchStats: (id, mean, variance) => {
            const m = mean.dataSync() as Float32Array;
            const v = variance.dataSync() as Float32Array;
            let sum = sums.get(id);
            if (!sum) sums.set(id, (sum = { mean: new Float64Array(m.length), variance: new Float64Array(v.length) }));
            for (let j = 0; j < m.length; j++) {
              sum.mean[j] = (sum.mean[j] as number) + (m[j] as number);
              sum.variance[j] = (sum.variance[j] as number) + (v[j] as number);
            }
          },
        });
      });
    }
  } finally {
    plan.dispose();
  }
  const masks = subnet ? subnetSliceMasks(weights, subnet) : undefined;
  for (const [id, sum] of sums) {
    for (const [param, values] of [['mean', sum.mean], ['variance', sum.variance]] as const) {
      const name = `${id}.${param}`;
      const variable = weights.get(name);
      const next = new Float32Array(variable.dataSync() as Float32Array);
      const mask = masks?.get(name);
      for (let j = 0; j < next.length; j++) if (!mask || mask[j] === 1) next[j] = (values[j] as number) / count;
      const t = tf.tensor(next, variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
    }
  }
}

/** Classification distillation: (1 − α)·CE + α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)). */
export function distillationLoss(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  labels: tf.Tensor1D,
  opts: { alpha: number; temperature: number; labelSmoothing: number },
): tf.Scalar {
  const { alpha, temperature: t } = opts;
  const ce = classificationLoss(student, labels, opts.labelSmoothing);
  if (alpha === 0) return ce;
  const logPt = tf.logSoftmax(tf.div(teacher, t));
  const logPs = tf.logSoftmax(tf.div(student, t));
  const kl = tf.mean(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), 1));
  return tf.add(tf.mul(ce, 1 - alpha), tf.mul(kl, alpha * t * t)) as tf.Scalar;
}

/** Trains `opts.subnet` inside `opts.weights` (in place) for `opts.steps` steps. */
export async function trainSubnetwork(opts: SubnetTrainingOptions): Promise<SubnetTrainingResult> {
  const { weights, subnet, dataset } = opts;
  const spec = weights.spec;
  checkDatasetFits(spec, dataset);
  const config: SupernetTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...stripUndefined(opts.config ?? {}) };
  validate(config, opts);
  const train = dataset.split('train');
  const batchSize = config.batchSize;
  const stepsPerEpoch = train.batchCount(batchSize, { dropLast: true });
  if (stepsPerEpoch === 0) {
    throw new UserError(`the training split has ${train.size} samples, fewer than one batch of ${batchSize}; use a smaller batch size`);
  }
  if (opts.teacher && opts.teacher.weights.spec !== spec && JSON.stringify(opts.teacher.weights.spec) !== JSON.stringify(spec)) {
    throw new UserError('the distillation teacher must be a super-network of the same network definition');
  }

  const masks = subnetSliceMasks(weights, subnet);
  const trainable = weights.layout.filter((p) => p.trainable);
  const optimizer = new Optimizer(
    { name: config.optimizer, momentum: config.momentum, rmsDecay: config.rmsDecay, rmsEpsilon: config.rmsEpsilon, weightDecay: config.weightDecay },
    trainable.map((p) => ({ name: p.name, variable: weights.get(p.name), decay: p.decay })),
  );
  if (opts.optimizerState) optimizer.restore(opts.optimizerState);
  const frozen = freezeOutsideSlice(optimizer, masks);

  const plan = planBatch(spec, batchSize, Array.from({ length: batchSize }, () => subnet));
  const teacherPlan: BatchPlan | undefined = opts.teacher && opts.teacher.alpha > 0
    ? planBatch(spec, batchSize, opts.teacher.subnet ? Array.from({ length: batchSize }, () => opts.teacher?.subnet) : undefined)
    : undefined;
  const fc = resolveNetwork(spec).layers.find((l) => l.op === 'fc' && l.dropout > 0);
  const dropout = fc ? { rate: fc.dropout, channels: fc.input.channels } : undefined;

  const start = opts.startStep ?? 0;
  const losses: number[] = [];
  const times: number[] = [];
  const state = (step: number): SubnetTrainingState => ({ step, losses: [...losses], optimizerTensors: optimizer.stateTensors() });
  let step = start;
  try {
    while (step < opts.steps) {
      if (opts.signal?.aborted) {
        opts.onCheckpoint?.(state(step));
        return { losses, steps: step, interrupted: true };
      }
      const started = performance.now();
      const epoch = Math.floor(step / stepsPerEpoch);
      const batch = train.batch(step % stepsPerEpoch, batchSize, { seed: config.seed, epoch, dropLast: true });
      const lr = learningRate(config, step, stepsPerEpoch);
      const stats: { id: string; mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
      let loss = NaN;
      try {
        tf.tidy(() => {
          const x = tf.tensor4d(batch.images, [batchSize, batch.height, batch.width, 3]);
          const dropoutMask = dropout ? makeDropoutMask(config.seed, step, batchSize, dropout) : undefined;
          const teacherOut = teacherPlan && opts.teacher
            ? maskedForward(opts.teacher.weights, x, { training: false, plan: teacherPlan })
            : undefined;
          const target = spec.task === 'classification'
            ? tf.tensor1d(batch.labels as Int32Array, 'int32')
            : tf.tensor4d(batch.depth as Float32Array, [batchSize, batch.height, batch.width, 1]);
          const { value, grads } = tf.variableGrads(() => {
            const out = maskedForward(weights, x, {
              training: true,
              plan,
              ...(dropoutMask ? { dropoutMask } : {}),
              onBatchStats: (id, mean, variance) => stats.push({ id, mean: tf.keep(mean), variance: tf.keep(variance) }),
            });
            const alpha = opts.teacher?.alpha ?? 0;
            if (spec.task === 'classification') {
              return teacherOut
                ? distillationLoss(out as tf.Tensor2D, teacherOut as tf.Tensor2D, target as tf.Tensor1D, {
                  alpha,
                  temperature: opts.teacher?.temperature ?? 1,
                  labelSmoothing: config.labelSmoothing,
                })
                : classificationLoss(out as tf.Tensor2D, target as tf.Tensor1D, config.labelSmoothing);
            }
            const gt = depthLoss(out as tf.Tensor4D, target as tf.Tensor4D, config.depthLoss);
            if (!teacherOut) return gt;
            const l1 = tf.mean(tf.abs(tf.sub(out, teacherOut)));
            return tf.add(tf.mul(gt, 1 - alpha), tf.mul(l1, alpha)) as tf.Scalar;
          }, weights.trainable());
          loss = value.dataSync()[0] as number;
          optimizer.apply(grads, lr);
          frozen.restore();
          for (const s of stats) {
            const name = `${s.id}.mean`;
            maskedMovingAverage(weights.get(name), s.mean, config.bnMomentum, masks.get(name));
            maskedMovingAverage(weights.get(`${s.id}.variance`), s.variance, config.bnMomentum, masks.get(`${s.id}.variance`));
          }
        });
      } finally {
        for (const s of stats) tf.dispose([s.mean, s.variance]);
      }
      if (!Number.isFinite(loss)) {
        throw new UserError(`training of the sub-network diverged at step ${step} (loss ${loss}); lower the learning rate`);
      }
      losses.push(loss);
      step++;
      times.push((performance.now() - started) / 1000);
      const recent = times.slice(-20);
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      opts.onEvent?.({ step, totalSteps: opts.steps, loss, imagesPerSec: mean > 0 ? batchSize / mean : 0, etaSec: mean * (opts.steps - step) });
      if (opts.checkpointEvery && opts.checkpointEvery > 0 && step % opts.checkpointEvery === 0 && step < opts.steps) {
        opts.onCheckpoint?.(state(step));
      }
      // Let signal handlers (Ctrl-C) run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { losses, steps: step };
  } finally {
    plan.dispose();
    teacherPlan?.dispose();
    optimizer.dispose();
  }
}

/**
 * Remembers the out-of-slice values (and optimizer slots) of every partially or fully excluded parameter, and puts
 * them back after an update. Parameters wholly inside the slice cost nothing.
 */
function freezeOutsideSlice(optimizer: Optimizer, masks: SliceMasks): { restore(): void } {
  const entries: { index: number; outside: Int32Array; values: Float32Array; slots: { arrays: Float32Array[]; saved: Float32Array }[] }[] = [];
  optimizer.params.forEach((p, index) => {
    const mask = masks.get(p.name);
    if (!mask) return;
    const outsideList: number[] = [];
    for (let j = 0; j < mask.length; j++) if (mask[j] === 0) outsideList.push(j);
    if (outsideList.length === 0) return;
    const outside = Int32Array.from(outsideList);
    const gather = (src: Float32Array) => Float32Array.from(outside, (j) => src[j] as number);
    entries.push({
      index,
      outside,
      values: gather(optimizer.values[index] as Float32Array),
      slots: [...optimizer.slots.values()].map((arrays) => ({ arrays, saved: gather(arrays[index] as Float32Array) })),
    });
  });
  return {
    restore(): void {
      for (const e of entries) {
        const w = optimizer.values[e.index] as Float32Array;
        e.outside.forEach((j, k) => (w[j] = e.values[k] as number));
        for (const s of e.slots) {
          const arr = s.arrays[e.index] as Float32Array;
          e.outside.forEach((j, k) => (arr[j] = s.saved[k] as number));
        }
        const variable = (optimizer.params[e.index] as { variable: tf.Variable }).variable;
        const t = tf.tensor(w, variable.shape, 'float32');
        variable.assign(t);
        t.dispose();
      }
    },
  };
}

/** moving = m·moving + (1 − m)·batch on the elements of `mask` (all when absent). */
function maskedMovingAverage(moving: tf.Variable, batch: tf.Tensor, m: number, mask: Uint8Array | undefined): void {
  const next = new Float32Array(moving.dataSync() as Float32Array);
  const b = batch.dataSync() as Float32Array;
  for (let j = 0; j < next.length; j++) {
    if (mask && mask[j] === 0) continue;
    next[j] = m * (next[j] as number) + (1 - m) * (b[j] as number);
  }
  const t = tf.tensor(next, moving.shape, 'float32');
  moving.assign(t);
  t.dispose();
}

function makeDropoutMask(seed: number, step: number, n: number, dropout: { rate: number; channels: number }): tf.Tensor2D {
  const rng = new Rng(mixSeed(seed, step, 0x5d7));
  const data = new Float32Array(n * dropout.channels);
  const keep = 1 / (1 - dropout.rate);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() < dropout.rate ? 0 : keep;
  return tf.tensor2d(data, [n, dropout.channels]);
}

function validate(config: SupernetTrainConfig, opts: SubnetTrainingOptions): void {
  if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new UserError(`training steps must be a whole number ≥ 0 (got ${opts.steps})`);
  if (!Number.isInteger(config.batchSize) || config.batchSize < 2) throw new UserError(`batch size must be an integer ≥ 2 (got ${config.batchSize})`);
  if (!(config.lr > 0)) throw new UserError(`learning rate must be positive (got ${config.lr})`);
  const t = opts.teacher;
  if (t && !(t.alpha >= 0 && t.alpha <= 1)) throw new UserError(`distillation weight alpha must be in [0, 1] (got ${t.alpha})`);
  if (t && !(t.temperature > 0)) throw new UserError(`distillation temperature must be positive (got ${t.temperature})`);
  const start = opts.startStep ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new UserError(`start step must be a whole number ≥ 0 (got ${start})`);
}

function stripUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
