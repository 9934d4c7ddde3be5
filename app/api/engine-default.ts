/**
 * The default Engine: a thin facade over the engine's parts (engine/: devices, networks, latency tables, training,
 * searches, results), which share one EngineContext (the workspace and the files next to it). CPU-bound jobs run in
 * worker threads (worker-runner.ts); device I/O is asynchronous and stays on this thread.
 */
import type { ValidParamsOf } from './contract/methods.ts';
import type {
  ArchitectureView,
  CheckpointCheck,
  CheckpointInfo,
  DeviceDetails,
  DeviceListing,
  DownloadInfo,
  ExportResult,
  LatencyCoverage,
  LatencyTableBuild,
  LatencyValidationSummary,
  NetworkSummary,
  RunDetails,
  RunSummary,
  SearchSpaceSampling,
  ServerInfo,
} from './contract/types.ts';
import { EngineContext, type DefaultEngineOptions } from './engine/context.ts';
import { DeviceOperations } from './engine/devices.ts';
import { LatencyOperations } from './engine/latency.ts';
import { NetworkOperations } from './engine/networks.ts';
import { ResultOperations } from './engine/results.ts';
import { SearchOperations } from './engine/searches.ts';
import { TrainingOperations } from './engine/training.ts';
import type { Engine, JobContext } from './engine.ts';

export type { DefaultEngineOptions };

/** Operations this build cannot run yet, and the module each one waits for. */
export const UNAVAILABLE: Readonly<Record<string, string>> = {};

const VERSION = '0.1.0';

export function createDefaultEngine(options: DefaultEngineOptions = {}): Engine {
  return new DefaultEngine(options);
}

class DefaultEngine implements Engine {
  private readonly ctx: EngineContext;
  private readonly devices: DeviceOperations;
  private readonly networks: NetworkOperations;
  private readonly latency: LatencyOperations;
  private readonly training: TrainingOperations;
  private readonly searches: SearchOperations;
  private readonly results: ResultOperations;

  constructor(options: DefaultEngineOptions) {
    this.ctx = new EngineContext(options);
    this.devices = new DeviceOperations(this.ctx);
    this.networks = new NetworkOperations(this.ctx);
    this.latency = new LatencyOperations(this.ctx);
    this.training = new TrainingOperations(this.ctx);
    this.results = new ResultOperations(this.ctx, (runId) => this.searches.isActive(runId), () => this.training.trainingRuns());
    this.searches = new SearchOperations(this.ctx, (checkpoint) => this.training.resolveCheckpoint(checkpoint), (runId) => this.results.summary(runId));
  }

  async serverInfo(): Promise<ServerInfo> {
    return { version: VERSION, workspace: this.ctx.workspacePath, unavailable: Object.keys(UNAVAILABLE) };
  }

  listDevices(): Promise<DeviceListing> {
    return this.devices.listDevices();
  }
  deviceInfo(params: ValidParamsOf<'deviceInfo'>): Promise<DeviceDetails> {
    return this.devices.deviceInfo(params);
  }
  deviceSetup(params: ValidParamsOf<'deviceSetup'>, job: JobContext): Promise<DeviceDetails> {
    return this.devices.deviceSetup(params, job);
  }
  watchDevices(params: ValidParamsOf<'watchDevices'>, job: JobContext): Promise<null> {
    return this.devices.watchDevices(params, job);
  }

  listNetworks(): Promise<NetworkSummary[]> {
    return this.networks.listNetworks();
  }
  getArchitecture(params: ValidParamsOf<'getArchitecture'>): Promise<ArchitectureView> {
    return this.networks.getArchitecture(params);
  }
  sampleSearchSpace(params: ValidParamsOf<'sampleSearchSpace'>, job: JobContext): Promise<SearchSpaceSampling> {
    return this.networks.sampleSearchSpace(params, job);
  }

  latencyCoverage(params: ValidParamsOf<'latencyCoverage'>): Promise<LatencyCoverage> {
    return this.latency.latencyCoverage(params);
  }
  buildLatencyTable(params: ValidParamsOf<'buildLatencyTable'>, job: JobContext): Promise<LatencyTableBuild> {
    return this.latency.buildLatencyTable(params, job);
  }
  validateLatencyTable(params: ValidParamsOf<'validateLatencyTable'>, job: JobContext): Promise<LatencyValidationSummary> {
    return this.latency.validateLatencyTable(params, job);
  }

  trainSupernet(params: ValidParamsOf<'trainSupernet'>, job: JobContext): Promise<RunSummary> {
    return this.training.trainSupernet(params, job);
  }
  listCheckpoints(params: ValidParamsOf<'listCheckpoints'>): Promise<CheckpointInfo[]> {
    return this.training.listCheckpoints(params);
  }
  checkCheckpoint(params: ValidParamsOf<'checkCheckpoint'>): Promise<CheckpointCheck> {
    return this.training.checkCheckpoint(params);
  }

  startSearch(params: ValidParamsOf<'startSearch'>, job: JobContext): Promise<RunSummary> {
    return this.searches.startSearch(params, job);
  }
  resumeSearch(params: ValidParamsOf<'resumeSearch'>, job: JobContext): Promise<RunSummary> {
    return this.searches.resumeSearch(params, job);
  }
  pauseSearch(params: ValidParamsOf<'pauseSearch'>): Promise<RunSummary> {
    return this.searches.pauseSearch(params);
  }
  cancelSearch(params: ValidParamsOf<'cancelSearch'>): Promise<RunSummary> {
    return this.searches.cancelSearch(params);
  }

  listRuns(params: ValidParamsOf<'listRuns'>): Promise<RunSummary[]> {
    return this.results.listRuns(params);
  }
  getRun(params: ValidParamsOf<'getRun'>): Promise<RunDetails> {
    return this.results.getRun(params);
  }
  exportResult(params: ValidParamsOf<'exportResult'>): Promise<ExportResult> {
    return this.results.exportResult(params);
  }
  downloadInfo(params: ValidParamsOf<'downloadInfo'>): Promise<DownloadInfo> {
    return this.results.downloadInfo(params);
  }

  async dispose(): Promise<void> {
    this.ctx.close();
  }
}
