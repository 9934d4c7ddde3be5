/**
 * The training recipe of every training in the engine (super-network training with ordered dropout, final training
 * of a discovered network, NetAdaptV1 fine-tuning): its fields, defaults, validation and learning-rate schedule.
 */
import { UserError } from '../../errors.ts';
import type { DepthLoss } from '../losses.ts';
import type { OptimizerName } from '../optimizer.ts';
import type { DepthSampling, KernelSampling, SamplingOptions, WidthSampling } from '../sampling.ts';

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
  /**
   * Data-parallel worker threads, each training a shard of every batch (gradient-workers.ts); 0: the default ($NETADAPT_TRAIN_WORKERS, else 1).
   * Results are deterministic for a given count (BN statistics are per shard); a run resumes with its own count.
   */
  workers: number;
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
  workers: 0,
};

/** What a checkpoint written before a field existed was trained with. */
export const LEGACY_CONFIG: Partial<SupernetTrainConfig> = { widthSampling: 'independent', widthJitter: 0, bnGroups: 1, widthLossPower: 0, fullNetworkEpochs: 0, depthSampling: 'coherent', gradClipNorm: 0, removalShare: 1 };

/** Fields that must not change when a super-network training is resumed (they would change the trajectory). */
export const FIXED_ON_RESUME: readonly (keyof SupernetTrainConfig)[] = [
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

export function learningRate(config: SupernetTrainConfig, step: number, stepsPerEpoch: number): number {
  const warmSteps = config.warmupEpochs * stepsPerEpoch;
  const warm = warmSteps > 0 ? Math.min(1, (step + 1) / warmSteps) : 1;
  return config.lr * warm * config.lrDecayRate ** (step / stepsPerEpoch / config.lrDecayEpochs);
}

export function validateTrainConfig(config: SupernetTrainConfig): void {
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
  if (!(Number.isInteger(config.workers) && config.workers >= 0)) {
    throw new UserError(`training workers must be a whole number ≥ 0 (0 = the default, $NETADAPT_TRAIN_WORKERS or 1; got ${config.workers})`);
  }
}
