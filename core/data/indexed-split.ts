/**
 * The one Split implementation: a list of sample indices into a SampleSource, plus deterministic epoch shuffles and
 * held-out partitioning. Every dataset is a SampleSource (something that can write sample i into batch arrays).
 */
import { Rng, mixSeed } from '../random.ts';
import { UserError } from '../errors.ts';
import type { Batch, BatchOptions, Dataset, DatasetKind, Split, SplitName } from './dataset.ts';

export interface BatchTarget {
  readonly images: Float32Array;
  readonly labels?: Int32Array;
  readonly depth?: Float32Array;
}

export interface SampleSource {
  readonly kind: DatasetKind;
  readonly height: number;
  readonly width: number;
  /** Number of samples; valid indices are 0 … count − 1. */
  readonly count: number;
  /** Writes sample `index` at position `slot` of the batch arrays (image at slot·H·W·3, depth at slot·H·W). */
  write(index: number, target: BatchTarget, slot: number): void;
}

/** byte → [-1, 1], the normalization every dataset uses (see dataset.ts). */
export const BYTE_TO_UNIT: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = b / 127.5 - 1;
  return table;
})();

const SHUFFLE_STREAM = 0x5f3759df;
const HELDOUT_STREAM = 0x48454c44;

export class IndexedSplit implements Split {
  readonly size: number;
  private cachedOrder: { seed: number; epoch: number; shuffle: boolean; order: Int32Array } | undefined;

  constructor(
    readonly name: SplitName,
    private readonly source: SampleSource,
    /** Source index of each member of the split, in split order. */
    private readonly members: Int32Array,
  ) {
    for (const m of members) {
      if (!(m >= 0 && m < source.count)) throw new RangeError(`split "${name}": source index ${m} out of range`);
    }
    this.size = members.length;
  }

  get(indices: ArrayLike<number>): Batch {
    const n = indices.length;
    const { height, width, kind } = this.source;
    const pixels = height * width;
    const target: BatchTarget = {
      images: new Float32Array(n * pixels * 3),
      ...(kind === 'classification' ? { labels: new Int32Array(n) } : { depth: new Float32Array(n * pixels) }),
    };
    const positions = new Int32Array(n);
    for (let slot = 0; slot < n; slot++) {
      const position = indices[slot] as number;
      if (!Number.isInteger(position) || position < 0 || position >= this.size) {
        throw new RangeError(`split "${this.name}" has ${this.size} samples; index ${position} is out of range`);
      }
      positions[slot] = position;
      this.source.write(this.members[position] as number, target, slot);
    }
    return { size: n, height, width, ...target, indices: positions };
  }

  batchCount(batchSize: number, options: Pick<BatchOptions, 'dropLast'> = {}): number {
    checkBatchSize(batchSize);
    return options.dropLast ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  epochOrder(options: BatchOptions): Int32Array {
    return this.cachedEpochOrder(options).slice();
  }

  /** The epoch order, cached for the last (seed, epoch): consecutive batches of one epoch shuffle once. */
  private cachedEpochOrder(options: BatchOptions): Int32Array {
    const epoch = options.epoch ?? 0;
    const shuffle = options.shuffle ?? true;
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
    const cached = this.cachedOrder;
    if (cached && cached.seed === options.seed && cached.epoch === epoch && cached.shuffle === shuffle) return cached.order;
    const order = new Int32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (shuffle) shuffleInPlace(order, new Rng(mixSeed(options.seed, epoch, SHUFFLE_STREAM)));
    this.cachedOrder = { seed: options.seed, epoch, shuffle, order };
    return order;
  }

  batch(index: number, batchSize: number, options: BatchOptions): Batch {
    const count = this.batchCount(batchSize, options);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`split "${this.name}" has ${count} batches of ${batchSize}; batch ${index} does not exist`);
    }
    const order = this.cachedEpochOrder(options);
    return this.get(order.subarray(index * batchSize, Math.min(this.size, (index + 1) * batchSize)));
  }

  *batches(batchSize: number, options: BatchOptions): Iterable<Batch> {
    const count = this.batchCount(batchSize, options);
    for (let i = 0; i < count; i++) yield this.batch(i, batchSize, options);
  }
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
}

function shuffleInPlace(values: Int32Array, rng: Rng): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = values[i] as number;
    values[i] = values[j] as number;
    values[j] = tmp;
  }
}

/**
 * Splits a training pool of `poolSize` samples into train and held-out members: `heldoutSize` indices drawn
 * uniformly without replacement from (seed), the rest for training. Both lists ascending (reading order for files).
 */
export function partitionHeldout(poolSize: number, heldoutSize: number, seed: number): { train: Int32Array; heldout: Int32Array } {
  if (!Number.isInteger(heldoutSize) || heldoutSize < 0 || heldoutSize >= poolSize) {
    throw new UserError(
      `held-out size ${heldoutSize} does not fit a training pool of ${poolSize} samples; it must be between 0 and ${poolSize - 1}`,
    );
  }
  const pool = new Int32Array(poolSize);
  for (let i = 0; i < poolSize; i++) pool[i] = i;
  const rng = new Rng(mixSeed(seed, HELDOUT_STREAM));
  // Partial Fisher–Yates: the first heldoutSize positions become a uniform sample without replacement.
  for (let i = 0; i < heldoutSize; i++) {
    const j = i + rng.int(poolSize - i);
    const tmp = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = tmp;
  }
  const heldout = pool.slice(0, heldoutSize).sort();
  const train = pool.slice(heldoutSize).sort();
  return { train, heldout };
}

/** 0, 1, …, n − 1. */
export function rangeIndices(n: number, start = 0): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i;
  return out;
}

/** Splits of a dataset built from sources: a training pool (train + held-out) and an optional test source. */
export function makeSplits(
  pool: SampleSource,
  heldoutSize: number,
  seed: number,
  test?: SampleSource,
): Map<SplitName, Split> {
  const { train, heldout } = partitionHeldout(pool.count, heldoutSize, seed);
  const splits = new Map<SplitName, Split>([
    ['train', new IndexedSplit('train', pool, train)],
    ['heldout', new IndexedSplit('heldout', pool, heldout)],
  ]);
  if (test) splits.set('test', new IndexedSplit('test', test, rangeIndices(test.count)));
  return splits;
}

/** Looks a split up, with an error naming the splits that do exist. */
export function pickSplit(datasetName: string, splits: ReadonlyMap<SplitName, Split>, which: SplitName): Split {
  const split = splits.get(which);
  if (!split) {
    throw new UserError(`dataset ${datasetName} has no "${which}" split; it has: ${[...splits.keys()].join(', ')}`);
  }
  return split;
}

export interface DatasetInfo {
  readonly kind: DatasetKind;
  readonly name: string;
  readonly inputShape: readonly [number, number, 3];
  readonly numClasses?: number;
  readonly classNames?: readonly string[];
}

/** A Dataset over a fixed set of splits. */
export class SplitDataset implements Dataset {
  readonly kind: DatasetKind;
  readonly name: string;
  readonly inputShape: readonly [number, number, 3];
  readonly numClasses?: number;
  readonly classNames?: readonly string[];
  readonly splitNames: readonly SplitName[];

  constructor(
    info: DatasetInfo,
    private readonly splits: ReadonlyMap<SplitName, Split>,
  ) {
    this.kind = info.kind;
    this.name = info.name;
    this.inputShape = info.inputShape;
    if (info.numClasses !== undefined) this.numClasses = info.numClasses;
    if (info.classNames !== undefined) this.classNames = info.classNames;
    this.splitNames = [...splits.keys()];
  }

  split(which: SplitName): Split {
    return pickSplit(this.name, this.splits, which);
  }
}
