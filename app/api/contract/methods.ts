/**
 * The API's operations: for each, its parameter schema and whether it answers at once ('call') or starts a job
 * that streams events ('job'). `ApiMethods` maps each name to its parameter and result types for typed clients.
 */
import type { z } from 'zod';
import * as s from './schemas.ts';
import type {
  ArchitectureView,
  CheckpointCheck,
  CheckpointInfo,
  DownloadInfo,
  DeviceDetails,
  DeviceListing,
  ExportResult,
  JobInfo,
  JobStarted,
  LatencyCoverage,
  LatencyTableBuild,
  LatencyValidationSummary,
  NetworkSummary,
  RunDetails,
  RunSummary,
  SearchSpaceSampling,
  ServerInfo,
} from './types.ts';

interface Call<Schema extends z.ZodType, Result> {
  kind: 'call';
  schema: Schema;
  /** Phantom: the result type. */
  result?: Result;
}

interface Job<Schema extends z.ZodType, Result> {
  kind: 'job';
  schema: Schema;
  /** Phantom: the value of the job's final 'done' event. */
  result?: Result;
}

const call = <Schema extends z.ZodType, Result>(schema: Schema): Call<Schema, Result> => ({ kind: 'call', schema });
const job = <Schema extends z.ZodType, Result>(schema: Schema): Job<Schema, Result> => ({ kind: 'job', schema });

export const METHODS = {
  serverInfo: call<typeof s.empty, ServerInfo>(s.empty),
  listDevices: call<typeof s.empty, DeviceListing>(s.empty),
  deviceInfo: call<typeof s.deviceInfoParams, DeviceDetails>(s.deviceInfoParams),
  deviceSetup: job<typeof s.deviceSetupParams, DeviceDetails>(s.deviceSetupParams),
  /** Streams 'device' events on plug/unplug until cancelled. */
  watchDevices: job<typeof s.empty, null>(s.empty),
  listNetworks: call<typeof s.empty, NetworkSummary[]>(s.empty),
  getArchitecture: call<typeof s.getArchitectureParams, ArchitectureView>(s.getArchitectureParams),
  /** Resolves random sub-networks in a worker thread: MACs and params of the search space. */
  sampleSearchSpace: job<typeof s.sampleSearchSpaceParams, SearchSpaceSampling>(s.sampleSearchSpaceParams),
  latencyCoverage: call<typeof s.latencyCoverageParams, LatencyCoverage>(s.latencyCoverageParams),
  buildLatencyTable: job<typeof s.buildLatencyTableParams, LatencyTableBuild>(s.buildLatencyTableParams),
  validateLatencyTable: job<typeof s.validateLatencyTableParams, LatencyValidationSummary>(s.validateLatencyTableParams),
  trainSupernet: job<typeof s.trainSupernetParams, RunSummary>(s.trainSupernetParams),
  /** Trained super-networks of the workspace (newest first). */
  listCheckpoints: call<typeof s.listCheckpointsParams, CheckpointInfo[]>(s.listCheckpointsParams),
  /** Whether a checkpoint can score sub-networks of a network (same definition, a finished super-network training). */
  checkCheckpoint: call<typeof s.checkCheckpointParams, CheckpointCheck>(s.checkCheckpointParams),
  startSearch: job<typeof s.startSearchParams, RunSummary>(s.startSearchParams),
  resumeSearch: job<typeof s.runRef, RunSummary>(s.runRef),
  pauseSearch: call<typeof s.runRef, RunSummary>(s.runRef),
  cancelSearch: call<typeof s.runRef, RunSummary>(s.runRef),
  listRuns: call<typeof s.listRunsParams, RunSummary[]>(s.listRunsParams),
  getRun: call<typeof s.runRef, RunDetails>(s.runRef),
  /** The same as getRun; the name the Result screen uses. */
  openResult: call<typeof s.runRef, RunDetails>(s.runRef),
  exportResult: call<typeof s.exportResultParams, ExportResult>(s.exportResultParams),
  /** Where an exported file is (Electron's Save dialog copies it; browser mode downloads GET /download/<id>). */
  downloadInfo: call<typeof s.downloadRef, DownloadInfo>(s.downloadRef),
  listJobs: call<typeof s.empty, JobInfo[]>(s.empty),
  cancelJob: call<typeof s.jobRef, JobInfo>(s.jobRef),
  /** Removes a finished job from the list (every client's jobs bar). */
  dismissJob: call<typeof s.jobRef, JobInfo[]>(s.jobRef),
} as const;

export type MethodTable = typeof METHODS;
export type MethodName = keyof MethodTable;
export type CallMethod = { [K in MethodName]: MethodTable[K]['kind'] extends 'call' ? K : never }[MethodName];
export type JobMethod = { [K in MethodName]: MethodTable[K]['kind'] extends 'job' ? K : never }[MethodName];

/** What a client sends (defaults may be omitted). */
export type ParamsOf<M extends MethodName> = z.input<MethodTable[M]['schema']>;
/** What the engine receives (validated, defaults filled in). */
export type ValidParamsOf<M extends MethodName> = z.output<MethodTable[M]['schema']>;
/** The response's `result`: a job method answers with its job id. */
export type ResultOf<M extends MethodName> = M extends JobMethod ? JobStarted : NonNullable<MethodTable[M]['result']>;
/** The value of a job's 'done' event. */
export type JobResultOf<M extends JobMethod> = MethodTable[M]['result'];

export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

export function isMethodName(value: string): value is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, value);
}
