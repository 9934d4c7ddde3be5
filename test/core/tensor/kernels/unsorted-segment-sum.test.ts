import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { randomHost, relativeError, runOn, tf, TOLERANCE, useWasmAndCpu } from '../compare-backends.ts';

describe('wasm UnsortedSegmentSum matches the cpu backend', () => {
  beforeAll(useWasmAndCpu);

  const cases = [
    { name: '1-D ids over rows', xShape: [7, 5], ids: [0, 2, 1, 0, 2, 2, 3], segments: 4 },
    { name: 'negative and out-of-range ids are dropped', xShape: [5, 3], ids: [0, -1, 2, 5, 0], segments: 3 },
    { name: 'rank-3 data', xShape: [6, 3, 4], ids: [1, 0, 1, 2, 2, 0], segments: 3 },
  ];

  it.each(cases)('$name', async (c) => {
    const x = randomHost(c.xShape, new Rng(c.ids.length));
    const compute = (t: Record<string, tf.Tensor>): tf.Tensor =>
      tf.unsortedSegmentSum(t['x'] as tf.Tensor, tf.tensor1d(c.ids, 'int32'), c.segments);
    const reference = await runOn('cpu', { x }, compute);
    const actual = await runOn('wasm', { x }, compute);
    expect(actual.length).toBe(reference.length);
    expect(relativeError(actual, reference)).toBeLessThan(TOLERANCE);
  });

  it('keeps int32 data int32 and exact', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 0, 1, 1], 'int32'), 2));
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([2, 8]);
    out.dispose();
  });
});
