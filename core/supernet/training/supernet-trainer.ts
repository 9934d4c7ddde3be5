/**
 * Super-network training with ordered dropout: each step, image n of the batch trains its own sub-network (balanced
 * widths, sampling.ts) in one forward-backward pass of the masked super-network.
 *
 * Exact resume: everything a step does is a function of (seed, step) and the checkpointed state — the batch is
 * batch (step mod B) of epoch ⌊step / B⌋ of the dataset's deterministic order, the sub-networks and the dropout mask
 * come from mixSeed(seed, step, …), and weights, BN statistics, optimizer slots and EMA weights are saved bit-exactly
 * (resume.ts). A run resumed from a checkpoint therefore reproduces the uninterrupted run's losses.
 */
import type { NetworkSpec, SearchSpace, SubnetConfig } from '../../arch/index.ts';
import { searchSpace } from '../../arch/index.ts';
import type { Batch, Dataset, Split } from '../../data/dataset.ts';
import { UserError } from '../../errors.ts';
import { definedOnly, pickDefined } from '../../objects.ts';
import { checkDatasetFits } from '../dataset-fit.ts';
import { Optimizer } from '../optimizer.ts';
import { sampleBatchSubnets, widthGroups } from '../sampling.ts';
import { SupernetWeights } from '../weights.ts';
import { movingAverageHost } from './batch-norm.ts';
import { DEFAULT_TRAIN_CONFIG, FIXED_ON_RESUME, LEGACY_CONFIG, learningRate, samplingOptions, validateTrainConfig, type SupernetTrainConfig } from './config.ts';
import { classifierDropout, dropoutMaskValues, type DropoutLayer } from './dropout.ts';
import { gradientEngine, resolveTrainingWorkers } from './gradient-workers.ts';
import { runTrainingLoop, trainingDiverged } from './loop.ts';
import { loadTrainingState, saveTrainingState, trainingStateExists, type TrainingStateRecord } from './resume.ts';

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

export interface TrainRunOptions {
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
  stopAfterStep?: number;
  /** Awaited after each epoch's checkpoint (e.g. a held-out evaluation); `epoch` is 0-based. */
  onEpochEnd?: (epoch: number) => Promise<void> | void;
}

/** What a super-network checkpoint keeps besides the compared recipe fields. */
export interface SupernetStateInfo {
  config: SupernetTrainConfig;
  dataset: string;
}

/** Salt of the classifier dropout's random stream (kept: resumed runs of earlier versions continue identically). */
const DROPOUT_SALT = 0xd7;

/** Checkpoints written before resume.ts: `{ step, config, losses, dataset }`. */
function legacyState(state: Record<string, unknown>): TrainingStateRecord<SupernetStateInfo> | undefined {
  if (typeof state['step'] !== 'number' || typeof state['config'] !== 'object') return undefined;
  const config = { ...DEFAULT_TRAIN_CONFIG, ...LEGACY_CONFIG, ...(state['config'] as Partial<SupernetTrainConfig>) };
  return {
    kind: 'supernet',
    step: state['step'],
    losses: (state['losses'] as number[] | undefined) ?? [],
    fixed: pickDefined(config, FIXED_ON_RESUME),
    info: { config, dataset: String(state['dataset'] ?? '') },
  };
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
  private readonly dropout: DropoutLayer | undefined;

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
    this.dropout = classifierDropout(opts.spec);
  }

  /** A new run, or (resume) the run checkpointed in opts.outDir. */
  static create(opts: TrainerOptions): SupernetTrainer {
    const given = opts.config ?? {};
    if (opts.resume) {
      if (!opts.outDir) throw new UserError('--resume needs the checkpoint directory (--out)');
      if (!trainingStateExists(opts.outDir)) throw new UserError(`cannot resume: no checkpoint in ${opts.outDir}`);
      const saved = loadTrainingState<SupernetStateInfo>(opts.outDir, opts.spec, {
        kind: 'supernet',
        fixed: pickDefined(given, FIXED_ON_RESUME),
        legacy: legacyState,
      });
      // Checkpoints written before data-parallel training were trained in one thread; another count continues the
      // run, but no longer exactly as it would have gone on.
      const config: SupernetTrainConfig = { ...({ workers: 1 } as Partial<SupernetTrainConfig>), ...saved.info.config, ...pickDefined(given, ['epochs', 'checkpointEverySteps', 'workers']) };
      config.workers = resolveTrainingWorkers(config.workers);
      const weights = SupernetWeights.init(opts.spec, config.seed);
      try {
        saved.restoreWeights(weights);
      } catch (error) {
        weights.dispose();
        throw error;
      }
      const trainer = new SupernetTrainer(opts, config, weights);
      trainer.optimizer.restore((key) => saved.optimizerSlot(key));
      trainer.optimizer.params.forEach((p, i) => {
        const data = saved.tensors.get(`ema/${p.name}`)?.data;
        const target = trainer.ema[i] as Float32Array;
        if (!data || data.length !== target.length) throw new UserError(`checkpoint ${opts.outDir} has no EMA value for "${p.name}"`);
        target.set(data);
      });
      trainer.step = saved.step;
      trainer.losses.push(...saved.losses);
      return trainer;
    }
    if (opts.outDir && trainingStateExists(opts.outDir)) {
      throw new UserError(`${opts.outDir} already holds a checkpoint`, ['pass --resume to continue it, or choose another --out directory']);
    }
    const config: SupernetTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...definedOnly(given) };
    validateTrainConfig(config);
    config.workers = resolveTrainingWorkers(config.workers);
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

  /** Runs one training step on the batch of the current step (its shards on `config.workers` threads); returns its loss. */
  async trainStep(): Promise<number> {
    const step = this.step;
    const batch = this.batchAt(step);
    const n = batch.size;
    const subnets = this.subnetsAt(step, n);
    const groups = subnets && this.config.bnGroups > 1 ? widthGroups(this.space, subnets, this.config.bnGroups) : undefined;
    const lr = learningRate(this.config, step, this.stepsPerEpoch);
    const engine = await gradientEngine(this.weights, this.config.workers);
    const result = await engine.compute(this.weights, {
      n,
      height: batch.height,
      width: batch.width,
      images: batch.images,
      ...(batch.labels ? { labels: batch.labels } : {}),
      ...(batch.depth ? { depth: batch.depth } : {}),
      ...(subnets ? { subnets } : {}),
      ...(groups ? { bnGroups: [...groups] } : {}),
      ...(this.dropout ? { dropoutMask: dropoutMaskValues(this.config.seed, step, n, this.dropout, DROPOUT_SALT) } : {}),
      ...(subnets && this.config.widthLossPower > 0 && this.spec.task === 'classification'
        ? { imageWeights: Float32Array.from(subnets, (c) => relativeWidth(this.space, c) ** this.config.widthLossPower) }
        : {}),
      lossScale: 1,
      labelSmoothing: this.config.labelSmoothing,
      depthLoss: this.config.depthLoss,
    });
    const loss = result.loss;
    if (!Number.isFinite(loss)) throw trainingDiverged(step, loss, 'lower the learning rate (--lr)');
    this.lastGradNorm = this.optimizer.applyHost(result.perParam, lr, this.config.gradClipNorm);
    const m = this.config.bnMomentum;
    for (const s of result.stats) {
      movingAverageHost(this.weights.get(`${s.id}.mean`), s.mean, m);
      movingAverageHost(this.weights.get(`${s.id}.variance`), s.variance, m);
    }
    const d = Math.min(this.config.emaDecay, (1 + step) / (10 + step));
    this.optimizer.values.forEach((w, i) => {
      const e = this.ema[i] as Float32Array;
      for (let j = 0; j < e.length; j++) e[j] = d * (e[j] as number) + (1 - d) * (w[j] as number);
    });
    this.losses[step] = loss;
    this.step = step + 1;
    return loss;
  }

  /** Writes a checkpoint to outDir (no-op without one); returns its manifest path. */
  checkpoint(): string | undefined {
    if (!this.outDir) return undefined;
    return saveTrainingState<SupernetStateInfo>(this.outDir, {
      kind: 'supernet',
      step: this.step,
      losses: this.losses.slice(0, this.step),
      fixed: pickDefined(this.config, FIXED_ON_RESUME),
      info: { config: this.config, dataset: this.dataset.name },
      weights: this.weights,
      optimizer: this.optimizer,
      extraTensors: this.emaTensors(),
    });
  }

  /** Runs until `config.epochs` are done or the signal aborts; checkpoints per epoch (and interval, and on abort). */
  async run(opts: TrainRunOptions = {}): Promise<{ interrupted: boolean }> {
    const emit = opts.onEvent ?? (() => undefined);
    const total = this.totalSteps;
    let epochLoss = 0;
    let epochSteps = 0;
    const result = await runTrainingLoop({
      startStep: this.step,
      totalSteps: total,
      imagesPerStep: this.config.batchSize,
      runStep: () => this.trainStep(),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.stopAfterStep !== undefined ? { stopAfterStep: opts.stopAfterStep } : {}),
      divergenceHint: 'lower the learning rate (--lr)',
      onStep: ({ step, loss, imagesPerSec, etaSec }) => {
        epochLoss += loss;
        epochSteps++;
        emit({ type: 'step', epoch: Math.floor((step - 1) / this.stepsPerEpoch), step, totalSteps: total, loss, lr: learningRate(this.config, step - 1, this.stepsPerEpoch), imagesPerSec, etaSec });
        if (step % this.stepsPerEpoch === 0) {
          emit({ type: 'epoch', epoch: step / this.stepsPerEpoch - 1, step, totalSteps: total, loss: epochLoss / epochSteps, imagesPerSec, etaSec });
          epochLoss = 0;
          epochSteps = 0;
        }
      },
      checkpointDue: (step) => {
        if (step % this.stepsPerEpoch === 0) return 'epoch';
        return this.config.checkpointEverySteps > 0 && step % this.config.checkpointEverySteps === 0 ? 'interval' : undefined;
      },
      ...(opts.onEpochEnd ? { afterStep: (step: number) => (step % this.stepsPerEpoch === 0 ? opts.onEpochEnd?.(step / this.stepsPerEpoch - 1) : undefined) } : {}),
      checkpoint: (reason) => {
        const path = this.checkpoint();
        if (path) emit({ type: 'checkpoint', epoch: this.epoch, step: this.step, path, reason: reason as 'epoch' | 'interval' | 'interrupt' });
      },
    });
    emit({ type: 'done', epoch: this.epoch, step: this.step, totalSteps: total, loss: this.losses[this.step - 1] ?? NaN, imagesPerSec: result.imagesPerSec, etaSec: 0, interrupted: result.interrupted });
    return { interrupted: result.interrupted };
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
export async function trainSupernet(opts: TrainerOptions & Omit<TrainRunOptions, 'onEvent' | 'signal'>): Promise<{ trainer: SupernetTrainer; interrupted: boolean }> {
  const trainer = SupernetTrainer.create(opts);
  const { interrupted } = await trainer.run({
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.stopAfterStep !== undefined ? { stopAfterStep: opts.stopAfterStep } : {}),
    ...(opts.onEpochEnd ? { onEpochEnd: opts.onEpochEnd } : {}),
  });
  return { trainer, interrupted };
}

/** Mean of level / top level over a sub-network's searchable layers (1 for the full network). */
function relativeWidth(space: SearchSpace, config: SubnetConfig): number {
  const top = space.widthLevels - 1;
  return config.levels.reduce((s, v) => s + v / top, 0) / Math.max(1, config.levels.length);
}
