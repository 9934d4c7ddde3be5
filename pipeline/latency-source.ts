/**
 * The latency side of a search: a device's per-layer latency table (profiling missing entries lazily when asked), or
 * whole-model latency measured on the device. `latency.device` is "host", an adb serial (a profiler is opened: its
 * fingerprint names the table), or the fingerprint id of a table already in the workspace (read-only).
 */
import type { NetworkSpec } from '../core/arch/index.ts';
import { resolveNetwork } from '../core/arch/resolve.ts';
import { UserError } from '../core/errors.ts';
import { exportNetwork, NOMINAL_RANGES } from '../core/export/network.ts';
import { randomFoldedWeights } from '../core/export/random-weights.ts';
import type { LatencySource, ModelMeasurer } from '../core/metrics/types.ts';
import { defaultWorkspacePath, openWorkspace } from '../core/store/workspace.ts';
import { StoreLatencySource } from '../latency/lut/lazy-source.ts';
import { openProfiler } from '../latency/open-profiler.ts';
import type { Profiler } from '../latency/profiler.ts';
import { LatencyStore } from '../latency/store/latency-store.ts';
import { modelDtypeOf, type ModelDtype } from '../latency/store/runtime-options.ts';
import type { SearchConfig } from './config.ts';

/** One device's latency source: which device, which of its tables, whether missing entries are measured there. */
export interface DeviceLatency {
  device: string;
  runtimeOptions?: string;
  lazyProfiling?: boolean;
  /** float32 (default) or int8 models: an int8 table is a table of its own. */
  dtype?: ModelDtype;
}

/** The devices a configuration's latency metric reads: "latency.device", or every entry of "deviceTargets". */
export function configuredDevices(config: Pick<SearchConfig, 'latency' | 'deviceTargets'>): DeviceLatency[] {
  const lazy = config.latency?.lazyProfiling ? { lazyProfiling: true } : {};
  if (config.deviceTargets) {
    return config.deviceTargets.map((t) => ({
      device: t.device,
      ...(t.runtimeOptions !== undefined ? { runtimeOptions: t.runtimeOptions } : {}),
      ...(t.dtype !== undefined ? { dtype: t.dtype } : {}),
      ...lazy,
    }));
  }
  const device = config.latency?.device;
  if (device === undefined) throw new UserError('a latency metric needs "latency": {"device": "host" | "<adb serial>" | "<device id>"}');
  const runtimeOptions = config.latency?.runtimeOptions;
  const dtype = config.latency?.dtype;
  return [{ device, ...(runtimeOptions !== undefined ? { runtimeOptions } : {}), ...(dtype !== undefined ? { dtype } : {}), ...lazy }];
}

export interface OpenedLatencySource {
  source: LatencySource;
  /** The device, for messages and reports ("host", a phone's label and id). */
  label: string;
  /** Closes the profiler and the workspace opened for it. */
  close(): Promise<void>;
}

export async function openLatencySource(spec: NetworkSpec, latency: DeviceLatency, workspacePath?: string): Promise<OpenedLatencySource> {
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
      const tables = store.listTables(known.id).filter((t) => latency.dtype === undefined || modelDtypeOf(t.runtimeOptions) === latency.dtype);
      const runtimeOptions = latency.runtimeOptions ?? tables[0]?.runtimeOptions;
      if (runtimeOptions === undefined) throw new UserError(`device ${known.id} (${known.label}) has no ${latency.dtype ?? ''}${latency.dtype ? ' ' : ''}latency table in this workspace`);
      return { source: new StoreLatencySource({ spec, store, deviceId: known.id, runtimeOptions }), label: `${known.label} (${known.id})`, close };
    }
    profiler = await openProfiler({ device: latency.device, ...(latency.dtype ? { dtype: latency.dtype } : {}) });
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
    return { source, label: profiler.label, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface OpenedModelMeasurer {
  measure: ModelMeasurer;
  label: string;
  close(): Promise<void>;
}

/** Whole-model latency on `latency.device`: each sub-network exported (random weights) and timed there. */
export async function openModelMeasurer(spec: NetworkSpec, latency: DeviceLatency): Promise<OpenedModelMeasurer> {
  const profiler = await openProfiler({ device: latency.device, ...(latency.dtype ? { dtype: latency.dtype } : {}) });
  const quantization = latency.dtype === 'int8' ? { quantization: { ranges: NOMINAL_RANGES } } : {};
  const measure: ModelMeasurer = async (subnet) => {
    const network = resolveNetwork(spec, subnet);
    const bytes = exportNetwork(network, randomFoldedWeights(network, 1), quantization);
    let result: number | undefined;
    await profiler.measure([{ key: 'model', bytes }], { onResult: (_key, m) => (result = m.meanUs) });
    if (result === undefined) throw new UserError(`${profiler.label} returned no measurement for the sub-network`);
    return result / 1000;
  };
  return { measure, label: profiler.label, close: async () => profiler.close?.() };
}
