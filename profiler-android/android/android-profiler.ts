import { UserError } from '../../core/errors.ts';
import type { Profiler } from '../profiler.ts';

export interface AndroidProfilerOptions {
  serial: string;
  adbHost?: string;
  adbPort?: number;
  numRuns?: number;
  warmupRuns?: number;
}

export async function createAndroidProfiler(_options: AndroidProfilerOptions): Promise<Profiler> {
  throw new UserError('the Android profiler is being wired to the benchmark runner');
}
