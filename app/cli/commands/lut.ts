import type { Command } from 'commander';
import { loadNetwork, searchSpace, type NetworkSpec } from '../../../core/arch/index.ts';
import type { SearchableLayer } from '../../../core/arch/layers.ts';
import { ValidationError } from '../../../core/errors.ts';
import { defaultWorkspacePath, openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { openProfiler, openProfilers } from '../../../latency/open-profiler.ts';
import { parseModelDtype } from '../../../latency/store/runtime-options.ts';
import { buildLatencyTables } from '../../../latency/lut/build.ts';
import type { LutBuildProgress, LutBuildResult } from '../../../latency/lut/build.ts';
import { DELEGATES, parseDelegate } from '../../../latency/android/benchmark/delegates.ts';
import type { Delegate } from '../../../latency/android/benchmark/delegates.ts';
import { registerLutShow } from './lut-show.ts';
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
  dtype: string;
  delegate?: string;
  modelTimeout?: string;
  pinFrequency?: string | boolean;
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
    .option('--cpu-mask <hex>', 'taskset CPU mask on the phone (default: the fastest cluster)')
    .option('--delegate <name>', `kernels that run the layers: ${DELEGATES.join(', ')} (the host has xnnpack only)`, 'xnnpack')
    .option('--model-timeout <seconds>', 'phone: time limit per model run (default: from the model\'s expected cost)')
    .option('--pin-frequency [kHz]', 'rooted phone: pin the measured cores to their highest (or this) frequency')
    .option('--dtype <float32|int8>', 'models of the table: float32, or full-integer int8 (a table of its own)', 'float32');
}

function profilerOptions(options: DeviceOptions) {
  return {
    adbHost: options.adbHost ?? '127.0.0.1',
    adbPort: positive(options.adbPort ?? process.env['ANDROID_ADB_SERVER_PORT'] ?? '5037', '--adb-port', 1, 65535),
    numRuns: positive(options.runs, '--runs', 1, 1000),
    warmupRuns: positive(options.warmup, '--warmup', 0, 1000),
    threads: positive(options.threads, '--threads', 1, 16),
    dtype: parseModelDtype(options.dtype, '--dtype'),
    delegate: delegateOption(options.delegate),
    ...(options.repeats === undefined ? {} : { repeats: positive(options.repeats, '--repeats', 1, 100) }),
    ...(options.cpuMask === undefined ? {} : { cpuMask: options.cpuMask }),
    ...(options.modelTimeout === undefined ? {} : { modelTimeoutMs: positive(options.modelTimeout, '--model-timeout', 1, 86_400) * 1000 }),
    ...(options.pinFrequency === undefined ? {} : { pinFrequency: options.pinFrequency === true ? true : positive(String(options.pinFrequency), '--pin-frequency', 1, 10_000_000) }),
  };
}

function delegateOption(text: string | undefined): Delegate {
  try {
    return parseDelegate(text ?? 'xnnpack');
  } catch {
    throw new ValidationError(`--delegate must be one of ${DELEGATES.join(', ')}, got "${text}"`);
  }
}

async function open(options: DeviceOptions) {
  const profiler = await openProfiler({ device: options.device, ...profilerOptions(options) });
  const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath());
  return { workspace, store: new LatencyStore(workspace), profiler };
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
      .description('measure every distinct layer of a network\'s search space on one or more devices (resumable: run again to continue)')
      .requiredOption('--network <network>', 'zoo name or network .json'),
  )
    .option('--widths <n>', 'width levels to enumerate per layer (default: all of the network\'s levels)')
    .option('--kernels <list>', 'kernel sizes to enumerate, e.g. 3,5 (default: all)')
    .option('--batch <n>', 'models per batch (one adb shell session)', '32')
    .option('--retry-failed', 'measure again the entries that failed in earlier builds (default: skip them)')
    .addHelpText('after', '\n--device takes a list (A,B) or "all": every phone measures at once, one table per fingerprint; identical phones share one table\'s entries.')
    .action(async (options: DeviceOptions & { network: string; widths?: string; kernels?: string; batch: string; retryFailed?: boolean }) => {
      const spec = loadNetwork(options.network);
      const widths = options.widths === undefined ? undefined : positive(options.widths, '--widths', 2, 65);
      const kernelList = options.kernels === undefined ? undefined : kernelSizes(options.kernels, spec);
      const subset = levelSubset(widths);
      const batchSize = positive(options.batch, '--batch', 1, 1000);
      const profilers = await openProfilers({ devices: options.device, ...profilerOptions(options) });
      const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath());
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      const progress = new MultiProgress(profilers.length > 1);
      try {
        for (const profiler of profilers) console.log(`building the latency table of ${spec.name} on ${profiler.label} [${profiler.runtimeOptions}]`);
        const results = await buildLatencyTables({
          spec,
          profilers,
          store: new LatencyStore(workspace),
          batchSize,
          retryFailed: options.retryFailed === true,
          ...(subset ? { levels: (layer: SearchableLayer) => subset(layer, spec.widthLevels) } : {}),
          ...(kernelList ? { kernels: (layer: SearchableLayer) => layer.kernels.filter((k) => kernelList.includes(k)).concat(kernelList.some((k) => layer.kernels.includes(k)) ? [] : [layer.fullKernel]) } : {}),
          signal: controller.signal,
          onProgress: (p) => progress.update(p),
        });
        progress.done();
        for (const result of results) printBuildSummary(result, profilers.length > 1);
        if (results.some((r) => r.failed.length > 0 || r.interruptions.length > 0 || r.notRun > 0)) process.exitCode = 1;
      } finally {
        process.off('SIGINT', stop);
        progress.done();
        for (const profiler of profilers) await profiler.close?.();
        workspace.close();
      }
    });

  registerLutShow(lut);

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

/** One table's account: every entry is already measured, measured now, failed, skipped as failed before, or not run. */
export function printBuildSummary(result: LutBuildResult, several: boolean): void {
  const skipped = result.skippedFailed > 0 ? `, ${result.skippedFailed} skipped (failed before; --retry-failed measures them again)` : '';
  const notRun = result.notRun > 0 || result.cancelled ? `, ${result.notRun} not run` : '';
  const where = several ? `${result.devices.join(' + ')} [${result.runtimeOptions}]: ` : '';
  console.log(
    `${where}${result.total} entries (layers and their invocation-overhead entries): ${result.alreadyPresent} were already measured, ` +
      `${result.measured} measured now, ${result.failed.length} failed${skipped}${notRun}` +
      `${result.cancelled ? ' — interrupted; run the same command again to resume' : ''}`,
  );
  for (const f of result.failed.slice(0, 10)) console.log(`  failed (${f.reason}): ${f.signature}: ${f.message}`);
  if (result.failed.length > 10) console.log(`  ... and ${result.failed.length - 10} more (netadapt lut show --device ${result.deviceId} lists them)`);
  for (const interruption of result.interruptions) console.log(`  ${interruption}`);
  console.log(`device id: ${result.deviceId}`);
}

/** The progress line; with several phones each event names its phone, and waits show which model is slow. */
class MultiProgress {
  private readonly line = new ProgressLine();
  private readonly perDevice = new Map<string, LutBuildProgress>();

  constructor(private readonly several: boolean) {}

  update(p: LutBuildProgress): void {
    const key = p.device ?? '';
    if (!p.waiting) this.perDevice.set(key, p);
    const all = [...this.perDevice.values()];
    const done = all.reduce((sum, q) => sum + q.done, 0);
    const total = all.reduce((sum, q) => sum + q.total, 0);
    const measured = all.reduce((sum, q) => sum + q.measuredThisRun, 0);
    const failed = all.reduce((sum, q) => sum + q.failedThisRun, 0);
    const waiting = p.waiting ? ` — ${this.several && p.device ? `${p.device}: ` : ''}waiting ${p.waiting.elapsedSec}s of ${p.waiting.limitSec}s for ${p.waiting.signature.slice(0, 48)}` : '';
    this.line.update(done, total, `measured ${measured}${failed ? `, ${failed} failed` : ''}${waiting}`, p.etaSec, p.waiting !== undefined);
  }

  done(): void {
    this.line.done();
  }
}
