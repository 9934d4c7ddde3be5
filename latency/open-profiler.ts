/** Opens the profiler for a `--device` argument: "host" (this computer's TFLite runtime) or an adb serial. */
import { ValidationError } from '../core/errors.ts';
import { createHostProfiler, type HostProfilerOptions } from './host/host-profiler.ts';
import type { Profiler } from './profiler.ts';
import type { Delegate } from './android/benchmark/delegates.ts';

export interface OpenProfilerOptions extends HostProfilerOptions {
  device: string;
  adbHost?: string;
  adbPort?: number;
  threads?: number;
  cpuMask?: string;
  delegate?: Delegate;
  /** A fixed time limit per model run (ms) on a phone. */
  modelTimeoutMs?: number;
  pinFrequency?: boolean | number;
}

export async function openProfiler(options: OpenProfilerOptions): Promise<Profiler> {
  if (options.device === 'host') return createHostProfiler(options);
  if (!/^[A-Za-z0-9._:-]+$/.test(options.device)) {
    throw new ValidationError(`--device "${options.device}" is neither "host" nor an adb serial (letters, digits, . _ : -)`);
  }
  const { createAndroidProfiler } = await import('./android/android-profiler.ts');
  // Every option (adb host/port, runs, warm-up, repeats, threads, CPU mask) goes through; `device` is the serial.
  return createAndroidProfiler({ ...options, serial: options.device });
}
