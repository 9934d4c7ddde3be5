/**
 * The one interface every dataset implements. Plain typed arrays only (no tfjs): the trainer converts.
 *
 * Layout and units of a {@link Batch}:
 * - `images`: NHWC float32, N × H × W × 3, RGB, normalized to [-1, 1] as `byte / 127.5 - 1` (0 is mid-grey).
 * - `labels` (classification): int32 class index in [0, numClasses).
 * - `depth` (depth estimation): NHWC float32, N × H × W × 1, z-depth in metres (distance along the camera's
 *   optical axis, as NYU Depth v2 stores it). A value ≤ 0 marks a pixel without a measurement (only possible for
 *   data read from disk); the loss must ignore those pixels.
 */
export type DatasetKind = 'classification' | 'depth';
export type SplitName = 'train' | 'heldout' | 'test';

export interface Batch {
  /** Number of samples N. */
  readonly size: number;
  readonly height: number;
  readonly width: number;
  /** N × H × W × 3, RGB in [-1, 1]. */
  readonly images: Float32Array;
  /** N class indices (classification datasets). */
  readonly labels?: Int32Array;
  /** N × H × W × 1 metres (depth datasets); ≤ 0 = no measurement. */
  readonly depth?: Float32Array;
  /** Position of each sample within its split (0 … split.size − 1), for debugging and per-sample bookkeeping. */
  readonly indices: Int32Array;
}

export interface BatchOptions {
  /** Seed of the epoch shuffle; the order of epoch e is a function of (seed, e) only. */
  readonly seed: number;
  /** Shuffle the split each epoch (default true). With false the order is 0, 1, 2, … every epoch. */
  readonly shuffle?: boolean;
  /** Epoch number, default 0. */
  readonly epoch?: number;
  /** Drop the last, smaller batch of an epoch (default false). Training usually wants true. */
  readonly dropLast?: boolean;
}

export interface Split {
  readonly name: SplitName;
  readonly size: number;
  /** The samples at these positions of the split, in the given order. */
  get(indices: ArrayLike<number>): Batch;
  /** Number of batches in one epoch. */
  batchCount(batchSize: number, options?: Pick<BatchOptions, 'dropLast'>): number;
  /** The order in which epoch `options.epoch` visits the split (a permutation of 0 … size − 1). */
  epochOrder(options: BatchOptions): Int32Array;
  /** Batch `index` of epoch `options.epoch`, computed directly (no need to produce the batches before it). */
  batch(index: number, batchSize: number, options: BatchOptions): Batch;
  /** All batches of epoch `options.epoch`, in order. Each batch equals `batch(i, batchSize, options)`. */
  batches(batchSize: number, options: BatchOptions): Iterable<Batch>;
}

export interface Dataset {
  readonly kind: DatasetKind;
  /** Human-readable name, e.g. "synthetic-classification" or "cifar10 (/data/cifar)". */
  readonly name: string;
  /** [H, W, 3]. */
  readonly inputShape: readonly [number, number, 3];
  /** Classification only. */
  readonly numClasses?: number;
  /** Classification only: name of class i. */
  readonly classNames?: readonly string[];
  /** The splits this dataset has ('test' only where separate test data exists). */
  readonly splitNames: readonly SplitName[];
  /** Throws a UserError for a split the dataset does not have. */
  split(which: SplitName): Split;
}

/** Where a global training step falls: epoch and batch within it (for resuming at step k). */
export function stepPosition(step: number, batchesPerEpoch: number): { epoch: number; batch: number } {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be a non-negative integer, got ${step}`);
  if (!Number.isInteger(batchesPerEpoch) || batchesPerEpoch <= 0) {
    throw new RangeError(`batchesPerEpoch must be a positive integer, got ${batchesPerEpoch}`);
  }
  return { epoch: Math.floor(step / batchesPerEpoch), batch: step % batchesPerEpoch };
}

/**
 * The batch a training run sees at global step `step` when every epoch is one pass over the split: step k is batch
 * k mod B of epoch ⌊k / B⌋. A run resumed at step k therefore sees exactly the batches of an uninterrupted run.
 */
export function batchAtStep(split: Split, step: number, batchSize: number, options: Omit<BatchOptions, 'epoch'>): Batch {
  const perEpoch = split.batchCount(batchSize, options);
  if (perEpoch === 0) throw new RangeError(`split "${split.name}" (${split.size} samples) has no batch of ${batchSize}`);
  const { epoch, batch } = stepPosition(step, perEpoch);
  return split.batch(batch, batchSize, { ...options, epoch });
}
