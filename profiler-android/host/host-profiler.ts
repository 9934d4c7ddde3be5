/**
 * The host profiler: measures the same .tflite files the phone would run, with the TFLite runtime on this computer
 * (LiteRT wasm, XNNPACK, one thread). Users without a phone, and CI, exercise the whole latency-table path with it.
 */
import { cpus, hostname, platform, arch } from 'node:os';
import { loadTfliteRuntime } from '../../core/export/runtime/litert.ts';
import { stableId } from '../../core/hash.ts';
import { formatRuntimeOptions, medianOfRepeats, summarizeTimes, type Measurement, type MeasureCallbacks, type ModelToMeasure, type Profiler, type RuntimeOptions } from '../profiler.ts';

export interface HostProfilerOptions {
  warmupRuns?: number;
  numRuns?: number;
  /** Independent repeats of warmup + runs; the entry is the repeat with the median mean (outlier rejection). */
  repeats?: number;
}

export async function createHostProfiler(options: HostProfilerOptions = {}): Promise<Profiler> {
  const runtime = await loadTfliteRuntime();
  const runtimeOptions: RuntimeOptions = { threads: 1, warmupRuns: options.warmupRuns ?? 5, numRuns: options.numRuns ?? 30 };
  const repeats = Math.max(1, options.repeats ?? 3);
  const cpu = cpus()[0];
  const fingerprint = {
    kind: 'host',
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpuModel: cpu?.model ?? 'unknown',
    cpuCount: cpus().length,
    node: process.version,
    runtime: `litert-wasm:${runtime.info.wasmFile}`,
    threads: runtimeOptions.threads,
  };
  return {
    deviceId: `host-${stableId(fingerprint)}`,
    label: `host (${fingerprint.cpuModel.trim()}, ${fingerprint.hostname})`,
    fingerprint,
    runtimeOptions: formatRuntimeOptions(runtimeOptions),
    async measure(models: readonly ModelToMeasure[], callbacks: MeasureCallbacks): Promise<void> {
      for (const model of models) {
        if (callbacks.signal?.aborted) return;
        let loaded;
        try {
          loaded = await runtime.load(model.bytes);
          const measurements: Measurement[] = [];
          for (let r = 0; r < repeats; r++) {
            const result = await loaded.benchmark({ warmup: runtimeOptions.warmupRuns, runs: runtimeOptions.numRuns });
            measurements.push(summarizeTimes(result.timesUs));
          }
          callbacks.onResult(model.key, medianOfRepeats(measurements));
        } catch (error) {
          if (!callbacks.onFailure) throw error;
          callbacks.onFailure(model.key, error as Error);
        } finally {
          loaded?.close();
        }
      }
    },
  };
}
