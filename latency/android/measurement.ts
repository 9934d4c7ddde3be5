/** Turns benchmark_model's per-repeat statistics into the Profiler interface's Measurement. */
import type { BenchmarkMeasurement } from './benchmark/parse.ts';
import { median, relativeStd } from '../../core/stats.ts';
import type { Measurement } from '../profiler.ts';

export interface RepeatSummaryOptions {
  /** Repeats that were asked for (fewer measured ones add the 'incomplete-repeats' flag). */
  repeats: number;
  failedRepeats: number;
  /** Relative std above which 'high-std' / 'unstable-repeats' is flagged (the runner's maxRelativeStd). */
  maxRelativeStd: number;
}

/**
 * The latency is the median over repeats of each repeat's average (the runner's `latencyUs`); count, min and max
 * cover every timed run of every repeat; median and std are the medians of the repeats' own values.
 */
export function measurementFromRepeats(repeats: readonly BenchmarkMeasurement[], options: RepeatSummaryOptions): Measurement {
  if (repeats.length === 0) throw new Error('measurementFromRepeats: no measured repeat');
  const averages = repeats.map((m) => m.avgUs);
  const meanUs = median(averages);
  const runRelativeStd = median(repeats.map((m) => (m.avgUs > 0 ? m.stdUs / m.avgUs : 0)));
  const flags: string[] = [];
  if (runRelativeStd > options.maxRelativeStd) flags.push('high-std');
  if (repeats.length > 1 && relativeStd(averages) > options.maxRelativeStd) flags.push('unstable-repeats');
  if (options.failedRepeats > 0) flags.push('failed-repeats');
  if (repeats.length + options.failedRepeats < options.repeats) flags.push('incomplete-repeats');
  return {
    count: repeats.reduce((sum, m) => sum + m.count, 0),
    meanUs,
    medianUs: median(repeats.map((m) => m.median ?? m.avgUs)),
    stdUs: median(repeats.map((m) => m.stdUs)),
    minUs: Math.min(...repeats.map((m) => m.minUs)),
    maxUs: Math.max(...repeats.map((m) => m.maxUs)),
    flags: flags.sort(),
  };
}
