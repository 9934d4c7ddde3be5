/**
 * The Profiler interface: something that measures the latency of .tflite models on one device with fixed runtime
 * options. The Android profiler (adb + benchmark_model) and the host profiler (a TFLite runtime on this computer)
 * both implement it, so the latency-table builder, lazy profiling and validation work the same with or without a phone.
 */
import { UserError } from '../core/errors.ts';
import { median } from '../core/stats.ts';
import { canonicalRuntimeOptions } from './store/runtime-options.ts';

export interface ModelToMeasure {
  /** Caller's key (a layer signature, or a sub-network key). */
  key: string;
  bytes: Uint8Array;
  /** Multiply-accumulates of the model, when known (a phone derives the model's time limit from them). */
  macs?: number;
}

/** One model could not be measured; `reason` is a short cause ('timeout', 'cut-off', 'bad-output', ...). */
export class ModelMeasurementError extends UserError {
  constructor(
    readonly reason: string,
    message: string,
    details: readonly string[] = [],
  ) {
    super(message, details);
  }
}

/** The conditions of one measured batch on a phone (see latency/android/device/thermal.ts). */
export interface BatchConditionsReport {
  serial: string;
  models: number;
  attempt: number;
  verdict: 'stable' | 'throttled-remeasured' | 'throttled-kept';
  reasons: string[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  cooldownMs: number;
}

export interface Measurement {
  count: number;
  meanUs: number;
  medianUs: number;
  stdUs: number;
  minUs: number;
  maxUs: number;
  /** e.g. 'high-std' when the relative std of the repeats is large. */
  flags: string[];
}

export interface MeasureCallbacks {
  /** Called as soon as one model is measured (so the caller can commit it before the next one runs). */
  onResult: (key: string, measurement: Measurement) => void;
  /** Called for a model that failed (bad output, runtime error) — the others go on. */
  onFailure?: (key: string, error: Error) => void;
  /** Called every few seconds while one model takes long: how long it has run and its time limit. */
  onWaiting?: (key: string, elapsedMs: number, limitMs: number) => void;
  /** Called after each batch with the phone's clocks and temperatures around it (phones only). */
  onBatchConditions?: (report: BatchConditionsReport) => void;
  signal?: AbortSignal;
}

export interface Profiler {
  /** Fingerprint id: latency entries belong to it; a changed device/tool/options yields a new id. */
  readonly deviceId: string;
  readonly label: string;
  readonly fingerprint: Readonly<Record<string, unknown>>;
  /** Canonical runtime options string (threads, mask, warmup, runs) — part of every entry's key. */
  readonly runtimeOptions: string;
  /** The adb serial of a phone (absent for the host). */
  readonly serial?: string;
  /** Measures the models in order; resolves when all are done (or throws when the device is lost). */
  measure(models: readonly ModelToMeasure[], callbacks: MeasureCallbacks): Promise<void>;
  close?(): Promise<void>;
}

export interface RuntimeOptions {
  threads: number;
  warmupRuns: number;
  numRuns: number;
  cpuMask?: string;
  /** 'xnnpack' (default), 'cpu', 'gpu' or 'nnapi': tables of different delegates are different tables. */
  delegate?: string;
}

export function formatRuntimeOptions(options: RuntimeOptions): string {
  return canonicalRuntimeOptions({
    threads: options.threads,
    mask: options.cpuMask ?? 'all',
    warmup: options.warmupRuns,
    runs: options.numRuns,
    delegate: options.delegate ?? 'xnnpack',
  });
}


/**
 * Statistics of raw times after rejecting outliers: values further than 4 robust standard deviations
 * (1.4826 · MAD) from the median are dropped (garbage collection pauses, scheduler preemption on a shared machine),
 * then mean/median/std are computed on the rest. Flags 'outliers-rejected' when any were dropped and 'high-std'
 * when the remaining relative std is above `highStdRatio`.
 */
export function summarizeTimes(timesUs: readonly number[], highStdRatio = 0.2): Measurement {
  const all = [...timesUs].sort((a, b) => a - b);
  const center = median(all);
  const mad = median(all.map((v) => Math.abs(v - center)));
  const limit = 4 * 1.4826 * mad;
  const sorted = mad > 0 ? all.filter((v) => Math.abs(v - center) <= limit) : all;
  const n = sorted.length;
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const variance = sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const middle = median(sorted);
  const std = Math.sqrt(variance);
  const flags: string[] = [];
  if (sorted.length < all.length) flags.push('outliers-rejected');
  if (std > highStdRatio * middle) flags.push('high-std');
  return {
    count: n,
    meanUs: mean,
    medianUs: middle,
    stdUs: std,
    minUs: sorted[0] as number,
    maxUs: sorted[n - 1] as number,
    flags,
  };
}

/** Of several repeated measurements of one model, the one with the median mean (a single disturbed repeat is ignored). */
export function medianOfRepeats(measurements: readonly Measurement[]): Measurement {
  if (measurements.length === 0) throw new Error('medianOfRepeats: no measurements');
  const sorted = [...measurements].sort((a, b) => a.meanUs - b.meanUs);
  const chosen = sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
  const means = sorted.map((m) => m.meanUs);
  const spread = ((means[means.length - 1] as number) - (means[0] as number)) / Math.max(chosen.meanUs, 1e-9);
  const flags = new Set(chosen.flags);
  if (measurements.length > 1 && spread > 0.25) flags.add('unstable-repeats');
  return { ...chosen, flags: [...flags].sort() };
}
