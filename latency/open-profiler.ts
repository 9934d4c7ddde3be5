/**
 * Opens the profiler for a `--device` argument: "host" (this computer's TFLite runtime) or an adb serial (a USB
 * phone, or a remote one reached with `adb connect host:port`); `openProfilers` opens several at once from a
 * comma-separated list or "all" (every phone the adb server lists as online).
 */
import { UserError, ValidationError } from '../core/errors.ts';
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

const SERIAL = /^[A-Za-z0-9._:-]+$/;

export async function openProfiler(options: OpenProfilerOptions): Promise<Profiler> {
  if (options.device === 'host') return createHostProfiler(options);
  if (!SERIAL.test(options.device)) {
    throw new ValidationError(`--device "${options.device}" is neither "host" nor an adb serial (letters, digits, . _ : -)`);
  }
  const { createAndroidProfiler } = await import('./android/android-profiler.ts');
  // Every option (adb host/port, runs, warm-up, repeats, threads, CPU mask, delegate) goes through; `device` is the serial.
  return createAndroidProfiler({ ...options, serial: options.device });
}

/** The devices a `--device` list names: "all" is every online adb device; duplicates are dropped. */
export async function resolveDevices(list: string, options: { adbHost?: string; adbPort?: number }): Promise<string[]> {
  const names = [...new Set(list.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
  if (names.length === 0) throw new ValidationError('--device names no device');
  if (!names.includes('all')) return names;
  const { DeviceBridge } = await import('./android/device/bridge.ts');
  const bridge = new DeviceBridge({
    ...(options.adbHost !== undefined ? { host: options.adbHost } : {}),
    ...(options.adbPort !== undefined ? { port: options.adbPort } : {}),
  });
  const online = (await bridge.listDevices()).filter((d) => d.state === 'device').map((d) => d.serial);
  if (online.length === 0) throw new UserError('--device all: no phone is attached and online', ['plug one in with USB debugging on, or `adb connect host:port` a remote one']);
  return [...new Set([...names.filter((name) => name !== 'all'), ...online])];
}

/** Opens one profiler per device of the list; if one cannot be opened, the ones opened are closed again. */
export async function openProfilers(options: Omit<OpenProfilerOptions, 'device'> & { devices: string }): Promise<Profiler[]> {
  const { devices, ...rest } = options;
  const serials = await resolveDevices(devices, rest);
  const profilers: Profiler[] = [];
  try {
    for (const device of serials) profilers.push(await openProfiler({ ...rest, device }));
  } catch (error) {
    for (const profiler of profilers) await profiler.close?.();
    throw error;
  }
  return profilers;
}
