/**
 * The default Engine: each operation calls the engine module that does the work. Operations whose module is not
 * part of this build answer with a NotAvailableError naming what is missing (`UNAVAILABLE` lists them; empty now).
 * CPU-bound jobs run in a worker thread (worker-runner.ts); device I/O is asynchronous and stays on this thread.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, hostname, platform, arch as cpuArch } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadNetwork, networkSignatures, parseSubnet, resolveNetwork, zooNames, zooSummary } from '../../core/arch/index.ts';
import type { NetworkSpec } from '../../core/arch/index.ts';
import { loadSearchResult } from '../../core/search/result.ts';
import { SqliteRunStore } from '../../core/search/run-store.ts';
import { ownerIsLive, runState } from '../../core/search/run-state.ts';
import type { RunRecord } from '../../core/search/types.ts';
import { UserError } from '../../core/errors.ts';
import { writeFileAtomically } from '../../core/fs-errors.ts';
import { defaultWorkspacePath, openWorkspace, type Workspace } from '../../core/store/workspace.ts';
import { DeviceBridge } from '../../latency/android/device/bridge.ts';
import type { AttachedDevice } from '../../latency/android/device/bridge.ts';
import { LatencyStore } from '../../latency/store/latency-store.ts';
import { BenchmarkRunner, TOOL_DOWNLOAD_HINT } from '../../latency/android/benchmark/runner.ts';
import { canonicalJson, readDeviceFingerprint } from '../../latency/android/device/fingerprint.ts';
import { WorkingDelegates } from '../../latency/android/device/delegate-probe.ts';
import { HOST_CAPABILITIES } from '../../latency/host/host-profiler.ts';
import { openJobDataset } from '../../pipeline/dataset.ts';
import { exportStep } from '../../pipeline/steps/export.ts';
import {
  buildWithStore,
  validateWithStore,
  type LatencyBuildOutcome,
  type LatencyBuildTask,
  type LatencyValidateTask,
  type LatencyValidation,
  type ProfilerTarget,
} from './jobs/latency-table.ts';
import { architectureView } from './architecture.ts';
import type { Engine, JobContext } from './engine.ts';
import { CancelledError, NotAvailableError, NotFoundError } from './errors.ts';
import type { RunSearchTask } from './jobs/run-search.ts';
import type { TrainSupernetTask } from './jobs/train-supernet.ts';
import type { ValidParamsOf } from './contract/methods.ts';
import type {
  ArchitectureView,
  BenchmarkToolStatus,
  DeviceDetails,
  DeviceListing,
  DelegateName,
  DeviceSummary,
  ExportResult,
  LatencyCoverage,
  LatencyTableBuild,
  LatencyValidationSummary,
  NetworkSummary,
  RunDetails,
  RunStatus,
  RunSummary,
  SearchSpaceSampling,
  ServerInfo,
} from './contract/types.ts';
import { runJobInWorker } from './worker-runner.ts';

export interface DefaultEngineOptions {
  /** The workspace SQLite file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite); ':memory:' for tests. */
  workspacePath?: string;
  /** adb server port (default $ANDROID_ADB_SERVER_PORT or 5037): tests point it at an emulated adb server. */
  adbPort?: number;
  adbHost?: string;
  /** adb binary used to start the adb server when none answers (default "adb" on PATH). */
  adbBin?: string;
  /** Where exports are written (default: `exports/` next to the workspace file). */
  exportDir?: string;
  /** The job worker entry (bundled builds pass their compiled job-worker.js). */
  workerUrl?: URL;
  /** The benchmark_model binary deviceSetup pushes (default $NETADAPT_BENCHMARK_TOOL). */
  benchmarkToolPath?: string;
}

/** Operations this build cannot run yet, and the module each one waits for. */
export const UNAVAILABLE: Readonly<Record<string, string>> = {};

const VERSION = '0.1.0';

interface ActiveSearch {
  stop: AbortController;
  /** Why it was stopped, when the user asked. */
  reason?: 'pause' | 'cancel';
  /** Resolves once the worker has stopped and the run's status is final. */
  finished: Promise<void>;
}

export function createDefaultEngine(options: DefaultEngineOptions = {}): Engine {
  return new DefaultEngine(options);
}

class DefaultEngine implements Engine {
  private readonly options: DefaultEngineOptions;
  private readonly workspacePath: string;
  private workspace: Workspace | undefined;
  private latency: LatencyStore | undefined;
  private runs: SqliteRunStore | undefined;
  private bridge: DeviceBridge | undefined;
  private networks: NetworkSummary[] | undefined;
  private readonly delegateSupport = new WorkingDelegates();
  private readonly activeSearches = new Map<string, ActiveSearch>();

  constructor(options: DefaultEngineOptions) {
    this.options = options;
    this.workspacePath = options.workspacePath === ':memory:' ? ':memory:' : resolve(options.workspacePath ?? defaultWorkspacePath());
  }

  async serverInfo(): Promise<ServerInfo> {
    return { version: VERSION, workspace: this.workspacePath, unavailable: Object.keys(UNAVAILABLE) };
  }

  // ---- devices ---------------------------------------------------------------------------------------------------

  async listDevices(): Promise<DeviceListing> {
    const stored = this.latencyStore().listDevices();
    let attached: AttachedDevice[] = [];
    let adb = { available: true, message: '' };
    try {
      attached = await this.deviceBridge().listDevices();
    } catch (error) {
      adb = { available: false, message: error instanceof Error ? error.message : String(error) };
    }
    const devices: DeviceSummary[] = [hostDevice()];
    const attachedIds = new Set<string>();
    for (const device of attached) {
      attachedIds.add(device.serial);
      const record = stored.find((r) => r.id === device.serial);
      devices.push(await this.describeAttached(device, record?.fingerprintJson));
    }
    for (const record of stored) {
      if (record.id === 'host' || attachedIds.has(record.id)) continue;
      devices.push({
        id: record.id,
        label: record.label,
        kind: 'android',
        state: 'stored',
        description: describeFingerprint(record.fingerprint),
        fingerprintHash: shortHash(record.fingerprintJson),
        benchmarkTool: 'unknown',
        lastSeen: record.lastSeen,
      });
    }
    return { devices, adb };
  }

  async deviceInfo(params: ValidParamsOf<'deviceInfo'>): Promise<DeviceDetails> {
    const store = this.latencyStore();
    const tables = store.listTables(params.deviceId).map((t) => ({ runtimeOptions: t.runtimeOptions, entries: t.entries, newestMeasuredAt: t.newestMeasuredAt }));
    if (params.deviceId === 'host') return { ...hostDevice(), fingerprint: hostFingerprint(), tables };
    const listing = await this.listDevices();
    const summary = listing.devices.find((d) => d.id === params.deviceId);
    if (!summary) throw new NotFoundError(`no device "${params.deviceId}": it is neither attached nor in the workspace`);
    const record = store.getDevice(params.deviceId);
    return { ...summary, fingerprint: { ...(record?.fingerprint ?? {}) }, tables };
  }

  async deviceSetup(params: ValidParamsOf<'deviceSetup'>, ctx: JobContext): Promise<DeviceDetails> {
    if (params.deviceId === 'host') return this.deviceInfo({ deviceId: 'host' });
    const runner = new BenchmarkRunner(this.deviceBridge());
    const status = await runner.checkTool(params.deviceId);
    if (status.installed && status.executable && !params.force) {
      ctx.emit({ kind: 'log', level: 'info', message: `benchmark_model is already installed on ${params.deviceId} (${status.path})` });
    } else {
      const localPath = params.toolPath ?? this.options.benchmarkToolPath ?? process.env.NETADAPT_BENCHMARK_TOOL;
      if (localPath === undefined || localPath === '') {
        throw new UserError(`benchmark_model is not installed on ${params.deviceId}; give the path of the binary to push (toolPath)`, [TOOL_DOWNLOAD_HINT]);
      }
      ctx.emit({ kind: 'progress', phase: 'installing benchmark_model', done: 0, total: 1 });
      const sha256 = await runner.installTool(params.deviceId, resolve(localPath));
      ctx.emit({ kind: 'progress', phase: 'installing benchmark_model', done: 1, total: 1 });
      ctx.emit({ kind: 'log', level: 'info', message: `installed benchmark_model on ${params.deviceId} (sha256 ${sha256.slice(0, 12)})` });
    }
    return this.deviceInfo({ deviceId: params.deviceId });
  }

  async watchDevices(_params: ValidParamsOf<'watchDevices'>, ctx: JobContext): Promise<null> {
    const bridge = this.deviceBridge();
    await new Promise<void>((resolvePromise, reject) => {
      let stop: (() => void) | undefined;
      const finish = (error?: Error) => {
        ctx.signal.removeEventListener('abort', onAbort);
        stop?.();
        if (error) reject(error);
        else resolvePromise();
      };
      const onAbort = () => finish();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      bridge
        .trackDevices(
          (event) => {
            void this.describeAttached(event.device).then((device) =>
              ctx.emit({ kind: 'device', change: event.type, device: event.type === 'removed' ? { ...device, state: 'offline' } : device }),
            );
          },
          (error) => finish(error),
        )
        .then(
          (stopTracking) => {
            stop = stopTracking;
            if (ctx.signal.aborted) finish();
          },
          (error: unknown) => finish(error instanceof UserError ? error : new UserError(`cannot watch for phones: adb is not available (${error instanceof Error ? error.message : String(error)})`)),
        );
    });
    return null;
  }

  private async describeAttached(device: AttachedDevice, storedFingerprintJson?: string): Promise<DeviceSummary> {
    let description = '';
    if (device.state === 'device' || device.state === 'emulator') {
      try {
        const props = await this.deviceBridge().getProperties(device.serial);
        description = [props['ro.product.model'], props['ro.product.cpu.abi'], props['ro.build.version.release'] && `Android ${props['ro.build.version.release']}`]
          .filter((part) => part !== undefined && part !== '')
          .join(' · ');
      } catch {
        // The device may have gone away between listing and asking; it still shows, without details.
      }
    }
    const ready = device.state === 'device' || device.state === 'emulator';
    const probe = ready ? await this.probeAttached(device.serial) : { fingerprintHash: '', benchmarkTool: 'unknown' as const };
    const delegates = ready && probe.benchmarkTool === 'ready' && probe.fingerprintHash ? await this.delegateSupport.of(this.deviceBridge(), device.serial, probe.fingerprintHash) : undefined;
    return {
      ...(delegates ? { delegates: delegates.delegates, delegateProblems: delegates.problems } : {}),
      id: device.serial,
      label: device.serial,
      kind: 'android',
      state: ready ? 'ready' : device.state === 'unauthorized' ? 'unauthorized' : 'offline',
      description: probe.problem ? [description, probe.problem].filter((p) => p !== '').join(' · ') : description,
      fingerprintHash: probe.fingerprintHash || (storedFingerprintJson ? shortHash(storedFingerprintJson) : ''),
      benchmarkTool: probe.benchmarkTool,
    };
  }

  /** Fingerprint and benchmark tool status of a ready phone; a failure becomes a status text, never an error. */
  private async probeAttached(serial: string): Promise<{ fingerprintHash: string; benchmarkTool: BenchmarkToolStatus; problem?: string }> {
    const problems: string[] = [];
    let fingerprintHash = '';
    let benchmarkTool: BenchmarkToolStatus = 'unknown';
    try {
      fingerprintHash = shortHash(canonicalJson(await readDeviceFingerprint(this.deviceBridge(), serial)));
    } catch (error) {
      problems.push(`fingerprint unreadable: ${errorText(error)}`);
    }
    try {
      const status = await new BenchmarkRunner(this.deviceBridge()).checkTool(serial);
      benchmarkTool = status.installed && status.executable ? 'ready' : 'missing';
    } catch (error) {
      problems.push(`benchmark tool status unknown: ${errorText(error)}`);
    }
    return { fingerprintHash, benchmarkTool, ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
  }

  // ---- networks --------------------------------------------------------------------------------------------------

  async listNetworks(): Promise<NetworkSummary[]> {
    // The zoo is fixed for the life of the process: resolve it once.
    this.networks ??= zooNames().map((name) => {
      const spec = loadNetwork(name);
      const network = resolveNetwork(spec);
      return {
        name,
        summary: zooSummary(name) ?? '',
        task: spec.task,
        input: { height: spec.input.height, width: spec.input.width, channels: spec.input.channels },
        macs: network.macs,
        params: network.params,
        searchableLayers: network.space.layers.length,
        widthLevels: spec.widthLevels,
      };
    });
    return this.networks.map((n) => ({ ...n, input: { ...n.input } }));
  }

  async getArchitecture(params: ValidParamsOf<'getArchitecture'>): Promise<ArchitectureView> {
    const spec = loadZooNetwork(params.network);
    const subnet = params.subnet ? parseSubnet(spec, params.subnet, 'subnet') : undefined;
    return architectureView(spec, subnet);
  }

  async sampleSearchSpace(params: ValidParamsOf<'sampleSearchSpace'>, ctx: JobContext): Promise<SearchSpaceSampling> {
    loadZooNetwork(params.network);
    return (await runJobInWorker({ job: 'sampleSearchSpace', params }, ctx, { workerUrl: this.options.workerUrl })) as SearchSpaceSampling;
  }

  // ---- latency tables --------------------------------------------------------------------------------------------

  async latencyCoverage(params: ValidParamsOf<'latencyCoverage'>): Promise<LatencyCoverage> {
    const spec = loadZooNetwork(params.network);
    const signatures = [...new Set(networkSignatures(resolveNetwork(spec).layers))];
    const store = this.latencyStore();
    const devices = store.listDevices().filter((d) => params.deviceId === undefined || d.id === params.deviceId);
    const rows = [];
    for (const device of devices) {
      const tables = store.listTables(device.id);
      for (const table of tables.length > 0 ? tables : [{ runtimeOptions: '' }]) {
        const coverage = store.coverage(device.id, table.runtimeOptions, signatures);
        const failed = store.failedSignatures(device.id, table.runtimeOptions, signatures).size;
        rows.push({ deviceId: device.id, deviceLabel: device.label, runtimeOptions: table.runtimeOptions, ...coverage, failed });
      }
    }
    return { network: spec.name, rows };
  }

  async buildLatencyTable(params: ValidParamsOf<'buildLatencyTable'>, ctx: JobContext): Promise<LatencyTableBuild> {
    loadZooNetwork(params.network);
    if (!params.resume) {
      ctx.emit({ kind: 'log', level: 'warn', message: 'entries already in the table are kept (re-measuring them is not supported yet); measuring the missing ones' });
    }
    const task: LatencyBuildTask = {
      ...this.profilerTarget(params.deviceId, params.runtime, params.warmupRuns, params.runs),
      workspacePath: this.workspacePath,
      network: params.network,
      retryFailed: params.retryFailed,
      ...(params.levels ? { levels: params.levels } : {}),
      ...(params.kernels ? { kernels: params.kernels } : {}),
    };
    const outcome =
      this.workspacePath === ':memory:'
        ? await buildWithStore(task, this.latencyStore(), ctx)
        : ((await runJobInWorker({ job: 'buildLatencyTable', params: task }, ctx, { workerUrl: this.options.workerUrl, cancelGraceMs: 30_000 })) as LatencyBuildOutcome);
    if (outcome.failed > 0) {
      ctx.emit({ kind: 'log', level: 'warn', message: `${outcome.failed} entries failed: ${outcome.failures.map((f) => `${f.signature}: ${f.message}`).slice(0, 3).join('; ')}` });
    }
    const coverage = await this.latencyCoverage({ network: params.network, deviceId: outcome.deviceId });
    return {
      ...coverage,
      build: {
        deviceId: outcome.deviceId,
        runtimeOptions: outcome.runtimeOptions,
        total: outcome.total,
        alreadyPresent: outcome.alreadyPresent,
        measured: outcome.measured,
        failed: outcome.failed,
        skippedFailed: outcome.skippedFailed,
        notRun: outcome.notRun,
        cancelled: outcome.cancelled,
        failures: outcome.failures,
        interruptions: outcome.interruptions,
      },
    };
  }

  async validateLatencyTable(params: ValidParamsOf<'validateLatencyTable'>, ctx: JobContext): Promise<LatencyValidationSummary> {
    loadZooNetwork(params.network);
    const task: LatencyValidateTask = {
      ...this.profilerTarget(params.deviceId, params.runtime, params.warmupRuns, params.runs),
      workspacePath: this.workspacePath,
      network: params.network,
      samples: params.samples,
      seed: params.seed,
    };
    const result =
      this.workspacePath === ':memory:'
        ? await validateWithStore(task, this.latencyStore(), ctx)
        : ((await runJobInWorker({ job: 'validateLatencyTable', params: task }, ctx, { workerUrl: this.options.workerUrl, cancelGraceMs: 30_000 })) as LatencyValidation);
    return {
      ...result,
      pairs: result.pairs.map((p) => ({
        subnet: p.subnet,
        macs: p.macs,
        predictedUs: p.predictedUs,
        measuredUs: p.measuredUs,
        relativeError: p.relativeError,
        calibration: p.calibration,
      })),
    };
  }

  /** The profiler to open for a device id of the API ('host' or an adb serial) and runtime options. */
  private profilerTarget(deviceId: string, runtime?: { threads: number; cores: number[]; delegate: DelegateName; dtype?: 'float32' | 'int8' }, warmupRuns?: number, numRuns?: number): ProfilerTarget {
    return {
      deviceId,
      ...(runtime ? { delegate: runtime.delegate } : {}),
      ...(this.options.adbHost !== undefined ? { adbHost: this.options.adbHost } : {}),
      ...(this.options.adbPort !== undefined ? { adbPort: this.options.adbPort } : {}),
      ...(runtime ? { threads: runtime.threads } : {}),
      ...(runtime?.dtype ? { dtype: runtime.dtype } : {}),
      ...(runtime && runtime.cores.length > 0 ? { cpuMask: runtime.cores.reduce((mask, core) => mask | (1 << core), 0).toString(16) } : {}),
      ...(warmupRuns !== undefined ? { warmupRuns } : {}),
      ...(numRuns !== undefined ? { numRuns } : {}),
    };
  }

  // ---- training and search ---------------------------------------------------------------------------------------

  async trainSupernet(params: ValidParamsOf<'trainSupernet'>, ctx: JobContext): Promise<RunSummary> {
    loadZooNetwork(params.network);
    const checkpointDir = join(this.dataDir(), 'checkpoints', `${params.network}-seed${params.seed}`);
    const task: TrainSupernetTask = { config: params, checkpointDir, resume: existsSync(join(checkpointDir, 'manifest.json')) };
    // Training checkpoints after the current step when cancelled: give it time before terminating the thread.
    return (await runJobInWorker({ job: 'trainSupernet', params: task }, ctx, { workerUrl: this.options.workerUrl, cancelGraceMs: 60_000 })) as RunSummary;
  }

  async startSearch(params: ValidParamsOf<'startSearch'>, ctx: JobContext): Promise<RunSummary> {
    loadZooNetwork(params.network);
    return this.searchInWorker({ workspacePath: this.workspacePath, config: params }, ctx);
  }

  async resumeSearch(params: ValidParamsOf<'resumeSearch'>, ctx: JobContext): Promise<RunSummary> {
    const run = this.requireRun(params.runId);
    if (this.activeSearches.has(run.id)) throw new UserError(`run ${run.id} is already running`);
    return this.searchInWorker({ workspacePath: this.workspacePath, resumeRunId: run.id }, ctx);
  }

  async pauseSearch(params: ValidParamsOf<'pauseSearch'>): Promise<RunSummary> {
    const active = this.activeSearches.get(params.runId);
    if (!active) {
      const run = this.requireRun(params.runId);
      throw new UserError(`run ${run.id} is not running in this app (status: ${run.status}); nothing to pause`);
    }
    active.reason = 'pause';
    active.stop.abort(new CancelledError('paused by the user'));
    await active.finished;
    return runSummary(this.requireRun(params.runId));
  }

  /** Runs core/search in a worker thread; pause/cancel abort it between two evaluations. */
  private async searchInWorker(task: RunSearchTask, ctx: JobContext): Promise<RunSummary> {
    if (this.workspacePath === ':memory:') {
      throw new UserError('a search needs a workspace file (its runs are shared with a worker thread); start the app with --workspace <file>');
    }
    this.runStore(); // applies the search tables' migrations before the worker opens the file
    let markFinished: () => void = () => {};
    const active: ActiveSearch = { stop: new AbortController(), finished: new Promise<void>((resolve) => (markFinished = resolve)) };
    const forwardAbort = () => active.stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', forwardAbort, { once: true });
    let runId = task.resumeRunId;
    if (runId !== undefined) this.activeSearches.set(runId, active);
    try {
      const result = (await runJobInWorker(
        { job: 'runSearch', params: task },
        {
          signal: active.stop.signal,
          emit: (event) => {
            if (event.kind === 'run-created') {
              runId = event.runId;
              this.activeSearches.set(runId, active);
            }
            ctx.emit(event);
          },
        },
        { workerUrl: this.options.workerUrl, cancelGraceMs: 30_000 },
      )) as { runId: string };
      runId = result.runId;
    } finally {
      ctx.signal.removeEventListener('abort', forwardAbort);
      if (runId !== undefined) this.activeSearches.delete(runId);
      if (active.reason === 'cancel' && runId !== undefined) this.runStore().setRunStatus(runId, 'failed', 'cancelled by the user');
      markFinished();
    }
    return runSummary(this.requireRun(runId));
  }

  async cancelSearch(params: ValidParamsOf<'cancelSearch'>): Promise<RunSummary> {
    const active = this.activeSearches.get(params.runId);
    if (active) {
      active.reason = 'cancel';
      active.stop.abort(new CancelledError('cancelled by the user'));
      await active.finished;
      return runSummary(this.requireRun(params.runId));
    }
    const store = this.runStore();
    const run = this.requireRun(params.runId);
    if (run.status === 'running' && run.ownerPid !== process.pid && ownerIsLive(run)) {
      throw new NotAvailableError('cancelling a search of another process', 'cross-process cancellation');
    }
    if (run.status === 'running' || run.status === 'interrupted') store.setRunStatus(run.id, 'failed', 'cancelled by the user');
    return runSummary(this.requireRun(params.runId));
  }

  async listRuns(params: ValidParamsOf<'listRuns'>): Promise<RunSummary[]> {
    if (params.kind !== undefined && params.kind !== 'search') return [];
    return this.runStore()
      .listRuns()
      .reverse()
      .slice(0, params.limit)
      .map(runSummary);
  }

  async getRun(params: ValidParamsOf<'getRun'>): Promise<RunDetails> {
    const store = this.runStore();
    const run = this.requireRun(params.runId);
    const result = loadSearchResult(store, run.id);
    const trajectory = (result?.trajectory ?? []).map((point) => ({
      iteration: point.iteration,
      bestScore: point.score,
      bestResource: point.resource,
      targetResource: point.target,
      samples: point.samples,
    }));
    const lastIteration = store.listIterations(run.id).at(-1);
    const lastSamples = lastIteration
      ? store
          .getSamples(run.id, lastIteration.iteration)
          .filter((s) => s.score !== null)
          .map((s) => ({ iteration: s.iteration, score: s.score as number, resource: s.resource }))
      : [];
    let architecture: ArchitectureView | undefined;
    if (result) {
      try {
        architecture = architectureView(loadZooNetwork(run.network), result.best.config);
      } catch {
        // A run of a network file that is gone: the table cannot be rebuilt, the numbers still show.
      }
    }
    return { ...runSummary(run), config: { ...(run.config as object), ...{ params: run.params } }, trajectory, lastSamples, architecture };
  }

  async exportResult(params: ValidParamsOf<'exportResult'>): Promise<ExportResult> {
    if (params.format === 'tflite' || params.format === 'tflite-int8') {
      return this.exportTflite(params.runId, params.iteration, params.format === 'tflite-int8');
    }
    const details = await this.getRun({ runId: params.runId });
    const store = this.runStore();
    const run = this.requireRun(params.runId);
    const point = pickIteration(loadSearchResult(store, run.id)?.trajectory ?? [], params.iteration);
    if (!point) throw new NotFoundError(`run ${params.runId} has no finished iteration${params.iteration !== undefined ? ` ${params.iteration}` : ''} to export`);
    const spec = loadZooNetwork(run.network);
    const view = architectureView(spec, point.config);
    const dir = this.exportDir();
    const base = `${run.id}-iter${point.iteration}`;
    let path: string;
    let text: string;
    if (params.format === 'json') {
      path = join(dir, `${base}.subnet.json`);
      text = `${JSON.stringify({ ...view.subnet, run: run.id, iteration: point.iteration, score: point.score, resource: point.resource, unit: run.metricUnit }, null, 2)}\n`;
    } else {
      path = join(dir, `${base}.report.md`);
      text = renderReport(details, view, point.iteration);
    }
    writeFileAtomically(path, text, params.format === 'json' ? 'the sub-network file' : 'the report file');
    return { format: params.format, path, bytes: Buffer.byteLength(text) };
  }

  /**
   * The chosen sub-network as a .tflite file: the run's checkpoint weights when it has one, else random weights.
   * int8: calibrated on the run's dataset (trained weights), or nominal ranges (random weights: latency only).
   */
  private async exportTflite(runId: string, iteration: number | undefined, int8 = false): Promise<ExportResult> {
    const run = this.requireRun(runId);
    const point = pickIteration(loadSearchResult(this.runStore(), run.id)?.trajectory ?? [], iteration);
    if (!point) throw new NotFoundError(`run ${runId} has no finished iteration${iteration !== undefined ? ` ${iteration}` : ''} to export`);
    const spec = loadZooNetwork(run.network);
    const checkpointDir = runCheckpoint(run.config);
    const source: 'checkpoint' | 'random' = checkpointDir !== undefined ? 'checkpoint' : 'random';
    const note = checkpointDir !== undefined
      ? `weights from the checkpoint ${checkpointDir}`
      : 'random weights: the run has no trained checkpoint, so the model is only good for latency measurement';
    const dataset = (run.config as { dataset?: string | Record<string, unknown> } | undefined)?.dataset;
    const calibration = int8 && checkpointDir !== undefined
      ? { dataset: await openJobDataset(dataset, `run ${runId} has no dataset to calibrate an int8 model with`) }
      : {};
    const int8Settings = int8 ? { int8: calibration } : {};
    const written = await exportStep({
      spec,
      subnet: point.config,
      ...(checkpointDir !== undefined ? { checkpoint: checkpointDir } : {}),
      out: join(this.exportDir(), `${run.id}-iter${point.iteration}${int8 ? '.int8' : ''}.tflite`),
      ...(int8 ? {} : { options: { description: `NetAdapt Studio ${run.network} run ${run.id} iteration ${point.iteration} (${source} weights)` } }),
      ...int8Settings,
    });
    const int8Note = !int8 ? '' : checkpointDir !== undefined ? `; int8, calibrated on ${written.calibrationImages} training images` : '; int8 with nominal ranges';
    return { format: int8 ? 'tflite-int8' : 'tflite', path: written.path, bytes: written.bytes, weights: source, note: note + int8Note };
  }

  async dispose(): Promise<void> {
    this.workspace?.close();
    this.workspace = undefined;
    this.latency = undefined;
    this.runs = undefined;
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  private openedWorkspace(): Workspace {
    this.workspace ??= openWorkspace(this.workspacePath);
    return this.workspace;
  }

  private latencyStore(): LatencyStore {
    this.latency ??= new LatencyStore(this.openedWorkspace());
    return this.latency;
  }

  private runStore(): SqliteRunStore {
    this.runs ??= new SqliteRunStore(this.openedWorkspace());
    return this.runs;
  }

  private deviceBridge(): DeviceBridge {
    this.bridge ??= new DeviceBridge({ port: this.options.adbPort, host: this.options.adbHost, bin: this.options.adbBin });
    return this.bridge;
  }

  private requireRun(runId: string): RunRecord {
    const run = this.runStore().getRun(runId);
    if (!run) throw new NotFoundError(`no run "${runId}" in the workspace ${this.workspacePath}`);
    return run;
  }

  private exportDir(): string {
    if (this.options.exportDir) return resolve(this.options.exportDir);
    return join(this.dataDir(), 'exports');
  }

  /** The folder next to the workspace file, for exports and checkpoints. */
  private dataDir(): string {
    return this.workspacePath === ':memory:' ? resolve('.') : dirname(this.workspacePath);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The checkpoint folder a run's configuration names, when it has one. */
function runCheckpoint(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const checkpoint = (config as Record<string, unknown>).checkpoint;
  return typeof checkpoint === 'string' && checkpoint !== '' ? checkpoint : undefined;
}

/** Networks of the API are zoo names (a path would let a client read any JSON file on this computer). */
function loadZooNetwork(name: string): NetworkSpec {
  if (!zooNames().includes(name)) {
    throw new NotFoundError(`unknown network "${name}"`, [`zoo networks: ${zooNames().join(', ')}`]);
  }
  return loadNetwork(name);
}

function pickIteration<T extends { iteration: number }>(trajectory: readonly T[], iteration: number | undefined): T | undefined {
  return iteration === undefined ? trajectory.at(-1) : trajectory.find((p) => p.iteration === iteration);
}

const STATUS: Record<RunRecord['status'], RunStatus> = {
  running: 'running',
  done: 'done',
  unreachable: 'done',
  budget: 'done',
  failed: 'failed',
  interrupted: 'paused',
};

function runSummary(run: RunRecord): RunSummary {
  const cancelled = run.status === 'failed' && run.message === 'cancelled by the user';
  // A 'running' run whose process is gone (kill -9, crash) is interrupted: shown paused, with how to resume it.
  const state = runState(run);
  const ownerGone = state.ownerGone && !cancelled;
  return {
    runId: run.id,
    kind: 'search',
    network: run.network,
    status: cancelled ? 'cancelled' : STATUS[state.status],
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    metric: run.metric,
    unit: run.metricUnit,
    iterations: run.iterations,
    message: ownerGone ? (state.note as string) : run.message ?? '',
    ...(state.status === 'interrupted' ? { interrupted: true } : {}),
    ...(state.resumeCommand !== undefined && !cancelled ? { resumeCommand: state.resumeCommand } : {}),
    ...(run.initialResource !== null ? { initialResource: run.initialResource } : {}),
    ...(run.bestResource !== null ? { bestResource: run.bestResource } : {}),
    ...(run.bestScore !== null ? { bestScore: run.bestScore } : {}),
  };
}

function hostFingerprint(): Record<string, unknown> {
  const cpuList = cpus();
  return { kind: 'host', hostname: hostname(), platform: platform(), arch: cpuArch(), cpu: cpuList[0]?.model ?? 'unknown', cores: cpuList.length };
}

function hostDevice(): DeviceSummary {
  const fingerprint = hostFingerprint();
  return {
    id: 'host',
    label: `This computer (${String(fingerprint.hostname)})`,
    kind: 'host',
    state: 'ready',
    description: `${String(fingerprint.cpu)} · ${String(fingerprint.cores)} cores · ${String(fingerprint.platform)}/${String(fingerprint.arch)}`,
    fingerprintHash: shortHash(JSON.stringify(fingerprint)),
    benchmarkTool: 'not-needed',
    delegates: [...HOST_CAPABILITIES.delegates],
    delegateProblems: ['cpu, gpu, nnapi: the host runtime (LiteRT wasm) has XNNPACK only; measure them on a phone'],
  };
}

function describeFingerprint(fingerprint: Readonly<Record<string, unknown>>): string {
  const pick = (...keys: string[]) => keys.map((k) => fingerprint[k]).find((v) => typeof v === 'string' || typeof v === 'number');
  return [pick('model', 'ro.product.model'), pick('soc', 'hardware', 'ro.hardware'), pick('abi', 'ro.product.cpu.abi')]
    .filter((v) => v !== undefined)
    .map(String)
    .join(' · ');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function renderReport(run: RunDetails, view: ArchitectureView, iteration: number): string {
  const lines = [
    `# NetAdapt Studio result: ${run.network}`,
    '',
    `- run: ${run.runId} (${run.status}${run.message ? `: ${run.message}` : ''})`,
    `- metric: ${run.metric} (${run.unit}); iteration ${iteration}`,
    `- resource: ${run.bestResource ?? '?'} of ${run.initialResource ?? '?'} initially; score ${run.bestScore ?? '?'}`,
    `- MACs ${view.macs} (full network ${view.fullMacs}), params ${view.params} (full ${view.fullParams})`,
    '',
    '| # | name | type | T | k | s | exp | dw | pw | se | output |',
    '|---|------|------|---|---|---|-----|----|----|----|--------|',
    ...view.rows.map(
      (r) =>
        `| ${r.index} | ${r.name} | ${r.type}${r.removed ? ' **removed**' : r.bypass ? ' (bypass)' : ''} | ${r.limit} | ${r.kernel} | ${r.stride} | ${r.exp} | ${r.dw} | ${r.pw} | ${r.se} | ${r.output} |`,
    ),
    '',
    '## Trajectory',
    '',
    '| iteration | best score | resource | target |',
    '|-----------|-----------|----------|--------|',
    ...run.trajectory.map((p) => `| ${p.iteration} | ${p.bestScore} | ${p.bestResource} | ${p.targetResource} |`),
    '',
  ];
  return lines.join('\n');
}
