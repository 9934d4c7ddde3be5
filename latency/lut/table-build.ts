/**
 * Measures the entries one latency table lacks with one or more profilers of the same fingerprint and runtime
 * options (identical phones split the entries: each takes the next batch from a shared queue when it is free).
 * Every entry is accounted for: already present, measured now, failed (recorded in the store with the reason,
 * skipped by later builds unless `retryFailed`), skipped as failed before, or not run (cancelled, or every phone
 * that could measure it was lost). Each result is committed as it arrives.
 */
import { sha256Hex } from '../../core/hash.ts';
import { UserError } from '../../core/errors.ts';
import { ModelMeasurementError } from '../profiler.ts';
import type { Measurement, ModelToMeasure, Profiler } from '../profiler.ts';
import type { LatencyStore } from '../store/latency-store.ts';

export interface LutBuildProgress {
  type: 'lut-progress';
  /** Entries of the table present now (already there + measured so far). */
  done: number;
  total: number;
  measuredThisRun: number;
  failedThisRun: number;
  etaSec: number | null;
  lastSignature?: string;
  /** The phone this event is about (several phones build at once). */
  device?: string;
  /** A model that has been running for a while, and its time limit. */
  waiting?: { signature: string; elapsedSec: number; limitSec: number };
}

export interface LutBuildFailure {
  signature: string;
  reason: string;
  message: string;
}

export interface LutBuildResult {
  deviceId: string;
  runtimeOptions: string;
  /** total = alreadyPresent + measured + failed + skippedFailed + notRun. */
  total: number;
  alreadyPresent: number;
  measured: number;
  failed: LutBuildFailure[];
  /** Entries that failed in an earlier build and were not retried (see retryFailed). */
  skippedFailed: number;
  /** Entries that were not measured: cancelled, or no phone of this table was left to measure them. */
  notRun: number;
  cancelled: boolean;
  /** Labels of the profilers that measured this table. */
  devices: string[];
  /** Why a phone stopped (it was lost); the entries it had not measured went to the other phones or are not run. */
  interruptions: string[];
}

export interface Alongside {
  models: readonly ModelToMeasure[];
  onResult: (key: string, measurement: Measurement) => void;
}

export interface TableBuildOptions {
  /** Profilers of one device id and runtime options. */
  profilers: readonly Profiler[];
  store: LatencyStore;
  /** signature → the model to measure for it. */
  models: ReadonlyMap<string, () => ModelToMeasure>;
  batchSize: number;
  retryFailed: boolean;
  onProgress?: (progress: LutBuildProgress) => void;
  signal?: AbortSignal;
  /** Other models measured in the first batch (not table entries); see measureLayers. */
  alongside?: Alongside;
}

interface Batch {
  signatures: string[];
  alongside: boolean;
}

export async function buildTable(options: TableBuildOptions): Promise<LutBuildResult> {
  const { store, profilers } = options;
  const first = profilers[0];
  if (!first) throw new Error('buildTable: no profiler');
  const { deviceId, runtimeOptions } = first;
  const signatures = [...options.models.keys()];
  const missing = store.missingSignatures(deviceId, runtimeOptions, signatures);
  const failedBefore = options.retryFailed ? new Set<string>() : store.failedSignatures(deviceId, runtimeOptions, missing);
  const toMeasure = missing.filter((s) => !failedBefore.has(s));
  const alreadyPresent = signatures.length - missing.length;
  const queue: Batch[] = [];
  for (let start = 0; start < toMeasure.length; start += options.batchSize) queue.push({ signatures: toMeasure.slice(start, start + options.batchSize), alongside: false });
  if (options.alongside && options.alongside.models.length > 0) {
    if (queue[0]) queue[0].alongside = true;
    else queue.push({ signatures: [], alongside: true });
  }
  const measured = new Set<string>();
  const failed = new Map<string, LutBuildFailure>();
  const interruptions: string[] = [];
  const alongsideKeys = new Set(options.alongside?.models.map((m) => m.key));
  const started = performance.now();
  const report = (device: string | undefined, extra: Partial<LutBuildProgress> = {}): void => {
    const handled = measured.size + failed.size;
    const elapsed = (performance.now() - started) / 1000;
    options.onProgress?.({
      type: 'lut-progress',
      done: alreadyPresent + measured.size,
      total: signatures.length,
      measuredThisRun: measured.size,
      failedThisRun: failed.size,
      etaSec: handled > 0 ? (elapsed / handled) * (toMeasure.length - handled) : null,
      ...(device !== undefined ? { device } : {}),
      ...extra,
    });
  };
  const fail = (profiler: Profiler, signature: string, reason: string, message: string): void => {
    failed.set(signature, { signature, reason, message });
    store.recordFailure({ deviceId, runtimeOptions, signature, reason, message });
    report(profiler.label, { lastSignature: signature });
  };

  async function measureOne(profiler: Profiler, batch: Batch): Promise<void> {
    const models = batch.signatures.map((signature) => (options.models.get(signature) as () => ModelToMeasure)());
    const hashes = new Map(models.map((m) => [m.key, sha256Hex(m.bytes)]));
    if (batch.alongside && options.alongside) models.push(...options.alongside.models);
    await profiler.measure(models, {
      ...(options.signal ? { signal: options.signal } : {}),
      onResult: (signature, m) => {
        if (alongsideKeys.has(signature)) return options.alongside?.onResult(signature, m);
        store.putEntry({ deviceId, signature, runtimeOptions, ...statistics(m), modelSha256: hashes.get(signature) ?? null, flags: m.flags });
        measured.add(signature);
        failed.delete(signature);
        report(profiler.label, { lastSignature: signature });
      },
      onFailure: (signature, error) => {
        if (alongsideKeys.has(signature)) throw error;
        fail(profiler, signature, error instanceof ModelMeasurementError ? error.reason : 'error', error.message);
      },
      onWaiting: (signature, elapsedMs, limitMs) =>
        report(profiler.label, { waiting: { signature, elapsedSec: Math.round(elapsedMs / 1000), limitSec: Math.round(limitMs / 1000) } }),
      onBatchConditions: (conditions) => store.recordBatchConditions({ deviceId, runtimeOptions, ...conditions }),
    });
    if (options.signal?.aborted) return;
    // A profiler that returns without a word about an entry has not measured it: that is a failure, not a silence.
    for (const signature of batch.signatures) {
      if (!measured.has(signature) && !failed.has(signature)) fail(profiler, signature, 'not-reported', `${profiler.label} reported no result for this entry`);
    }
  }

  let alive = profilers.length;
  async function worker(profiler: Profiler): Promise<void> {
    for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
      if (options.signal?.aborted) {
        queue.unshift(batch);
        return;
      }
      try {
        await measureOne(profiler, batch);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        alive--;
        const left = batch.signatures.filter((s) => !measured.has(s) && !failed.has(s));
        const account = `${alreadyPresent + measured.size} entries are saved — run the same command again to resume`;
        interruptions.push(
          `${profiler.label} failed while measuring entry ${alreadyPresent + measured.size + failed.size + 1}/${signatures.length}: ${error.message}; ${account}`,
        );
        // A twin still working takes over what this phone had not measured.
        if (alive > 0 && left.length > 0) queue.unshift({ signatures: left, alongside: false });
        return;
      }
    }
  }
  await Promise.all(profilers.map((profiler) => worker(profiler)));
  const notRun = toMeasure.filter((s) => !measured.has(s) && !failed.has(s)).length;
  return {
    deviceId,
    runtimeOptions,
    total: signatures.length,
    alreadyPresent,
    measured: measured.size,
    failed: [...failed.values()],
    skippedFailed: failedBefore.size,
    notRun,
    cancelled: options.signal?.aborted ?? false,
    devices: profilers.map((p) => p.label),
    interruptions,
  };
}

function statistics(m: Measurement): { count: number; meanUs: number; medianUs: number; stdUs: number; minUs: number; maxUs: number } {
  return { count: m.count, meanUs: m.meanUs, medianUs: m.medianUs, stdUs: m.stdUs, minUs: m.minUs, maxUs: m.maxUs };
}
