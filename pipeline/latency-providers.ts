/**
 * Plugs the profiler into the search (core/search/context.ts): latency tables with lazy profiling, and whole-model
 * latency measured on the device. Called once at startup by the CLI and the app engine.
 */
import { resolveNetwork } from '../core/arch/resolve.ts';
import { UserError } from '../core/errors.ts';
import { exportNetwork } from '../core/export/network.ts';
import { randomFoldedWeights } from '../core/export/random-weights.ts';
import type { LatencySource, ModelMeasurer } from '../core/metrics/types.ts';
import { registerSearchProviders, type ProviderInput } from '../core/search/context.ts';
import { defaultWorkspacePath, openWorkspace } from '../core/store/workspace.ts';
import { StoreLatencySource } from '../latency/lut/lazy-source.ts';
import { openProfiler } from '../latency/open-profiler.ts';
import type { Profiler } from '../latency/profiler.ts';
import { LatencyStore } from '../latency/store/latency-store.ts';

/**
 * `latency.device` is "host", an adb serial (a profiler is opened: its fingerprint names the table), or the
 * fingerprint id of a table already in the workspace (read-only: nothing can be measured).
 */
async function latencySource({ spec, config }: ProviderInput): Promise<LatencySource> {
  const latency = config.latency;
  if (!latency) throw new UserError('a latency metric needs "latency": {"device": "host" | "<adb serial>" | "<device id>"}');
  const store = new LatencyStore(openWorkspace(config.workspace ?? defaultWorkspacePath()));
  const known = store.getDevice(latency.device);
  if (known) {
    const tables = store.listTables(known.id);
    const runtimeOptions = latency.runtimeOptions ?? tables[0]?.runtimeOptions;
    if (runtimeOptions === undefined) throw new UserError(`device ${known.id} (${known.label}) has no latency table in this workspace`);
    return withDeviceId(new StoreLatencySource({ spec, store, deviceId: known.id, runtimeOptions }), known.id);
  }
  const profiler = await openProfiler({ device: latency.device });
  const source = new StoreLatencySource({
    spec,
    store,
    deviceId: profiler.deviceId,
    runtimeOptions: profiler.runtimeOptions,
    ...(latency.lazyProfiling ? { profiler } : {}),
  });
  if (!latency.lazyProfiling && source.size === 0) {
    const others = store.listTables().filter((t) => t.deviceId !== profiler.deviceId);
    throw new UserError(
      `${profiler.label} (device id ${profiler.deviceId}) has no latency table in this workspace and "lazyProfiling" is off`,
      [
        ...others.map((t) => `a table exists for another device: ${t.deviceId} [${t.runtimeOptions}] — tables are never reused across devices`),
        'build one with `netadapt lut build`, or set "latency": {"lazyProfiling": true}',
      ],
    );
  }
  return withDeviceId(source, latency.device);
}

/** The search checks `deviceId` against the requested device; here the request is resolved by the provider itself. */
function withDeviceId(source: StoreLatencySource, requested: string): LatencySource {
  return Object.assign(source, { deviceId: requested }) as LatencySource;
}

async function modelMeasurer({ spec, config }: ProviderInput): Promise<ModelMeasurer> {
  const latency = config.latency;
  if (!latency) throw new UserError('"latency-measured" needs "latency": {"device": "host" | "<adb serial>"}');
  const profiler: Profiler = await openProfiler({ device: latency.device });
  return async (subnet) => {
    const network = resolveNetwork(spec, subnet);
    const bytes = exportNetwork(network, randomFoldedWeights(network, 1));
    let result: number | undefined;
    await profiler.measure([{ key: 'model', bytes }], { onResult: (_key, m) => (result = m.meanUs) });
    if (result === undefined) throw new UserError(`${profiler.label} returned no measurement for the sub-network`);
    return result / 1000;
  };
}

export function registerProfilerProviders(): void {
  registerSearchProviders({ latencySource, modelMeasurer });
}
