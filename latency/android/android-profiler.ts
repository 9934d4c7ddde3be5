/**
 * The Android profiler: measures .tflite models on a phone over adb with TFLite's benchmark_model (see
 * benchmark/runner.ts). Each `measure()` call is one runner batch; a model's result is handed to the caller as soon
 * as its last repeat has run, so an unplugged phone loses at most the model in flight.
 */
import { UserError } from '../../core/errors.ts';
import { BatchInterruptedError, BenchmarkRunner } from './benchmark/runner.ts';
import type { BatchResult, ModelFailure, ProgressEvent } from './benchmark/runner.ts';
import type { BenchmarkMeasurement } from './benchmark/parse.ts';
import { DeviceBridge } from './device/bridge.ts';
import { DeviceDisconnectedError } from './device/errors.ts';
import { fingerprintId, readDeviceFingerprint } from './device/fingerprint.ts';
import { formatRuntimeOptions } from '../profiler.ts';
import type { MeasureCallbacks, ModelToMeasure, Profiler, RuntimeOptions } from '../profiler.ts';
import { measurementFromRepeats } from './measurement.ts';
import { withModelDtype, type ModelDtype } from '../store/runtime-options.ts';

export interface AndroidProfilerOptions {
  serial: string;
  adbHost?: string;
  adbPort?: number;
  /** Timed runs per model and repeat (default 30). */
  numRuns?: number;
  /** Warm-up runs per model and repeat (default 5). */
  warmupRuns?: number;
  /** benchmark_model --num_threads (default 1). */
  threads?: number;
  /** Hex taskset mask (default: the fastest cluster, see device/cpu-mask.ts defaultCpuMask). */
  cpuMask?: string;
  /** Independent repeats per model, interleaved across the batch; the latency is their median (default 1). */
  repeats?: number;
  /** Device-side pause after each model run, in milliseconds (default 0). */
  cooldownMs?: number;
  /** Relative std above which a measurement is flagged (default 0.1, as the runner). */
  maxRelativeStd?: number;
  /** The models the table holds (default float32; benchmark_model runs int8 models as they are). */
  dtype?: ModelDtype;
}

/** A model the device ran but could not measure (bad output, non-zero exit status). */
export class ModelBenchmarkError extends UserError {
  constructor(
    readonly failure: ModelFailure,
  ) {
    super(failure.message, failure.output ? failure.output.split('\n') : []);
  }
}

const DEFAULT_MAX_RELATIVE_STD = 0.1;

export async function createAndroidProfiler(options: AndroidProfilerOptions): Promise<Profiler> {
  const { serial } = options;
  const bridge = new DeviceBridge({
    ...(options.adbHost !== undefined ? { host: options.adbHost } : {}),
    ...(options.adbPort !== undefined ? { port: options.adbPort } : {}),
  });
  const runner = new BenchmarkRunner(bridge);
  // The tool's hash is part of the fingerprint: without the tool there is no meaningful device id.
  await runner.requireTool(serial);
  const threads = options.threads ?? 1;
  const fingerprint = await readDeviceFingerprint(bridge, serial, {
    threads,
    ...(options.cpuMask !== undefined ? { cpuMask: options.cpuMask } : {}),
  });
  const runtime: RuntimeOptions = {
    threads,
    warmupRuns: options.warmupRuns ?? 5,
    numRuns: options.numRuns ?? 30,
    cpuMask: fingerprint.cpuMask,
  };
  const repeats = options.repeats ?? 1;
  const maxRelativeStd = options.maxRelativeStd ?? DEFAULT_MAX_RELATIVE_STD;
  const label = `${fingerprint.model || fingerprint.device || 'Android device'} (${serial})`;

  return {
    deviceId: fingerprintId(fingerprint),
    label,
    fingerprint: { ...fingerprint },
    runtimeOptions: withModelDtype(formatRuntimeOptions(runtime), options.dtype ?? 'float32'),
    async measure(models: readonly ModelToMeasure[], callbacks: MeasureCallbacks): Promise<void> {
      if (models.length === 0 || callbacks.signal?.aborted) return;
      const delivery = new Delivery(callbacks, repeats, maxRelativeStd);
      let batch: BatchResult;
      try {
        batch = await runner.measureBatch(serial, models, {
          threads: runtime.threads,
          cpuMask: fingerprint.cpuMask,
          warmupRuns: runtime.warmupRuns,
          numRuns: runtime.numRuns,
          repeats,
          cooldownMs: options.cooldownMs ?? 0,
          maxRelativeStd,
          onProgress: (event) => delivery.progress(event),
        });
      } catch (error) {
        if (!(error instanceof BatchInterruptedError)) throw error;
        delivery.finish(error.partial, { interrupted: true });
        throw new DeviceDisconnectedError(
          `${error.message}; the ${error.partial.results.length} model(s) that finished before were kept`,
          error.partialOutput,
          ['reconnect the phone (check `adb devices`) and run again: measured models are not measured again'],
        );
      }
      delivery.finish(batch, { interrupted: false });
    },
  };
}

/** Hands each model's result to the caller once all its repeats have run; the rest at the end of the batch. */
class Delivery {
  private readonly repeatsSeen = new Map<string, number>();
  private readonly measured = new Map<string, BenchmarkMeasurement[]>();
  private readonly failed = new Map<string, ModelFailure[]>();
  private readonly delivered = new Set<string>();
  /** An exception thrown by the caller's callback (e.g. the store could not write); rethrown after the batch. */
  private callbackError: unknown;

  constructor(
    private readonly callbacks: MeasureCallbacks,
    private readonly repeats: number,
    private readonly maxRelativeStd: number,
  ) {}

  progress(event: ProgressEvent): void {
    const { key } = event;
    if (event.measurement) this.measured.set(key, [...(this.measured.get(key) ?? []), event.measurement]);
    if (event.failure) this.failed.set(key, [...(this.failed.get(key) ?? []), event.failure]);
    const seen = (this.repeatsSeen.get(key) ?? 0) + 1;
    this.repeatsSeen.set(key, seen);
    if (seen < this.repeats) return;
    const measured = this.measured.get(key) ?? [];
    const failures = this.failed.get(key) ?? [];
    if (measured.length > 0) this.deliverResult(key, measured, failures.length);
    else if (failures[0]) this.deliverFailure(failures[0]);
  }

  /** Delivers what progress did not (an interrupted batch's partial results); failures only when not interrupted. */
  finish(batch: BatchResult, { interrupted }: { interrupted: boolean }): void {
    for (const result of batch.results) this.deliverResult(result.key, result.measurements, result.failedRepeats);
    if (!interrupted) for (const failure of batch.failures) this.deliverFailure(failure);
    if (this.callbackError !== undefined) throw this.callbackError;
  }

  private deliverResult(key: string, measured: readonly BenchmarkMeasurement[], failedRepeats: number): void {
    if (this.delivered.has(key) || this.callbackError !== undefined) return;
    this.delivered.add(key);
    const measurement = measurementFromRepeats(measured, { repeats: this.repeats, failedRepeats, maxRelativeStd: this.maxRelativeStd });
    this.call(() => this.callbacks.onResult(key, measurement));
  }

  private deliverFailure(failure: ModelFailure): void {
    if (this.delivered.has(failure.key) || this.callbackError !== undefined) return;
    this.delivered.add(failure.key);
    const error = new ModelBenchmarkError(failure);
    const onFailure = this.callbacks.onFailure;
    // Without an onFailure callback a failed model fails the whole call, as the host profiler does.
    this.call(() => {
      if (!onFailure) throw error;
      onFailure(failure.key, error);
    });
  }

  private call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.callbackError = error;
    }
  }
}
