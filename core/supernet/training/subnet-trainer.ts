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
 * and the optimizer state of an interrupted run continues it exactly (the caller saves it with resume.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { subnetKey, type SubnetConfig } from '../../arch/index.ts';
import type { Dataset } from '../../data/dataset.ts';
import { UserError } from '../../errors.ts';
import { definedOnly } from '../../objects.ts';
import { checkDatasetFits } from '../dataset-fit.ts';
import { Optimizer } from '../optimizer.ts';
import { subnetSliceMasks, type SliceMasks } from '../slice-masks.ts';
import type { SupernetWeights } from '../weights.ts';
import { movingAverageHost } from './batch-norm.ts';
import { DEFAULT_TRAIN_CONFIG, learningRate, type SupernetTrainConfig } from './config.ts';
import { classifierDropout, dropoutMaskValues } from './dropout.ts';
import { gradientEngine, resolveTrainingWorkers } from './gradient-workers.ts';
import { runTrainingLoop } from './loop.ts';

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
  /** The optimizer, whose slots resume.ts saves (`opt.<slot>/<param>`); valid only during the callback. */
  optimizer: Optimizer;
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
  /** Resume: optimizer slots saved with resume.ts (LoadedTrainingState.optimizerSlot). */
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

/** Salt of the classifier dropout's random stream (kept: resumed runs of earlier versions continue identically). */
const DROPOUT_SALT = 0x5d7;

/** Trains `opts.subnet` inside `opts.weights` (in place) for `opts.steps` steps. */
export async function trainSubnetwork(opts: SubnetTrainingOptions): Promise<SubnetTrainingResult> {
  const { weights, subnet, dataset } = opts;
  const spec = weights.spec;
  checkDatasetFits(spec, dataset);
  const config: SupernetTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...definedOnly(opts.config ?? {}) };
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

  const dropout = classifierDropout(spec);
  const workers = resolveTrainingWorkers(config.workers);
  const engine = await gradientEngine(weights, workers);
  const teacher = opts.teacher && opts.teacher.alpha > 0 ? opts.teacher : undefined;
  // Every step trains the same sub-network: the shards' plans are built once for this key.
  const planKey = `subnet:${subnetKey(subnet)}|teacher:${teacher?.subnet ? subnetKey(teacher.subnet) : teacher ? 'full' : 'none'}`;

  const losses: number[] = [];
  const runStep = async (step: number): Promise<number> => {
    const epoch = Math.floor(step / stepsPerEpoch);
    const batch = train.batch(step % stepsPerEpoch, batchSize, { seed: config.seed, epoch, dropLast: true });
    const lr = learningRate(config, step, stepsPerEpoch);
    const result = await engine.compute(weights, {
      n: batchSize,
      height: batch.height,
      width: batch.width,
      images: batch.images,
      ...(batch.labels ? { labels: batch.labels } : {}),
      ...(batch.depth ? { depth: batch.depth } : {}),
      subnets: new Array<SubnetConfig>(batchSize).fill(subnet),
      ...(dropout ? { dropoutMask: dropoutMaskValues(config.seed, step, batchSize, dropout, DROPOUT_SALT) } : {}),
      lossScale: 1,
      labelSmoothing: config.labelSmoothing,
      depthLoss: config.depthLoss,
      ...(teacher ? { teacher: { alpha: teacher.alpha, temperature: teacher.temperature, ...(teacher.subnet ? { subnet: teacher.subnet } : {}) } } : {}),
      planKey,
    }, teacher?.weights);
    const loss = result.loss;
    if (!Number.isFinite(loss)) return loss;
    optimizer.applyHost(result.perParam, lr);
    frozen.restore();
    for (const s of result.stats) {
      const name = `${s.id}.mean`;
      movingAverageHost(weights.get(name), s.mean, config.bnMomentum, masks.get(name));
      movingAverageHost(weights.get(`${s.id}.variance`), s.variance, config.bnMomentum, masks.get(`${s.id}.variance`));
    }
    losses.push(loss);
    return loss;
  };
  try {
    const every = opts.checkpointEvery ?? 0;
    const result = await runTrainingLoop({
      startStep: opts.startStep ?? 0,
      totalSteps: opts.steps,
      imagesPerStep: batchSize,
      runStep,
      ...(opts.signal ? { signal: opts.signal } : {}),
      divergenceHint: 'lower the learning rate of the sub-network\'s training',
      onStep: (p) => opts.onEvent?.(p),
      checkpointDue: (step) => (every > 0 && step % every === 0 && step < opts.steps ? 'interval' : undefined),
      checkpoint: (_reason, step) => opts.onCheckpoint?.({ step, losses: [...losses], optimizer }),
    });
    return { losses, steps: result.step, ...(result.interrupted ? { interrupted: true } : {}) };
  } finally {
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
