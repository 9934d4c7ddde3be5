/**
 * The latency side of a search: a device's per-layer latency table (profiling missing entries lazily when asked), or
 * whole-model latency measured on the device. `latency.device` is "host", an adb serial (a profiler is opened: its
 * fingerprint names the table), or the fingerprint id of a table already in the workspace (read-only).
 */
import type { NetworkSpec } from '../core/arch/index.ts';
import { resolveNetwork } from '../core/arch/resolve.ts';
import { UserError } from '../core/errors.ts';
import { exportNetwork } from '../core/export/network.ts';
import { randomFoldedWeights } from '../core/export/random-weights.ts';
import type { LatencySource, ModelMeasurer } from '../core/metrics/types.ts';
import { defaultWorkspacePath, openWorkspace } from '../core/store/workspace.ts';
import { StoreLatencySource } from '../latency/lut/lazy-source.ts';
import { openProfiler } from '../latency/open-profiler.ts';
import type { Profiler } from '../latency/profiler.ts';
import { LatencyStore } from '../latency/store/latency-store.ts';
import type { SearchConfig } from './config.ts';

export type LatencySettings = NonNullable<SearchConfig['latency']>;

export interface OpenedLatencySource {
  source: LatencySource;
  /** Closes the profiler and the workspace opened for it. */
  close(): Promise<void>;
}

export async function openLatencySource(spec: NetworkSpec, latency: LatencySettings | undefined, workspacePath?: string): Promise<OpenedLatencySource> {
  if (!latency) throw new UserError('a latency metric needs "latency": {"device": "host" | "<adb serial>" | "<device id>"}');
  const workspace = openWorkspace(workspacePath ?? defaultWorkspacePath());
  const store = new LatencyStore(workspace);
  let profiler: Profiler | undefined;
  const close = async () => {
    await profiler?.close?.();
    workspace.close();
  };
  try {
    const known = store.getDevice(latency.device);
    if (known) {
      const tables = store.listTables(known.id);
      const runtimeOptions = latency.runtimeOptions ?? tables[0]?.runtimeOptions;
      if (runtimeOptions === undefined) throw new UserError(`device ${known.id} (${known.label}) has no latency table in this workspace`);
      return { source: new StoreLatencySource({ spec, store, deviceId: known.id, runtimeOptions }), close };
    }
    profiler = await openProfiler({ device: latency.device });
    const source = new StoreLatencySource({
      spec,
      store,
      deviceId: profiler.deviceId,
      runtimeOptions: profiler.runtimeOptions,
      ...(latency.lazyProfiling ? { profiler } : {}),
    });
    if (!latency.lazyProfiling && source.size === 0) {
      const others = store.listTables().filter((t) => t.deviceId !== profiler?.deviceId);
      throw new UserError(
        `${profiler.label} (device id ${profiler.deviceId}) has no latency table in this workspace and "lazyProfiling" is off`,
        [
          ...others.map((t) => `a table exists for another device: ${t.deviceId} [${t.runtimeOptions}] — tables are never reused across devices`),
          'build one with `netadapt lut build`, or set "latency": {"lazyProfiling": true}',
        ],
      );
    }
    return { source, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface OpenedModelMeasurer {
  measure: ModelMeasurer;
  close(): Promise<void>;
}

/** Whole-model latency on `latency.device`: each sub-network exported (random weights) and timed there. */
export async function openModelMeasurer(spec: NetworkSpec, latency: LatencySettings | undefined): Promise<OpenedModelMeasurer> {
  if (!latency) throw new UserError('"latency-measured" needs "latency": {"device": "host" | "<adb serial>"}');
  const profiler = await openProfiler({ device: latency.device });
  const measure: ModelMeasurer = async (subnet) => {
    const network = resolveNetwork(spec, subnet);
    const bytes = exportNetwork(network, randomFoldedWeights(network, 1));
    let result: number | undefined;
    await profiler.measure([{ key: 'model', bytes }], { onResult: (_key, m) => (result = m.meanUs) });
    if (result === undefined) throw new UserError(`${profiler.label} returned no measurement for the sub-network`);
    return result / 1000;
  };
  return { measure, close: async () => profiler.close?.() };
}
