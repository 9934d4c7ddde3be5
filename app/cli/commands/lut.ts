import type { Command } from 'commander';
import { loadNetwork, resolveNetwork, searchSpace, enumerateLayerVariants, type NetworkSpec } from '../../../core/arch/index.ts';
import type { SearchableLayer } from '../../../core/arch/layers.ts';
import { ValidationError } from '../../../core/errors.ts';
import { defaultWorkspacePath, openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { openProfiler } from '../../../latency/open-profiler.ts';
import { buildLatencyTable } from '../../../latency/lut/build.ts';
import { validateLatencyTable } from '../../../latency/lut/validate.ts';
import { ProgressLine } from '../progress.ts';
import { lutCommand, registerLutIo } from './lut-io.ts';

interface DeviceOptions {
  device: string;
  workspace?: string;
  adbHost?: string;
  adbPort?: string;
  runs: string;
  warmup: string;
  repeats?: string;
  threads: string;
  cpuMask?: string;
}

function withDeviceOptions(command: Command): Command {
  return command
    .option('--device <serial|host>', 'adb serial of the phone, or "host" for this computer', 'host')
    .option('--workspace <path>', 'workspace file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .option('--adb-host <host>', 'adb server host', '127.0.0.1')
    .option('--adb-port <port>', 'adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)')
    .option('--runs <n>', 'timed runs per model', '30')
    .option('--warmup <n>', 'warm-up runs per model', '5')
    .option('--repeats <n>', 'phone: independent repeats per model (the median one is kept); host: rounds the samples are spread over')
    .option('--threads <n>', 'inference threads (phone)', '1')
    .option('--cpu-mask <hex>', 'taskset CPU mask on the phone (default: the fastest cluster)');
}

async function open(options: DeviceOptions) {
  // Options are checked before the workspace is opened (or created), so a bad one leaves nothing behind.
  const profilerOptions = {
    device: options.device,
    adbHost: options.adbHost ?? '127.0.0.1',
    adbPort: positive(options.adbPort ?? process.env['ANDROID_ADB_SERVER_PORT'] ?? '5037', '--adb-port', 1, 65535),
    numRuns: positive(options.runs, '--runs', 1, 1000),
    warmupRuns: positive(options.warmup, '--warmup', 0, 1000),
    threads: positive(options.threads, '--threads', 1, 16),
    ...(options.repeats === undefined ? {} : { repeats: positive(options.repeats, '--repeats', 1, 100) }),
    ...(options.cpuMask === undefined ? {} : { cpuMask: options.cpuMask }),
  };
  const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath());
  const store = new LatencyStore(workspace);
  try {
    return { workspace, store, profiler: await openProfiler(profilerOptions) };
  } catch (error) {
    workspace.close();
    throw error;
  }
}

/** A whole-number option in [min, max] (the bounds the app's API enforces too), named with its range when refused. */
function positive(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got "${text}"`);
  }
  return value;
}

/** `--kernels 3,5`: odd sizes that some searchable layer of the network allows (nothing falls back silently). */
function kernelSizes(text: string, spec: NetworkSpec): number[] {
  const allowed = [...new Set(searchSpace(spec).layers.flatMap((layer) => layer.kernels))].sort((a, b) => a - b);
  return text.split(',').map((part) => {
    const kernel = Number(part.trim());
    if (!Number.isInteger(kernel) || kernel < 1 || kernel % 2 === 0) {
      throw new ValidationError(`--kernels: "${part.trim()}" is not an odd kernel size; kernel sizes are odd (1, 3, 5, 7, …); ${spec.name} allows ${allowed.join(', ')}`);
    }
    if (!allowed.includes(kernel)) throw new ValidationError(`--kernels: no searchable layer of ${spec.name} allows kernel ${kernel}; it allows ${allowed.join(', ')}`);
    return kernel;
  });
}

/** `--widths N`: N width levels spread evenly over the network's levels (always the smallest and the full one). */
function levelSubset(count: number | undefined): ((layer: SearchableLayer, levels: number) => number[]) | undefined {
  if (count === undefined) return undefined;
  return (layer, levels) => {
    const lo = layer.minLevel;
    const hi = levels - 1;
    const n = Math.min(count, hi - lo + 1);
    return [...new Set(Array.from({ length: n }, (_, i) => Math.round(lo + ((hi - lo) * i) / Math.max(1, n - 1))))];
  };
}

export function register(program: Command): void {
  const lut = lutCommand(program);
  registerLutIo(lut);

  withDeviceOptions(
    lut
      .command('build')
      .description('measure every distinct layer of a network\'s search space on a device (resumable: run again to continue)')
      .requiredOption('--network <network>', 'zoo name or network .json'),
  )
    .option('--widths <n>', 'width levels to enumerate per layer (default: all of the network\'s levels)')
    .option('--kernels <list>', 'kernel sizes to enumerate, e.g. 3,5 (default: all)')
    .option('--batch <n>', 'models per batch (one adb shell session)', '32')
    .action(async (options: DeviceOptions & { network: string; widths?: string; kernels?: string; batch: string }) => {
      const spec = loadNetwork(options.network);
      const widths = options.widths === undefined ? undefined : positive(options.widths, '--widths', 2, 65);
      const kernelList = options.kernels === undefined ? undefined : kernelSizes(options.kernels, spec);
      const batchSize = positive(options.batch, '--batch', 1, 1000);
      const { workspace, store, profiler } = await open(options);
      const subset = levelSubset(widths);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      const progress = new ProgressLine();
      try {
        console.log(`building the latency table of ${spec.name} on ${profiler.label} [${profiler.runtimeOptions}]`);
        const result = await buildLatencyTable({
          spec,
          profiler,
          store,
          batchSize,
          ...(subset ? { levels: (layer: SearchableLayer) => subset(layer, spec.widthLevels) } : {}),
          ...(kernelList ? { kernels: (layer: SearchableLayer) => layer.kernels.filter((k) => kernelList.includes(k)).concat(kernelList.some((k) => layer.kernels.includes(k)) ? [] : [layer.fullKernel]) } : {}),
          signal: controller.signal,
          onProgress: (p) => progress.update(p.done, p.total, `measured ${p.measuredThisRun}${p.failedThisRun ? `, ${p.failedThisRun} failed` : ''}`, p.etaSec),
        });
        progress.done();
        console.log(
          `${result.total} entries (layers and their invocation-overhead entries): ${result.alreadyPresent} were already measured, ` +
            `${result.measured} measured now, ${result.failed.length} failed${result.cancelled ? ' — interrupted; run the same command again to resume' : ''}`,
        );
        for (const f of result.failed.slice(0, 10)) console.log(`  failed: ${f.signature}: ${f.message}`);
        console.log(`device id: ${result.deviceId}`);
        if (result.failed.length > 0) process.exitCode = 1;
      } finally {
        process.off('SIGINT', stop);
        progress.done();
        await profiler.close?.();
        workspace.close();
      }
    });

  lut
    .command('show')
    .description('list the latency tables of the workspace, or the coverage of one network on one device')
    .option('--device <id>', 'device fingerprint id')
    .option('--network <network>', 'zoo name or network .json: coverage of its search space')
    .option('--workspace <path>', 'workspace file')
    .action((options: { device?: string; network?: string; workspace?: string }) => {
      const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath(), { mustExist: true });
      try {
        const store = new LatencyStore(workspace);
        const devices = new Map(store.listDevices().map((d) => [d.id, d]));
        const tables = store.listTables(options.device);
        if (tables.length === 0) console.log('no latency tables in this workspace yet (netadapt lut build --network NAME --device host)');
        for (const table of tables) {
          const device = devices.get(table.deviceId);
          console.log(`${table.deviceId}  ${device?.label ?? ''}`);
          console.log(`  options ${table.runtimeOptions}: ${table.entries} entries, newest ${table.newestMeasuredAt}`);
          const stats = store.stats(table.deviceId, table.runtimeOptions);
          console.log(`  ${JSON.stringify(stats)}`);
          if (options.network) {
            const spec = loadNetwork(options.network);
            const signatures = [...enumerateLayerVariants(spec).keys()];
            const coverage = store.coverage(table.deviceId, table.runtimeOptions, signatures);
            console.log(`  coverage of ${spec.name} (${searchSpace(spec).layers.length} searchable layers, ${(resolveNetwork(spec).macs / 1e6).toFixed(1)}M MACs): ${JSON.stringify(coverage)}`);
          }
        }
      } finally {
        workspace.close();
      }
    });

  withDeviceOptions(
    lut
      .command('validate')
      .description('compare the table\'s prediction with whole sub-networks measured on the same device')
      .requiredOption('--network <network>', 'zoo name or network .json'),
  )
    .option('--samples <n>', 'random sub-networks (half calibrate the per-model overhead, half are reported)', '20')
    .option('--seed <n>', 'seed', '1')
    .action(async (options: DeviceOptions & { network: string; samples: string; seed: string }) => {
      const spec = loadNetwork(options.network);
      const { workspace, store, profiler } = await open(options);
      const progress = new ProgressLine();
      try {
        const result = await validateLatencyTable({
          spec,
          profiler,
          store,
          samples: positive(options.samples, '--samples', 2, 500),
          seed: Number(options.seed),
          onLutProgress: (p) => progress.update(p.done, p.total, 'latency entries', p.etaSec),
        });
        progress.done();
        console.log('sub-network  role         MACs   layer sum   predicted    measured   error');
        result.pairs.forEach((p, i) => {
          console.log(
            `${String(i).padStart(11)}  ${(p.calibration ? 'calibration' : 'validation').padEnd(11)} ${(p.macs / 1e6).toFixed(2).padStart(6)}M ${(p.layerSumUs / 1000).toFixed(3).padStart(9)}ms ${(p.predictedUs / 1000).toFixed(3).padStart(9)}ms ${(p.measuredUs / 1000).toFixed(3).padStart(9)}ms ${(p.relativeError * 100).toFixed(1).padStart(6)}%`,
          );
        });
        console.log(`per-model overhead (median of measured − layer sum over the calibration half): ${(result.overheadUs / 1000).toFixed(3)} ms`);
        console.log(`validation half (${result.evaluated} sub-networks): median relative error ${(result.medianRelativeError * 100).toFixed(1)}%, p90 ${(result.p90RelativeError * 100).toFixed(1)}%`);
        console.log(`measuring took ${result.seconds.toFixed(1)} s (missing table entries and the whole sub-networks, interleaved)`);
      } finally {
        progress.done();
        await profiler.close?.();
        workspace.close();
      }
    });
}
