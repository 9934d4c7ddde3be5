import { describe, expect, it } from 'vitest';
import { medianOfRepeats, summarizeTimes } from '../../latency/profiler.ts';

describe('measurement statistics', () => {
  it('rejects pauses far from the median and flags it; the mean is then that of the kept runs', () => {
    const times = [100, 101, 99, 102, 98, 100, 101, 5000];
    const m = summarizeTimes(times);
    expect(m.count).toBe(7);
    expect(m.maxUs).toBe(102);
    expect(m.meanUs).toBeCloseTo((100 + 101 + 99 + 102 + 98 + 100 + 101) / 7, 6);
    expect(m.flags).toContain('outliers-rejected');
    expect(summarizeTimes([100, 101, 99, 102]).flags).toEqual([]);
  });

  it('keeps every run when they are all equal, and flags a wide spread', () => {
    expect(summarizeTimes([50, 50, 50]).count).toBe(3);
    expect(summarizeTimes([10, 20, 30, 40, 50]).flags).toContain('high-std');
  });

  it('of repeated measurements keeps the one with the median mean and flags unstable repeats', () => {
    const a = summarizeTimes([100, 100, 100]);
    const b = summarizeTimes([110, 110, 110]);
    const c = summarizeTimes([400, 400, 400]);
    const chosen = medianOfRepeats([c, a, b]);
    expect(chosen.meanUs).toBe(110);
    expect(chosen.flags).toContain('unstable-repeats');
  });
});
