/**
 * The Engine: everything the app can do, behind one interface. The API server validates requests and hands the
 * engine parsed parameters; job operations also get a JobContext to report progress and notice cancellation.
 * `engine-default.ts` implements it with the engine modules; tests use small fakes.
 */
import type { ValidParamsOf } from './contract/methods.ts';
import type {
  ArchitectureView,
  CheckpointCheck,
  CheckpointInfo,
  DownloadInfo,
  DeviceDetails,
  DeviceListing,
  EngineEvent,
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

export interface JobContext {
  readonly jobId: string;
  /** Aborted when the job is cancelled; long work checks it between steps. `signal.reason` says why. */
  readonly signal: AbortSignal;
  emit(event: EngineEvent): void;
}

export interface Engine {
  serverInfo(): Promise<ServerInfo>;

  listDevices(): Promise<DeviceListing>;
  deviceInfo(params: ValidParamsOf<'deviceInfo'>): Promise<DeviceDetails>;
  /** Pushes the benchmark tool and checks it runs. */
  deviceSetup(params: ValidParamsOf<'deviceSetup'>, ctx: JobContext): Promise<DeviceDetails>;
  /** Emits 'device' events on plug/unplug until `ctx.signal` aborts; then resolves null. */
  watchDevices(params: ValidParamsOf<'watchDevices'>, ctx: JobContext): Promise<null>;

  listNetworks(): Promise<NetworkSummary[]>;
  getArchitecture(params: ValidParamsOf<'getArchitecture'>): Promise<ArchitectureView>;

  /** CPU-bound: implementations run it off the request thread. */
  sampleSearchSpace(params: ValidParamsOf<'sampleSearchSpace'>, ctx: JobContext): Promise<SearchSpaceSampling>;

  latencyCoverage(params: ValidParamsOf<'latencyCoverage'>): Promise<LatencyCoverage>;
  buildLatencyTable(params: ValidParamsOf<'buildLatencyTable'>, ctx: JobContext): Promise<LatencyTableBuild>;
  validateLatencyTable(params: ValidParamsOf<'validateLatencyTable'>, ctx: JobContext): Promise<LatencyValidationSummary>;

  trainSupernet(params: ValidParamsOf<'trainSupernet'>, ctx: JobContext): Promise<RunSummary>;
  listCheckpoints(params: ValidParamsOf<'listCheckpoints'>): Promise<CheckpointInfo[]>;
  checkCheckpoint(params: ValidParamsOf<'checkCheckpoint'>): Promise<CheckpointCheck>;

  /** Runs until the target is met, the run is paused or cancelled; emits 'run-created' first. */
  startSearch(params: ValidParamsOf<'startSearch'>, ctx: JobContext): Promise<RunSummary>;
  resumeSearch(params: ValidParamsOf<'resumeSearch'>, ctx: JobContext): Promise<RunSummary>;
  /** Stops a running search after its current iteration is saved; resumeSearch continues it. */
  pauseSearch(params: ValidParamsOf<'pauseSearch'>): Promise<RunSummary>;
  cancelSearch(params: ValidParamsOf<'cancelSearch'>): Promise<RunSummary>;

  listRuns(params: ValidParamsOf<'listRuns'>): Promise<RunSummary[]>;
  getRun(params: ValidParamsOf<'getRun'>): Promise<RunDetails>;
  exportResult(params: ValidParamsOf<'exportResult'>): Promise<ExportResult>;
  /** Where an exported file is, for a download or a Save dialog. */
  downloadInfo(params: ValidParamsOf<'downloadInfo'>): Promise<DownloadInfo>;

  /** Stops workers and closes the workspace. */
  dispose(): Promise<void>;
}
