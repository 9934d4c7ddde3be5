import { describe, expect, it } from 'vitest';
import { batchAtStep, stepPosition, type Batch } from '../../../core/data/dataset.ts';
import { IndexedSplit, makeSplits, partitionHeldout, rangeIndices, SplitDataset, type BatchTarget, type SampleSource } from '../../../core/data/indexed-split.ts';
import { UserError } from '../../../core/errors.ts';

/** Sample i is a 2×2 image filled with i / 1000 and label i % 7: every batch reveals which samples it holds. */
class CountingSource implements SampleSource {
  readonly kind = 'classification';
  readonly height = 2;
  readonly width = 2;
  writes = 0;
  constructor(readonly count: number) {}
  write(index: number, target: BatchTarget, slot: number): void {
    this.writes++;
    target.images.fill(index / 1000, slot * 12, slot * 12 + 12);
    if (target.labels) target.labels[slot] = index % 7;
  }
}

const sourceIndices = (b: Batch): number[] => Array.from({ length: b.size }, (_, i) => Math.round((b.images[i * 12] as number) * 1000));

describe('IndexedSplit', () => {
  it('get returns the requested members in order, with labels and split positions', () => {
    const split = new IndexedSplit('train', new CountingSource(100), Int32Array.from([10, 20, 30, 40]));
    const b = split.get([3, 0, 2]);
    expect(b.size).toBe(3);
    expect(b.images.length).toBe(3 * 2 * 2 * 3);
    expect(sourceIndices(b)).toEqual([40, 10, 30]);
    expect(Array.from(b.labels ?? [])).toEqual([40 % 7, 10 % 7, 30 % 7]);
    expect(Array.from(b.indices)).toEqual([3, 0, 2]);
    expect(() => split.get([4])).toThrow(RangeError);
  });

  it('an epoch visits every sample exactly once; same (seed, epoch) same order, other epochs or seeds differ', () => {
    const split = new IndexedSplit('train', new CountingSource(1000), rangeIndices(1000));
    const a = Array.from(split.epochOrder({ seed: 5, epoch: 3 }));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const fresh = new IndexedSplit('train', new CountingSource(1000), rangeIndices(1000));
    expect(Array.from(fresh.epochOrder({ seed: 5, epoch: 3 }))).toEqual(a);
    expect(Array.from(split.epochOrder({ seed: 5, epoch: 4 }))).not.toEqual(a);
    expect(Array.from(split.epochOrder({ seed: 6, epoch: 3 }))).not.toEqual(a);
    expect(Array.from(split.epochOrder({ seed: 5, epoch: 3, shuffle: false }))).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('batch i of epoch e computed directly equals the i-th batch of iterating the epoch, on a fresh split', () => {
    const make = () => new IndexedSplit('train', new CountingSource(103), rangeIndices(103));
    const options = { seed: 9, epoch: 2 };
    const iterated = [...make().batches(10, options)];
    expect(iterated.length).toBe(11);
    expect(iterated[10]?.size).toBe(3);
    for (const i of [7, 0, 10, 3]) {
      const direct = make().batch(i, 10, options);
      expect(Array.from(direct.images)).toEqual(Array.from(iterated[i]?.images ?? []));
      expect(Array.from(direct.labels ?? [])).toEqual(Array.from(iterated[i]?.labels ?? []));
    }
    const seen = iterated.flatMap(sourceIndices).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it('producing batch i generates only that batch’s samples (no replay from the start)', () => {
    const source = new CountingSource(5000);
    const split = new IndexedSplit('train', source, rangeIndices(5000));
    split.batch(40, 32, { seed: 1, epoch: 7 });
    expect(source.writes).toBe(32);
  });

  it('dropLast drops the short final batch', () => {
    const split = new IndexedSplit('train', new CountingSource(103), rangeIndices(103));
    expect(split.batchCount(10)).toBe(11);
    expect(split.batchCount(10, { dropLast: true })).toBe(10);
    expect([...split.batches(10, { seed: 1, dropLast: true })].every((b) => b.size === 10)).toBe(true);
    expect(() => split.batch(10, 10, { seed: 1, dropLast: true })).toThrow(/batch 10 does not exist/);
    expect(() => split.batchCount(0)).toThrow(RangeError);
  });

  it('batchAtStep: a run resumed at step k sees the same batches as an uninterrupted run', () => {
    const split = new IndexedSplit('train', new CountingSource(50), rangeIndices(50));
    const options = { seed: 3, dropLast: true };
    const uninterrupted: number[][] = [];
    for (let epoch = 0; epoch < 3; epoch++) for (const b of split.batches(8, { ...options, epoch })) uninterrupted.push(sourceIndices(b));
    expect(uninterrupted.length).toBe(18);
    const resumed = new IndexedSplit('train', new CountingSource(50), rangeIndices(50));
    for (let step = 11; step < 18; step++) expect(sourceIndices(batchAtStep(resumed, step, 8, options))).toEqual(uninterrupted[step]);
    expect(stepPosition(13, 6)).toEqual({ epoch: 2, batch: 1 });
  });
});

describe('held-out partition', () => {
  it('is disjoint from train, covers the pool, has the requested size and depends only on the seed', () => {
    const { train, heldout } = partitionHeldout(1000, 150, 42);
    expect(heldout.length).toBe(150);
    expect(train.length).toBe(850);
    const all = new Set([...train, ...heldout]);
    expect(all.size).toBe(1000);
    expect(Array.from(partitionHeldout(1000, 150, 42).heldout)).toEqual(Array.from(heldout));
    expect(Array.from(partitionHeldout(1000, 150, 43).heldout)).not.toEqual(Array.from(heldout));
    // spread over the pool, not a prefix
    expect(Math.max(...heldout)).toBeGreaterThan(800);
    expect(Math.min(...heldout)).toBeLessThan(200);
  });

  it('rejects a held-out set as large as the pool', () => {
    expect(() => partitionHeldout(10, 10, 1)).toThrow(UserError);
    expect(() => partitionHeldout(10, -1, 1)).toThrow(/held-out size -1/);
  });

  it('a dataset without a test source has no test split, and says so', () => {
    const ds = new SplitDataset({ kind: 'classification', name: 'toy', inputShape: [2, 2, 3], numClasses: 7 }, makeSplits(new CountingSource(20), 5, 1));
    expect(ds.splitNames).toEqual(['train', 'heldout']);
    expect(ds.split('heldout').size).toBe(5);
    expect(() => ds.split('test')).toThrow(/no "test" split; it has: train, heldout/);
  });
});
