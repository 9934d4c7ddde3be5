/**
 * Builds (or completes) a latency lookup table: enumerates every distinct layer configuration of the search space
 * (core/arch's enumerateLayerVariants, deduped by signature), skips entries the store already has for this device
 * and runtime options, and measures the rest in batches, committing each entry as soon as it is measured — so a
 * kill -9 or an unplugged phone loses at most the entry in flight, and running the build again resumes.
 */
import type { NetworkSpec } from '../../core/arch/spec.ts';
import type { ResolvedLayer, SearchableLayer } from '../../core/arch/layers.ts';
import { enumerateLayerVariants } from '../../core/arch/resolve.ts';
import { sha256Hex } from '../../core/hash.ts';
import { UserError } from '../../core/errors.ts';
import type { Profiler } from '../profiler.ts';
import type { LatencyStore } from '../store/latency-store.ts';
import { invokeOverheadSignature } from '../../core/arch/signature.ts';
import type { Measurement, ModelToMeasure } from '../profiler.ts';
import { invokeOverheadModel, layerModel } from './layer-models.ts';
import { modelDtypeOf } from '../store/runtime-options.ts';

export interface LutBuildProgress {
  type: 'lut-progress';
  /** Entries of the table present now (already there + measured so far). */
  done: number;
  total: number;
  measuredThisRun: number;
  failedThisRun: number;
  etaSec: number | null;
  lastSignature?: string;
}

export interface LutBuildOptions {
  spec: NetworkSpec;
  profiler: Profiler;
  store: LatencyStore;
  /** Restrict the width levels / kernels enumerated (default: all of the search space). */
  levels?: (layer: SearchableLayer) => number[];
  kernels?: (layer: SearchableLayer) => number[];
  /** Models per batch (one adb shell session on a phone). */
  batchSize?: number;
  onProgress?: (progress: LutBuildProgress) => void;
  signal?: AbortSignal;
}

export interface LutBuildResult {
  deviceId: string;
  runtimeOptions: string;
  total: number;
  alreadyPresent: number;
  measured: number;
  failed: { signature: string; message: string }[];
  cancelled: boolean;
}

/** Records the profiler's device in the store (entries reference it). */
export function registerDevice(store: LatencyStore, profiler: Profiler): void {
  store.upsertDevice(profiler.deviceId, profiler.fingerprint as Record<string, unknown>, profiler.label);
}

export async function buildLatencyTable(options: LutBuildOptions): Promise<LutBuildResult> {
  const { spec } = options;
  const variants = enumerateLayerVariants(spec, {
    ...(options.levels ? { levels: options.levels } : {}),
    ...(options.kernels ? { kernels: options.kernels } : {}),
  });
  return measureLayers({ ...options, layers: variants });
}

/** Measures whichever of `layers` (signature -> layer) the store lacks; shared by the builder and lazy profiling. */
export async function measureLayers(options: {
  profiler: Profiler;
  store: LatencyStore;
  layers: ReadonlyMap<string, ResolvedLayer>;
  batchSize?: number;
  onProgress?: (progress: LutBuildProgress) => void;
  signal?: AbortSignal;
  /**
   * Other models measured in the first batch, interleaved with the entries (validation measures whole
   * sub-networks this way, so that a slow phase of the machine hits the entries and the whole models alike).
   * Their keys must not be layer signatures; their results go to `alongside.onResult`, not to the table.
   */
  alongside?: { models: readonly ModelToMeasure[]; onResult: (key: string, measurement: Measurement) => void };
}): Promise<LutBuildResult> {
  const { profiler, store, layers } = options;
  registerDevice(store, profiler);
  // Every layer entry comes with the null-model entry of its input shape (see invokeOverheadSignature).
  // The table's runtime options say which models it holds: float32, or int8 (`dtype=int8`).
  const dtype = modelDtypeOf(profiler.runtimeOptions);
  const models = new Map<string, () => ModelToMeasure>();
  for (const [signature, layer] of layers) {
    models.set(signature, () => layerModel(layer, dtype));
    const overhead = invokeOverheadSignature(signature);
    if (!models.has(overhead)) models.set(overhead, () => invokeOverheadModel(signature, dtype));
  }
  const signatures = [...models.keys()];
  const missing = store.missingSignatures(profiler.deviceId, profiler.runtimeOptions, signatures);
  const total = signatures.length;
  const alreadyPresent = total - missing.length;
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const failed: LutBuildResult['failed'] = [];
  let measured = 0;
  const started = performance.now();
  const report = (lastSignature?: string) => {
    const handled = measured + failed.length;
    const elapsed = (performance.now() - started) / 1000;
    const remaining = missing.length - handled;
    options.onProgress?.({
      type: 'lut-progress',
      done: alreadyPresent + measured,
      total,
      measuredThisRun: measured,
      failedThisRun: failed.length,
      etaSec: handled > 0 ? (elapsed / handled) * remaining : null,
      ...(lastSignature ? { lastSignature } : {}),
    });
  };
  report();
  const alongside = options.alongside;
  const alongsideKeys = new Set(alongside?.models.map((m) => m.key));
  for (const key of alongsideKeys) {
    if (models.has(key)) throw new Error(`measureLayers: the extra model key ${key} is also a table entry`);
  }
  const batches = Math.max(alongside && alongside.models.length > 0 ? 1 : 0, Math.ceil(missing.length / batchSize));
  for (let b = 0; b < batches; b++) {
    if (options.signal?.aborted) break;
    const start = b * batchSize;
    const batch = missing.slice(start, start + batchSize).map((signature) => (models.get(signature) as () => ModelToMeasure)());
    const hashes = new Map(batch.map((m) => [m.key, sha256Hex(m.bytes)]));
    if (b === 0 && alongside) batch.push(...alongside.models);
    try {
      await profiler.measure(batch, {
        ...(options.signal ? { signal: options.signal } : {}),
        onResult: (signature, m) => {
          if (alongsideKeys.has(signature)) {
            alongside?.onResult(signature, m);
            return;
          }
          store.putEntry({
            deviceId: profiler.deviceId,
            signature,
            runtimeOptions: profiler.runtimeOptions,
            count: m.count,
            meanUs: m.meanUs,
            medianUs: m.medianUs,
            stdUs: m.stdUs,
            minUs: m.minUs,
            maxUs: m.maxUs,
            modelSha256: hashes.get(signature) ?? null,
            flags: m.flags,
          });
          measured++;
          report(signature);
        },
        onFailure: (signature, error) => {
          if (alongsideKeys.has(signature)) throw error;
          failed.push({ signature, message: error.message });
          report(signature);
        },
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UserError(
        `${profiler.label} failed while measuring entry ${alreadyPresent + measured + failed.length + 1}/${total}: ${reason}; ` +
          `${alreadyPresent + measured} entries are saved — run the same command again to resume`,
      );
    }
  }
  return {
    deviceId: profiler.deviceId,
    runtimeOptions: profiler.runtimeOptions,
    total,
    alreadyPresent,
    measured,
    failed,
    cancelled: options.signal?.aborted ?? false,
  };
}
