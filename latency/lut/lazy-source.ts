/**
 * Lazy profiling: a LatencySource (core/metrics) backed by the workspace's LatencyStore and a Profiler. The search
 * asks it once per iteration for all sub-networks of the iteration; it measures only the entries the table lacks,
 * in one batch, commits them, then answers from memory.
 */
import type { ResolvedLayer } from '../../core/arch/layers.ts';
import { enumerateLayerVariants } from '../../core/arch/resolve.ts';
import { invokeOverheadSignature } from '../../core/arch/signature.ts';
import type { NetworkSpec } from '../../core/arch/spec.ts';
import { UserError } from '../../core/errors.ts';
import type { LatencySource } from '../../core/metrics/types.ts';
import type { Profiler } from '../profiler.ts';
import type { LatencyStore } from '../store/latency-store.ts';
import { MissingLatencyEntryError } from '../store/lut-memory.ts';
import { measureLayers, registerDevice, type LutBuildProgress } from './build.ts';

export interface StoreLatencySourceOptions {
  spec: NetworkSpec;
  store: LatencyStore;
  deviceId: string;
  runtimeOptions: string;
  /** Without a profiler the source is read-only: missing entries are an error naming them. */
  profiler?: Profiler;
  onProgress?: (progress: LutBuildProgress) => void;
}

export class StoreLatencySource implements LatencySource {
  readonly description: string;
  private readonly latencies = new Map<string, number>();
  private variants: Map<string, ResolvedLayer> | undefined;

  constructor(private readonly options: StoreLatencySourceOptions) {
    const { store, deviceId, runtimeOptions, profiler } = options;
    if (profiler) {
      if (profiler.deviceId !== deviceId || profiler.runtimeOptions !== runtimeOptions) {
        throw new UserError(
          `the latency table belongs to device ${deviceId} (${runtimeOptions}) but the profiler measures ${profiler.deviceId} (${profiler.runtimeOptions}); ` +
            'entries of one device are never mixed with another',
        );
      }
      registerDevice(store, profiler);
    }
    const device = store.getDevice(deviceId);
    this.description = `${device?.label ?? deviceId} [${runtimeOptions}]`;
    for (const entry of store.tableEntries(deviceId, runtimeOptions)) this.latencies.set(entry.signature, entry.meanUs);
  }

  get size(): number {
    return this.latencies.size;
  }

  /**
   * Sum of the layers' own latencies: each entry minus the invocation overhead of a model with the layer's input
   * shape (its null-model entry), clamped at 0. The per-model overhead is added by the metric, once.
   */
  estimate(signatures: readonly string[]): number {
    let sum = 0;
    let missing: string[] | undefined;
    for (const signature of signatures) {
      const value = this.latencies.get(signature);
      const overhead = this.latencies.get(invokeOverheadSignature(signature));
      if (value === undefined || overhead === undefined) (missing ??= []).push(signature);
      else sum += Math.max(0, value - overhead);
    }
    if (missing) throw new MissingLatencyEntryError([...new Set(missing)], { deviceId: this.options.deviceId, runtimeOptions: this.options.runtimeOptions });
    return sum;
  }

  missing(signatures: readonly string[]): string[] {
    return [...new Set(signatures.filter((s) => !this.latencies.has(s) || !this.latencies.has(invokeOverheadSignature(s))))];
  }

  /**
   * Measures the missing entries in one batch. `alongside`: other models measured in that same batch (see
   * measureLayers); they are measured even when no entry is missing.
   */
  async profileMissing(signatures: readonly string[], alongside?: Parameters<typeof measureLayers>[0]['alongside']): Promise<void> {
    const missing = this.missing(signatures);
    if (missing.length === 0 && !alongside) return;
    const { profiler, store } = this.options;
    if (!profiler) throw new MissingLatencyEntryError(missing, { deviceId: this.options.deviceId, runtimeOptions: this.options.runtimeOptions });
    this.variants ??= enumerateLayerVariants(this.options.spec);
    const layers = new Map<string, ResolvedLayer>();
    for (const signature of missing) {
      const layer = this.variants.get(signature);
      if (!layer) throw new UserError(`signature ${signature} does not belong to network "${this.options.spec.name}"`);
      layers.set(signature, layer);
    }
    const result = await measureLayers({
      profiler,
      store,
      layers,
      // One batch: on a phone, all missing entries of a search iteration run in one adb shell session.
      batchSize: Number.MAX_SAFE_INTEGER,
      // The search needs these entries: ones that failed in an earlier build are tried again.
      retryFailed: true,
      ...(alongside ? { alongside } : {}),
      ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}),
    });
    const stored = [...missing, ...missing.map(invokeOverheadSignature)];
    for (const entry of store.getEntries(profiler.deviceId, profiler.runtimeOptions, stored).values()) {
      this.latencies.set(entry.signature, entry.meanUs);
    }
    if (result.failed.length > 0) {
      throw new UserError(
        `${result.failed.length} latency entries could not be measured on ${profiler.label}`,
        result.failed.slice(0, 10).map((f) => `${f.signature}: ${f.message}`),
      );
    }
  }

  overheadUs(): number {
    return this.options.store.overheadUs(this.options.deviceId, this.options.runtimeOptions);
  }
}
