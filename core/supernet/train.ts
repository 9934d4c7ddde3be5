/**
 * Super-network training with ordered dropout: each step, image n of the batch trains its own sub-network (balanced
 * widths, sampling.ts) in one forward-backward pass of the masked super-network.
 *
 * Exact resume: everything a step does is a function of (seed, step) and the checkpointed state — the batch is
 * batch (step mod B) of epoch ⌊step / B⌋ of the dataset's deterministic order, the sub-networks and the dropout mask
 * come from mixSeed(seed, step, …), and weights, BN statistics, optimizer slots and EMA weights are saved bit-exactly.
 * A run resumed from a checkpoint therefore reproduces the uninterrupted run's losses.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec, SearchSpace, SubnetConfig } from '../arch/index.ts';
import { resolveNetwork, searchSpace } from '../arch/index.ts';
import type { Batch, Dataset, Split } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { Rng, mixSeed } from '../random.ts';
import { checkTensorsMatch, checkpointExists, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { maskedForward } from './forward.ts';
import { classificationLoss, depthLoss, type DepthLoss } from './losses.ts';
import { Optimizer, type OptimizerName } from './optimizer.ts';
import { planBatch } from './plan.ts';
import { sampleBatchSubnets, widthGroups, type KernelSampling, type WidthSampling, type DepthSampling, type SamplingOptions } from './sampling.ts';
import { SupernetWeights } from './weights.ts';

export interface SupernetTrainConfig {
  epochs: number;
  batchSize: number;
  /** Seeds weight init, data order, width sampling and dropout. */
  seed: number;
  optimizer: OptimizerName;
  /** Peak learning rate (after warm-up). */
  lr: number;
  momentum: number;
  rmsDecay: number;
  rmsEpsilon: number;
  /** L2 weight decay on conv/fc kernels and SE matrices. */
  weightDecay: number;
  /** Exponential decay: lr · rate^(epoch / lrDecayEpochs) (smooth, not staircase). */
  lrDecayRate: number;
  lrDecayEpochs: number;
  /** Linear warm-up from ~0 to lr over this many epochs (fractions allowed). */
  warmupEpochs: number;
  labelSmoothing: number;
  /**
   * EMA decay of the weights. The paper uses 0.9998 over hundreds of epochs on ImageNet; a run of a few hundred
   * steps needs a much shorter horizon (0.99 ≈ the last 100 steps), and the decay is further capped by
   * (1 + step) / (10 + step) so the average is not dominated by the random initialization early on.
   */
  emaDecay: number;
  /** BN moving-average momentum. */
  bnMomentum: number;
  depthLoss: DepthLoss;
  /** false: plain training of the full network (every image runs the full network). */
  orderedDropout: boolean;
  /**
   * Ordered dropout: train only the full network for this many epochs first (fractions allowed), then every
   * sub-network — the warm start of progressive shrinking (Once-for-All). Sub-networks then start from trained
   * features instead of all learning from scratch at once, which at this scale sat near chance for epochs.
   */
  fullNetworkEpochs: number;
  includeSmallest: boolean;
  kernelSampling: KernelSampling;
  /** How per-image widths are drawn (sampling.ts). */
  widthSampling: WidthSampling;
  /** Coherent sampling: per-layer rank jitter as a fraction of the batch. */
  widthJitter: number;
  /** Coherent sampling: which images get a removable layer's level 0 (sampling.ts DepthSampling). */
  depthSampling: DepthSampling;
  /** Depth sampling 'single' / 'multi': the largest share of a batch's images that loses layers at random (0–1]. */
  removalShare: number;
  /**
   * Ordered dropout: BN statistics are computed separately over this many groups of images of similar width
   * (sampling.ts widthGroups); 1 = over the whole batch.
   */
  bnGroups: number;
  /**
   * Ordered dropout, classification: each image's loss is weighted by (its sub-network's mean relative width)^p
   * (0: plain mean). Keeps the narrowest sub-networks' gradients from swamping the shared weights in short runs.
   */
  widthLossPower: number;
  /**
   * Scale each step's gradients so their global L2 norm is at most this (0: no clipping), a guard against gradient
   * spikes. Not needed by the demo recipe (norms stay ≈ 1–3.5) and no cure for sampling that leaves few images intact:
   * the CBC network with 'random' depth sampling sat at chance with clipping at 1 too.
   */
  gradClipNorm: number;
  /** Also checkpoint every this many steps (0: only at the end of each epoch). */
  checkpointEverySteps: number;
}

export const DEFAULT_TRAIN_CONFIG: SupernetTrainConfig = {
  epochs: 5,
  batchSize: 64,
  seed: 1,
  optimizer: 'rmsprop',
  // Paper: 0.064 at batch 1024, scaled linearly with the batch size: 0.004 at batch 64. (0.01 diverged in our
  // short synthetic runs of mobilenet-v1-32.)
  lr: 0.004,
  momentum: 0.9,
  rmsDecay: 0.9,
  rmsEpsilon: 1e-3,
  weightDecay: 1e-5,
  lrDecayRate: 0.5,
  lrDecayEpochs: 2,
  warmupEpochs: 0.3,
  labelSmoothing: 0.1,
  emaDecay: 0.99,
  bnMomentum: 0.9,
  depthLoss: 'l1',
  orderedDropout: true,
  fullNetworkEpochs: 0,
  includeSmallest: true,
  kernelSampling: 'per-step',
  widthSampling: 'coherent',
  widthJitter: 0,
  depthSampling: 'single',
  removalShare: 0.25,
  bnGroups: 4,
  widthLossPower: 1,
  gradClipNorm: 0,
  checkpointEverySteps: 0,
};

/** What a checkpoint written before a field existed was trained with. */
const LEGACY_CONFIG: Partial<SupernetTrainConfig> = { widthSampling: 'independent', widthJitter: 0, bnGroups: 1, widthLossPower: 0, fullNetworkEpochs: 0, depthSampling: 'coherent', gradClipNorm: 0, removalShare: 1 };

/**
 * Training defaults for the demo network (mobilenet-v3-demo-32 on synthetic 32×32 data, batch 32, SGD lr 0.1):
 * 2 epochs of the full network alone, then 10 epochs of ordered dropout with coherent width sampling, per-width-group
 * BN statistics and width-weighted loss. Measured (Nov 2026, 8,000 images, 2 shared cores), full-network held-out
 * top-1: 12 epochs with the warm start 96.8% (seed 2; 8 epochs: 89.7%); without it 95.0% (seed 1) but 67.2% (seed 2) —
 * ordered dropout from scratch sat near chance for several epochs, for a random number of them; 4 epochs 53%.
 * Plain training of the full network alone: 93% after 4 epochs. Depth sampling 'single' (one random one-layer removal
 * per image, sampling.ts): removing one layer from a wide network is what the search tries each iteration; with
 * 'coherent' such sub-networks were never trained and a third of a random set collapsed to chance (Kendall τ against
 * stand-alone training 0.51 → 0.69 with 'single', full network 97.6% → 97.0%). At most a quarter of a batch's images
 * lose a layer that way (removalShare): the same for this network (7 removable layers, 30 free images), but on the CBC
 * network (19 removable layers) sharing 19 of 30 images cost its other sub-networks 3–7 points (bench/ablation.ts).
 */
export const DEMO_NETWORK = 'mobilenet-v3-demo-32';
export const DEMO_TRAIN_CONFIG: SupernetTrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  epochs: 12,
  fullNetworkEpochs: 2,
  batchSize: 32,
  optimizer: 'sgd',
  lr: 0.1,
  weightDecay: 4e-5,
  lrDecayRate: 0.5,
  lrDecayEpochs: 6,
  warmupEpochs: 0.2,
  labelSmoothing: 0.1,
  emaDecay: 0.99,
  widthSampling: 'coherent',
  bnGroups: 4,
  widthLossPower: 1,
};

/** The demo recipe for another number of epochs: the full-network warm start and the LR decay scale alike. */
export function demoTrainConfig(epochs: number = DEMO_TRAIN_CONFIG.epochs): SupernetTrainConfig {
  const scale = epochs / DEMO_TRAIN_CONFIG.epochs;
  return {
    ...DEMO_TRAIN_CONFIG,
    epochs,
    fullNetworkEpochs: DEMO_TRAIN_CONFIG.fullNetworkEpochs * scale,
    lrDecayEpochs: DEMO_TRAIN_CONFIG.lrDecayEpochs * scale,
  };
}

/** Fields that must not change when a run is resumed (they would change the trajectory). */
const FIXED_ON_RESUME: readonly (keyof SupernetTrainConfig)[] = [
  'batchSize', 'seed', 'optimizer', 'lr', 'momentum', 'rmsDecay', 'rmsEpsilon', 'weightDecay', 'lrDecayRate',
  'lrDecayEpochs', 'warmupEpochs', 'labelSmoothing', 'emaDecay', 'bnMomentum', 'depthLoss', 'orderedDropout', 'fullNetworkEpochs',
  'includeSmallest', 'kernelSampling', 'widthSampling', 'widthJitter', 'depthSampling', 'bnGroups', 'widthLossPower',
  'gradClipNorm', 'removalShare',
];

export type SamplingConfig = Pick<SupernetTrainConfig, 'includeSmallest' | 'kernelSampling' | 'widthSampling' | 'widthJitter' | 'depthSampling' | 'removalShare'>;

/** The sub-network sampler's options of a training recipe (training and the ranking check's 'training' population). */
export function samplingOptions(config: SamplingConfig): SamplingOptions {
  return {
    includeSmallest: config.includeSmallest,
    kernels: config.kernelSampling,
    widths: config.widthSampling,
    jitter: config.widthJitter,
    depth: config.depthSampling,
    removalShare: config.removalShare,
  };
}

/** Resuming with a training option the checkpoint was not trained with. */
export class ResumeConfigMismatchError extends UserError {
  constructor(
    readonly key: keyof SupernetTrainConfig,
    readonly given: unknown,
    readonly saved: unknown,
  ) {
    super(`cannot resume with ${key} = ${String(given)}: the checkpoint was trained with ${String(saved)}`, [
      'leave it out to use the checkpoint\'s value, or start a new run in another directory',
    ]);
  }
}

export type TrainEvent =
  | { type: 'step'; epoch: number; step: number; totalSteps: number; loss: number; lr: number; imagesPerSec: number; etaSec: number }
  | { type: 'epoch'; epoch: number; step: number; totalSteps: number; loss: number; imagesPerSec: number; etaSec: number }
  | { type: 'checkpoint'; epoch: number; step: number; path: string; reason: 'epoch' | 'interval' | 'interrupt' | 'done' }
  | { type: 'done'; epoch: number; step: number; totalSteps: number; loss: number; imagesPerSec: number; etaSec: 0; interrupted: boolean };

export interface TrainerOptions {
  spec: NetworkSpec;
  dataset: Dataset;
  config?: Partial<SupernetTrainConfig>;
  /** Checkpoint directory (none: no checkpoints). */
  outDir?: string;
  /** Continue from the checkpoint in outDir. */
  resume?: boolean;
  onEvent?: (event: TrainEvent) => void;
  /** Abort (e.g. Ctrl-C): the trainer checkpoints after the current step and returns. */
  signal?: AbortSignal;
}

interface SavedState {
  step: number;
  config: SupernetTrainConfig;
  losses: number[];
  dataset: string;
}

export function learningRate(config: SupernetTrainConfig, step: number, stepsPerEpoch: number): number {
  const warmSteps = config.warmupEpochs * stepsPerEpoch;
  const warm = warmSteps > 0 ? Math.min(1, (step + 1) / warmSteps) : 1;
  return config.lr * warm * config.lrDecayRate ** (step / stepsPerEpoch / config.lrDecayEpochs);
}

export class SupernetTrainer {
  readonly spec: NetworkSpec;
  readonly space: SearchSpace;
  readonly dataset: Dataset;
  readonly config: SupernetTrainConfig;
  readonly weights: SupernetWeights;
  readonly optimizer: Optimizer;
  /** EMA shadow of every trainable parameter (host arrays, in the optimizer's parameter order). */
  readonly ema: Float32Array[];
  readonly train: Split;
  readonly stepsPerEpoch: number;
  /** Loss of every step so far (index = global step). */
  readonly losses: number[];
  step = 0;
  /** Global gradient norm of the last step, before clipping (diagnostics). */
  lastGradNorm = NaN;
  private readonly outDir: string | undefined;
  private readonly dropout: { rate: number; channels: number } | undefined;

  private constructor(opts: TrainerOptions, config: SupernetTrainConfig, weights: SupernetWeights) {
    this.spec = opts.spec;
    this.space = searchSpace(opts.spec);
    this.dataset = opts.dataset;
    this.config = config;
    this.weights = weights;
    this.outDir = opts.outDir;
    checkDatasetFits(opts.spec, opts.dataset);
    this.train = opts.dataset.split('train');
    this.stepsPerEpoch = this.train.batchCount(config.batchSize, { dropLast: true });
    if (this.stepsPerEpoch === 0) {
      throw new UserError(`the training split has ${this.train.size} samples, fewer than one batch of ${config.batchSize}; use a smaller --batch`);
    }
    this.optimizer = new Optimizer(
      { name: config.optimizer, momentum: config.momentum, rmsDecay: config.rmsDecay, rmsEpsilon: config.rmsEpsilon, weightDecay: config.weightDecay },
      weights.layout.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: weights.get(p.name), decay: p.decay })),
    );
    this.ema = this.optimizer.values.map((v) => new Float32Array(v));
    this.losses = [];
    const fc = resolveNetwork(opts.spec).layers.find((l) => l.op === 'fc' && l.dropout > 0);
    this.dropout = fc ? { rate: fc.dropout, channels: fc.input.channels } : undefined;
  }

  /** A new run, or (resume) the run checkpointed in opts.outDir. */
  static create(opts: TrainerOptions): SupernetTrainer {
    const given = opts.config ?? {};
    if (opts.resume) {
      if (!opts.outDir) throw new UserError('--resume needs the checkpoint directory (--out)');
      if (!checkpointExists(opts.outDir)) throw new UserError(`cannot resume: no checkpoint in ${opts.outDir}`);
      const ckpt = loadCheckpoint(opts.outDir);
      const saved = ckpt.state as SavedState;
      saved.config = { ...LEGACY_CONFIG, ...saved.config };
      for (const key of FIXED_ON_RESUME) {
        if (given[key] !== undefined && given[key] !== saved.config[key]) throw new ResumeConfigMismatchError(key, given[key], saved.config[key]);
      }
      const config: SupernetTrainConfig = { ...saved.config, ...pick(given, ['epochs', 'checkpointEverySteps']) };
      const weights = SupernetWeights.init(opts.spec, config.seed);
      checkTensorsMatch(weights.layout, ckpt.tensors, 'param', opts.outDir);
      if (JSON.stringify(ckpt.network) !== JSON.stringify(opts.spec)) {
        weights.dispose();
        throw new UserError(`checkpoint ${opts.outDir} was trained on a different definition of network "${ckpt.network.name}"`);
      }
      weights.assignAll(new Map([...ckpt.tensors].filter(([k]) => k.startsWith('param/')).map(([k, v]) => [k.slice(6), v.data])));
      const trainer = new SupernetTrainer(opts, config, weights);
      trainer.optimizer.restore((key) => ckpt.tensors.get(key)?.data);
      trainer.optimizer.params.forEach((p, i) => {
        const data = ckpt.tensors.get(`ema/${p.name}`)?.data;
        const target = trainer.ema[i] as Float32Array;
        if (!data || data.length !== target.length) throw new UserError(`checkpoint ${opts.outDir} has no EMA value for "${p.name}"`);
        target.set(data);
      });
      trainer.step = saved.step;
      trainer.losses.push(...saved.losses);
      return trainer;
    }
    if (opts.outDir && checkpointExists(opts.outDir)) {
      throw new UserError(`${opts.outDir} already holds a checkpoint`, ['pass --resume to continue it, or choose another --out directory']);
    }
    const config: SupernetTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...stripUndefined(given) };
    validateConfig(config);
    return new SupernetTrainer(opts, config, SupernetWeights.init(opts.spec, config.seed));
  }

  get totalSteps(): number {
    return this.config.epochs * this.stepsPerEpoch;
  }

  get epoch(): number {
    return Math.floor(this.step / this.stepsPerEpoch);
  }

  batchAt(step: number): Batch {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    return this.train.batch(step % this.stepsPerEpoch, this.config.batchSize, { seed: this.config.seed, epoch, dropLast: true });
  }

  subnetsAt(step: number, n: number): SubnetConfig[] | undefined {
    if (!this.config.orderedDropout || step < Math.round(this.config.fullNetworkEpochs * this.stepsPerEpoch)) return undefined;
    return sampleBatchSubnets(this.space, n, this.config.seed, step, samplingOptions(this.config));
  }

  /** Runs one training step on the batch of the current step; returns its loss. */
  trainStep(): number {
    const step = this.step;
    const batch = this.batchAt(step);
    const n = batch.size;
    const subnets = this.subnetsAt(step, n);
    const groups = subnets && this.config.bnGroups > 1 ? widthGroups(this.space, subnets, this.config.bnGroups) : undefined;
    const plan = planBatch(this.spec, n, subnets, groups);
    const lr = learningRate(this.config, step, this.stepsPerEpoch);
    const stats: { id: string; mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
    let loss = NaN;
    try {
      tf.tidy(() => {
        const x = tf.tensor4d(batch.images, [n, batch.height, batch.width, 3]);
        const dropoutMask = this.dropoutMask(step, n);
        const imageWeights = subnets && this.config.widthLossPower > 0
          ? tf.tensor1d(subnets.map((c) => relativeWidth(this.space, c) ** this.config.widthLossPower))
          : undefined;
        const target = this.spec.task === 'classification'
          ? tf.tensor1d(batch.labels as Int32Array, 'int32')
          : tf.tensor4d(batch.depth as Float32Array, [n, batch.height, batch.width, 1]);
        const { value, grads } = tf.variableGrads(() => {
          const out = maskedForward(this.weights, x, {
            training: true,
            plan,
            ...(dropoutMask ? { dropoutMask } : {}),
            onBatchStats: (id, mean, variance) => stats.push({ id, mean: tf.keep(mean), variance: tf.keep(variance) }),
          });
          return this.spec.task === 'classification'
            ? classificationLoss(out as tf.Tensor2D, target as tf.Tensor1D, this.config.labelSmoothing, imageWeights)
            : depthLoss(out as tf.Tensor4D, target as tf.Tensor4D, this.config.depthLoss);
        }, this.weights.trainable());
        loss = value.dataSync()[0] as number;
        this.lastGradNorm = this.optimizer.apply(grads, lr, this.config.gradClipNorm);
        const m = this.config.bnMomentum;
        for (const s of stats) {
          movingAverage(this.weights.get(`${s.id}.mean`), s.mean, m);
          movingAverage(this.weights.get(`${s.id}.variance`), s.variance, m);
        }
        const d = Math.min(this.config.emaDecay, (1 + step) / (10 + step));
        this.optimizer.values.forEach((w, i) => {
          const e = this.ema[i] as Float32Array;
          for (let j = 0; j < e.length; j++) e[j] = d * (e[j] as number) + (1 - d) * (w[j] as number);
        });
      });
    } finally {
      for (const s of stats) tf.dispose([s.mean, s.variance]);
      plan.dispose();
    }
    if (!Number.isFinite(loss)) {
      throw new UserError(`training diverged at step ${step} (loss ${loss}); lower the learning rate (--lr)`);
    }
    this.losses[step] = loss;
    this.step = step + 1;
    return loss;
  }

  private dropoutMask(step: number, n: number): tf.Tensor2D | undefined {
    if (!this.dropout) return undefined;
    const { rate, channels } = this.dropout;
    const rng = new Rng(mixSeed(this.config.seed, step, 0xd7));
    const data = new Float32Array(n * channels);
    const keep = 1 / (1 - rate);
    for (let i = 0; i < data.length; i++) data[i] = rng.next() < rate ? 0 : keep;
    return tf.tensor2d(data, [n, channels]);
  }

  /** Writes a checkpoint to outDir (no-op without one); returns its manifest path. */
  checkpoint(): string | undefined {
    if (!this.outDir) return undefined;
    const tensors = [
      ...this.weights.layout.map((p) => ({ key: `param/${p.name}`, shape: p.shape, data: this.weights.get(p.name).dataSync() as Float32Array })),
      ...this.emaTensors(),
      ...this.optimizer.stateTensors(),
    ];
    const state: SavedState = { step: this.step, config: this.config, losses: this.losses.slice(0, this.step), dataset: this.dataset.name };
    return saveCheckpoint(this.outDir, this.spec, tensors, state);
  }

  /** Runs until `config.epochs` are done or the signal aborts; checkpoints per epoch (and interval, and on abort). */
  async run(opts: { onEvent?: (e: TrainEvent) => void; signal?: AbortSignal; stopAfterStep?: number } = {}): Promise<{ interrupted: boolean }> {
    const emit = opts.onEvent ?? (() => undefined);
    const total = this.totalSteps;
    const times: number[] = [];
    let epochLoss = 0;
    let epochSteps = 0;
    const rate = () => {
      const recent = times.slice(-20);
      const mean = recent.reduce((a, b) => a + b, 0) / Math.max(recent.length, 1);
      return { imagesPerSec: mean > 0 ? this.config.batchSize / mean : 0, etaSec: mean * (total - this.step) };
    };
    while (this.step < total) {
      if (opts.signal?.aborted || (opts.stopAfterStep !== undefined && this.step >= opts.stopAfterStep)) {
        const path = this.checkpoint();
        if (path) emit({ type: 'checkpoint', epoch: this.epoch, step: this.step, path, reason: 'interrupt' });
        emit({ type: 'done', epoch: this.epoch, step: this.step, totalSteps: total, loss: this.losses[this.step - 1] ?? NaN, imagesPerSec: rate().imagesPerSec, etaSec: 0, interrupted: true });
        return { interrupted: true };
      }
      const started = performance.now();
      const loss = this.trainStep();
      times.push((performance.now() - started) / 1000);
      epochLoss += loss;
      epochSteps++;
      const { imagesPerSec, etaSec } = rate();
      emit({ type: 'step', epoch: Math.floor((this.step - 1) / this.stepsPerEpoch), step: this.step, totalSteps: total, loss, lr: learningRate(this.config, this.step - 1, this.stepsPerEpoch), imagesPerSec, etaSec });
      const endOfEpoch = this.step % this.stepsPerEpoch === 0;
      if (endOfEpoch) {
        emit({ type: 'epoch', epoch: this.epoch - 1, step: this.step, totalSteps: total, loss: epochLoss / epochSteps, imagesPerSec, etaSec });
        epochLoss = 0;
        epochSteps = 0;
      }
      const interval = this.config.checkpointEverySteps > 0 && this.step % this.config.checkpointEverySteps === 0;
      if (endOfEpoch || interval) {
        const path = this.checkpoint();
        if (path) emit({ type: 'checkpoint', epoch: this.epoch, step: this.step, path, reason: endOfEpoch ? 'epoch' : 'interval' });
      }
      // Let signal handlers (Ctrl-C) run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    emit({ type: 'done', epoch: this.epoch, step: this.step, totalSteps: total, loss: this.losses[this.step - 1] ?? NaN, imagesPerSec: rate().imagesPerSec, etaSec: 0, interrupted: false });
    return { interrupted: false };
  }

  private emaTensors(): { key: string; shape: number[]; data: Float32Array }[] {
    return this.optimizer.params.map((p, i) => ({ key: `ema/${p.name}`, shape: p.variable.shape, data: this.ema[i] as Float32Array }));
  }

  /** A copy of the weights with the EMA values for trainable parameters (BN statistics from the live weights). */
  emaWeights(): SupernetWeights {
    const ema = new Map(this.emaTensors().map((t) => [t.key.slice(4), t.data]));
    return new SupernetWeights(this.spec, (info) => ema.get(info.name) ?? (this.weights.get(info.name).dataSync() as Float32Array));
  }

  dispose(): void {
    this.weights.dispose();
    this.optimizer.dispose();
    this.ema.length = 0;
  }
}

/** Convenience: create (or resume) a trainer and run it. The caller owns (and disposes) the returned trainer. */
export async function trainSupernet(opts: TrainerOptions & { stopAfterStep?: number }): Promise<{ trainer: SupernetTrainer; interrupted: boolean }> {
  const trainer = SupernetTrainer.create(opts);
  const runOpts: Parameters<SupernetTrainer['run']>[0] = {};
  if (opts.onEvent) runOpts.onEvent = opts.onEvent;
  if (opts.signal) runOpts.signal = opts.signal;
  if (opts.stopAfterStep !== undefined) runOpts.stopAfterStep = opts.stopAfterStep;
  const { interrupted } = await trainer.run(runOpts);
  return { trainer, interrupted };
}

/** Mean of level / top level over a sub-network's searchable layers (1 for the full network). */
function relativeWidth(space: SearchSpace, config: SubnetConfig): number {
  const top = space.widthLevels - 1;
  return config.levels.reduce((s, v) => s + v / top, 0) / Math.max(1, config.levels.length);
}

/** moving = m·moving + (1 − m)·batch, on the host (a handful of small vectors per step). */
function movingAverage(moving: tf.Variable, batch: tf.Tensor, m: number): void {
  const old = moving.dataSync() as Float32Array;
  const b = batch.dataSync() as Float32Array;
  const next = new Float32Array(old.length);
  for (let j = 0; j < old.length; j++) next[j] = m * (old[j] as number) + (1 - m) * (b[j] as number);
  const t = tf.tensor(next, moving.shape, 'float32');
  moving.assign(t);
  t.dispose();
}

export function checkDatasetFits(spec: NetworkSpec, dataset: Dataset): void {
  const [h, w] = dataset.inputShape;
  if (h !== spec.input.height || w !== spec.input.width || spec.input.channels !== 3) {
    throw new UserError(
      `dataset "${dataset.name}" has ${h}×${w}×3 images but network "${spec.name}" takes ${spec.input.height}×${spec.input.width}×${spec.input.channels}`,
    );
  }
  if (dataset.kind !== spec.task) {
    throw new UserError(`dataset "${dataset.name}" is a ${dataset.kind} dataset but network "${spec.name}" is for ${spec.task}`);
  }
  if (spec.task === 'classification') {
    const out = resolveNetwork(spec).output.channels;
    if (dataset.numClasses !== out) {
      throw new UserError(`dataset "${dataset.name}" has ${dataset.numClasses ?? '?'} classes but network "${spec.name}" has ${out} outputs`);
    }
  }
}

function validateConfig(config: SupernetTrainConfig): void {
  const positive: (keyof SupernetTrainConfig)[] = ['epochs', 'batchSize', 'lr', 'lrDecayEpochs'];
  for (const key of positive) {
    const v = config[key];
    if (typeof v !== 'number' || !(v > 0)) throw new UserError(`training option ${key} must be a positive number (got ${String(v)})`);
  }
  if (!Number.isInteger(config.epochs) || !Number.isInteger(config.batchSize)) throw new UserError('epochs and batch size must be integers');
  if (config.batchSize < 2 && config.orderedDropout) throw new UserError('ordered dropout needs a batch of at least 2 images');
  if (!(config.fullNetworkEpochs >= 0) || (config.orderedDropout && config.fullNetworkEpochs >= config.epochs)) {
    throw new UserError(`fullNetworkEpochs must be at least 0 and below the epochs (${config.epochs}) so the sub-networks train too (got ${config.fullNetworkEpochs})`);
  }
  if (!(config.removalShare > 0 && config.removalShare <= 1)) {
    throw new UserError(`removalShare must be in (0, 1] (got ${config.removalShare})`);
  }
  if (!(config.gradClipNorm >= 0 && Number.isFinite(config.gradClipNorm))) {
    throw new UserError(`gradClipNorm must be a finite number ≥ 0 (0 = no clipping; got ${config.gradClipNorm})`);
  }
  for (const key of ['emaDecay', 'bnMomentum', 'momentum', 'rmsDecay'] as const) {
    if (!(config[key] >= 0 && config[key] < 1)) throw new UserError(`training option ${key} must be in [0, 1) (got ${config[key]})`);
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

function stripUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
