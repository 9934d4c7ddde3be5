/**
 * Builds (or completes) latency lookup tables: enumerates every distinct layer configuration of the search space
 * (core/arch's enumerateLayerVariants, deduped by signature), skips entries the store already has for the device
 * and runtime options, and measures the rest in batches, committing each entry as soon as it is measured — so a
 * kill -9 or an unplugged phone loses at most the entry in flight, and running the build again resumes.
 *
 * With several profilers (`lut build --device A,B`), every distinct fingerprint gets its own table and all are
 * built at once; profilers with the same fingerprint split that table's entries (table-build.ts).
 */
import type { NetworkSpec } from '../../core/arch/spec.ts';
import type { ResolvedLayer, SearchableLayer } from '../../core/arch/layers.ts';
import { enumerateLayerVariants } from '../../core/arch/resolve.ts';
import { invokeOverheadSignature } from '../../core/arch/signature.ts';
import { UserError } from '../../core/errors.ts';
import type { ModelToMeasure, Profiler } from '../profiler.ts';
import type { LatencyStore } from '../store/latency-store.ts';
import { invokeOverheadModel, layerModel } from './layer-models.ts';
import { modelDtypeOf, type ModelDtype } from '../store/runtime-options.ts';
import { buildTable } from './table-build.ts';
import type { Alongside, LutBuildProgress, LutBuildResult } from './table-build.ts';

export type { LutBuildFailure, LutBuildProgress, LutBuildResult } from './table-build.ts';

export interface LutBuildOptions {
  spec: NetworkSpec;
  profiler: Profiler;
  store: LatencyStore;
  /** Restrict the width levels / kernels enumerated (default: all of the search space). */
  levels?: (layer: SearchableLayer) => number[];
  kernels?: (layer: SearchableLayer) => number[];
  /** Models per batch (one adb shell session on a phone). */
  batchSize?: number;
  /** Measure again the entries that failed in earlier builds (default: skip them). */
  retryFailed?: boolean;
  onProgress?: (progress: LutBuildProgress) => void;
  signal?: AbortSignal;
}

export interface MultiDeviceBuildOptions extends Omit<LutBuildOptions, 'profiler'> {
  profilers: readonly Profiler[];
}

/** Records the profiler's device in the store (entries reference it). */
export function registerDevice(store: LatencyStore, profiler: Profiler): void {
  store.upsertDevice(profiler.deviceId, profiler.fingerprint as Record<string, unknown>, profiler.label);
}

function variantsOf(options: Pick<LutBuildOptions, 'spec' | 'levels' | 'kernels'>): Map<string, ResolvedLayer> {
  return enumerateLayerVariants(options.spec, {
    ...(options.levels ? { levels: options.levels } : {}),
    ...(options.kernels ? { kernels: options.kernels } : {}),
  });
}

export async function buildLatencyTable(options: LutBuildOptions): Promise<LutBuildResult> {
  return measureLayers({ ...options, layers: variantsOf(options) });
}

/**
 * Builds one table per distinct (fingerprint, runtime options) among the profilers, all at once. A lost phone
 * does not stop the others: its table's result says so in `interruptions`.
 */
export async function buildLatencyTables(options: MultiDeviceBuildOptions): Promise<LutBuildResult[]> {
  const variants = variantsOf(options);
  const groups = new Map<string, Profiler[]>();
  for (const profiler of options.profilers) {
    const key = `${profiler.deviceId}\n${profiler.runtimeOptions}`;
    groups.set(key, [...(groups.get(key) ?? []), profiler]);
  }
  return Promise.all(
    [...groups.values()].map((profilers) => {
      const first = profilers[0] as Profiler;
      registerDevice(options.store, first);
      return buildTable({
        profilers,
        store: options.store,
        models: entryModels(variants, modelDtypeOf(first.runtimeOptions)),
        batchSize: Math.max(1, options.batchSize ?? 32),
        retryFailed: options.retryFailed ?? false,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }),
  );
}

/**
 * Measures whichever of `layers` (signature -> layer) the store lacks on one profiler; shared by the builder and
 * lazy profiling. Throws a resumable UserError when the device is lost.
 */
export async function measureLayers(options: {
  profiler: Profiler;
  store: LatencyStore;
  layers: ReadonlyMap<string, ResolvedLayer>;
  batchSize?: number;
  retryFailed?: boolean;
  onProgress?: (progress: LutBuildProgress) => void;
  signal?: AbortSignal;
  /**
   * Other models measured in the first batch, interleaved with the entries (validation measures whole
   * sub-networks this way, so that a slow phase of the machine hits the entries and the whole models alike).
   * Their keys must not be layer signatures; their results go to `alongside.onResult`, not to the table.
   */
  alongside?: Alongside;
}): Promise<LutBuildResult> {
  const { profiler, store } = options;
  registerDevice(store, profiler);
  const models = entryModels(options.layers, modelDtypeOf(profiler.runtimeOptions));
  for (const model of options.alongside?.models ?? []) {
    if (models.has(model.key)) throw new Error(`measureLayers: the extra model key ${model.key} is also a table entry`);
  }
  const result = await buildTable({
    profilers: [profiler],
    store,
    models,
    batchSize: Math.max(1, options.batchSize ?? 32),
    retryFailed: options.retryFailed ?? false,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.alongside ? { alongside: options.alongside } : {}),
  });
  const [interruption] = result.interruptions;
  if (interruption !== undefined) {
    throw new UserError(`${interruption} (this run: ${result.measured} measured, ${result.failed.length} failed, ${result.notRun} not run)`);
  }
  return result;
}

/**
 * Every layer entry comes with the null-model entry of its input shape (see invokeOverheadSignature). The table's
 * runtime options say which models it holds: float32, or int8 (`dtype=int8`).
 */
function entryModels(layers: ReadonlyMap<string, ResolvedLayer>, dtype: ModelDtype): Map<string, () => ModelToMeasure> {
  const models = new Map<string, () => ModelToMeasure>();
  for (const [signature, layer] of layers) {
    models.set(signature, () => layerModel(layer, dtype));
    const overhead = invokeOverheadSignature(signature);
    if (!models.has(overhead)) models.set(overhead, () => invokeOverheadModel(signature, dtype));
  }
  return models;
}
