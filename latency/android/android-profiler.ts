/**
 * The Android profiler: measures .tflite models on a phone over adb with TFLite's benchmark_model (see
 * benchmark/runner.ts). Each `measure()` call is one runner batch; a model's result is handed to the caller as soon
 * as its last repeat has run, so an unplugged phone loses at most the model in flight. The measured cores' clocks
 * and the phone's temperature are read before and after each batch: a throttled batch is measured again after a
 * cool-down (device/thermal.ts), and the conditions are reported for the record.
 */
import { BatchInterruptedError, BenchmarkRunner } from './benchmark/runner.ts';
import type { BatchResult, MeasureOptions } from './benchmark/runner.ts';
import type { Delegate } from './benchmark/delegates.ts';
import { DeviceBridge } from './device/bridge.ts';
import { hexMaskToCores } from './device/cpu-mask.ts';
import { DeviceDisconnectedError, DeviceFrozenError } from './device/errors.ts';
import { fingerprintId, readDeviceFingerprint } from './device/fingerprint.ts';
import { pinFrequency, type FrequencyPin } from './device/frequency-pin.ts';
import { probeDelegates } from './device/delegate-probe.ts';
import { UserError } from '../../core/errors.ts';
import { cooledDown, readConditions, throttlingReasons } from './device/thermal.ts';
import type { DeviceConditions, StabilityThresholds } from './device/thermal.ts';
import { formatRuntimeOptions } from '../profiler.ts';
import type { BatchConditionsReport, MeasureCallbacks, ModelToMeasure, Profiler, RuntimeOptions } from '../profiler.ts';
import { Delivery } from './delivery.ts';
import { withModelDtype, type ModelDtype } from '../store/runtime-options.ts';

export { ModelBenchmarkError } from './delivery.ts';

export interface StabilityOptions extends StabilityThresholds {
  /** Read clocks and temperatures around each batch and re-measure throttled ones (default true). */
  enabled?: boolean;
  /** Measurements of one batch at most, the first included (default 2). */
  maxAttempts?: number;
  /** How often the cool-down looks at the phone (default 5 s) and how long it waits at most (default 120 s). */
  cooldownPollMs?: number;
  maxCooldownMs?: number;
}

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
  /** Which kernels run the models (default 'xnnpack'). */
  delegate?: Delegate;
  /** Independent repeats per model, interleaved across the batch; the latency is their median (default 1). */
  repeats?: number;
  /** Device-side pause after each model run, in milliseconds (default 0). */
  cooldownMs?: number;
  /** Relative std above which a measurement is flagged (default 0.1, as the runner). */
  maxRelativeStd?: number;
  /** The models the table holds (default float32; benchmark_model runs int8 models as they are). */
  dtype?: ModelDtype;
  /** A fixed time limit per model run (ms), instead of one derived from the model's cost. */
  modelTimeoutMs?: number;
  /** Pin the measured cores to their highest frequency (true) or to this one (kHz); rooted phones only. */
  pinFrequency?: boolean | number;
  stability?: StabilityOptions;
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
  const maskOption = options.cpuMask !== undefined ? { cpuMask: options.cpuMask } : {};
  let fingerprint = await readDeviceFingerprint(bridge, serial, { threads, ...maskOption });
  const cores = hexMaskToCores(fingerprint.cpuMask);
  let pin: FrequencyPin | undefined;
  if (options.pinFrequency !== undefined && options.pinFrequency !== false) {
    pin = await pinFrequency(bridge, serial, cores, options.pinFrequency === true ? undefined : options.pinFrequency);
    fingerprint = await readDeviceFingerprint(bridge, serial, { threads, ...maskOption, pinnedFreqKHz: pin.khz });
  }
  const delegate = options.delegate ?? 'xnnpack';
  if (delegate === 'gpu' || delegate === 'nnapi') {
    // An accelerator the phone lacks would fail every entry: say so once, before the build starts.
    const [support] = await probeDelegates(bridge, serial, [delegate], runner);
    if (!support?.works) {
      throw new UserError(`the ${delegate} delegate does not work on ${serial}: ${support?.reason ?? 'no result'}`, [
        'see which delegates work with `netadapt device info --serial ' + serial + '`; xnnpack and cpu work on every phone',
      ]);
    }
  }
  const runtime: RuntimeOptions = { threads, warmupRuns: options.warmupRuns ?? 5, numRuns: options.numRuns ?? 30, cpuMask: fingerprint.cpuMask, delegate };
  const repeats = options.repeats ?? 1;
  const maxRelativeStd = options.maxRelativeStd ?? DEFAULT_MAX_RELATIVE_STD;
  const stability = options.stability ?? {};
  const measureOptions: MeasureOptions = {
    threads,
    cpuMask: fingerprint.cpuMask,
    delegate,
    warmupRuns: runtime.warmupRuns,
    numRuns: runtime.numRuns,
    repeats,
    cooldownMs: options.cooldownMs ?? 0,
    maxRelativeStd,
    ...(options.modelTimeoutMs !== undefined ? { modelTimeoutMs: options.modelTimeoutMs } : {}),
  };

  /** One batch: results delivered as they come; a lost device is rethrown after delivering what finished. */
  async function runBatch(models: readonly ModelToMeasure[], delivery: Delivery, callbacks: MeasureCallbacks): Promise<BatchResult> {
    try {
      const batch = await runner.measureBatch(serial, models, {
        ...measureOptions,
        onProgress: (event) => delivery.progress(event),
        onWaiting: (event) => {
          for (const key of event.keys) callbacks.onWaiting?.(key, event.elapsedMs, event.limitMs);
        },
      });
      delivery.finish(batch);
      return batch;
    } catch (error) {
      if (!(error instanceof BatchInterruptedError)) throw error;
      delivery.finish(error.partial);
      const kept = `the ${error.partial.results.length} model(s) that finished before were kept`;
      if (error.frozen) {
        throw new DeviceFrozenError(`${error.message}; ${kept}`, error.partialOutput, [
          'wake, unplug and re-plug or reboot the phone (check `adb devices`), then run the same command again: measured models are not measured again',
        ]);
      }
      throw new DeviceDisconnectedError(`${error.message}; ${kept}`, error.partialOutput, [
        'reconnect the phone (check `adb devices`) and run again: measured models are not measured again',
      ]);
    }
  }

  async function coolDown(baseline: DeviceConditions, signal: AbortSignal | undefined): Promise<number> {
    const started = Date.now();
    const pollMs = stability.cooldownPollMs ?? 5_000;
    const maxMs = stability.maxCooldownMs ?? 120_000;
    while (Date.now() - started < maxMs && !signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      if (cooledDown(baseline, await readConditions(bridge, serial, cores), stability)) break;
    }
    return Date.now() - started;
  }

  return {
    deviceId: fingerprintId(fingerprint),
    label: `${fingerprint.model || fingerprint.device || 'Android device'} (${serial})`,
    fingerprint: { ...fingerprint },
    runtimeOptions: withModelDtype(formatRuntimeOptions(runtime), options.dtype ?? 'float32'),
    serial,
    async measure(models: readonly ModelToMeasure[], callbacks: MeasureCallbacks): Promise<void> {
      if (models.length === 0 || callbacks.signal?.aborted) return;
      const watch = stability.enabled !== false;
      const maxAttempts = Math.max(1, stability.maxAttempts ?? 2);
      let pending = models;
      for (let attempt = 1; ; attempt++) {
        const before = watch ? await readConditions(bridge, serial, cores) : undefined;
        const delivery = new Delivery(callbacks, repeats, maxRelativeStd, attempt > 1 ? ['remeasured-after-throttling'] : []);
        const batch = await runBatch(pending, delivery, callbacks);
        if (!before) return;
        const after = await readConditions(bridge, serial, cores);
        const reasons = throttlingReasons(before, after, stability);
        const measured = new Set(batch.results.map((r) => r.key));
        const report = (verdict: BatchConditionsReport['verdict'], cooldownMs = 0): void =>
          callbacks.onBatchConditions?.({ serial, models: pending.length, attempt, verdict, reasons, before: { ...before }, after: { ...after }, cooldownMs });
        if (reasons.length === 0 || measured.size === 0) {
          report('stable');
          return;
        }
        // Flag the throttled values at once: a kill during the cool-down must not leave them unmarked.
        delivery.reflag([...measured], 'throttled');
        if (attempt >= maxAttempts || callbacks.signal?.aborted) {
          report('throttled-kept');
          return;
        }
        report('throttled-remeasured', await coolDown(before, callbacks.signal));
        pending = pending.filter((model) => measured.has(model.key));
      }
    },
    async close(): Promise<void> {
      await pin?.restore();
    },
  };
}
