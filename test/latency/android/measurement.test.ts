import { describe, expect, it } from 'vitest';
import { measurementFromRepeats } from '../../../latency/android/measurement.ts';
import type { BenchmarkMeasurement } from '../../../latency/android/benchmark/parse.ts';

function repeat(avgUs: number, stdUs: number, minUs: number, maxUs: number, count = 10): BenchmarkMeasurement {
  return { count, currUs: avgUs, minUs, maxUs, avgUs, stdUs, delegates: [] };
}

describe('measurementFromRepeats', () => {
  it('takes the median of the repeat averages, min/max over all runs and the total count', () => {
    const m = measurementFromRepeats([repeat(100, 2, 95, 110), repeat(104, 3, 99, 120), repeat(101, 1, 90, 105)], {
      repeats: 3,
      failedRepeats: 0,
      maxRelativeStd: 0.1,
    });
    expect(m).toEqual({ count: 30, meanUs: 101, medianUs: 101, stdUs: 2, minUs: 90, maxUs: 120, flags: [] });
  });

  it('uses the tool-reported median when present and flags unstable, failed and missing repeats', () => {
    const noisy = { ...repeat(100, 30, 50, 200), median: 90 };
    const m = measurementFromRepeats([noisy, { ...repeat(200, 5, 190, 210), median: 198 }], { repeats: 4, failedRepeats: 1, maxRelativeStd: 0.1 });
    expect(m.meanUs).toBe(150);
    expect(m.medianUs).toBe(144);
    expect(m.flags).toEqual(['failed-repeats', 'high-std', 'incomplete-repeats', 'unstable-repeats']);
  });

  it('refuses an empty list', () => {
    expect(() => measurementFromRepeats([], { repeats: 1, failedRepeats: 0, maxRelativeStd: 0.1 })).toThrow();
  });
});
