/**
 * Results and progress events of the API: plain JSON, shared by the engine, the transports and the renderer
 * (which imports this module's types only).
 */
import type { ArchRow } from '../../../core/arch/table.ts';
import type { DatasetChoice, SubnetJsonInput } from './schemas.ts';

export type DeviceKind = 'android' | 'host';
/** adb states plus 'stored': known from the workspace but not attached now. */
export type DeviceState = 'ready' | 'unauthorized' | 'offline' | 'stored';
export type BenchmarkToolStatus = 'ready' | 'missing' | 'unknown' | 'not-needed';

/** Kernels a latency table can be measured with (benchmark_model's --use_xnnpack / --use_gpu / --use_nnapi). */
export type DelegateName = 'xnnpack' | 'cpu' | 'gpu' | 'nnapi';

export interface DeviceSummary {
  id: string;
  label: string;
  kind: DeviceKind;
  state: DeviceState;
  /** e.g. "Pixel 4a · arm64-v8a · Android 13"; empty when unknown. */
  description: string;
  /** Short hash of the fingerprint (model, SoC, OS build, governor…); empty when unknown. */
  fingerprintHash: string;
  benchmarkTool: BenchmarkToolStatus;
  lastSeen?: string;
  /**
   * The delegates that work on this device (tried once per fingerprint with a tiny model), so the app offers
   * exactly those; absent when unknown (not attached, no benchmark tool).
   */
  delegates?: DelegateName[];
  /** Why the other delegates do not work, one line each. */
  delegateProblems?: string[];
}

export interface DeviceListing {
  devices: DeviceSummary[];
  /** Whether the adb server answered; when not, `message` says why and how to fix it. */
  adb: { available: boolean; message: string };
}

export interface LatencyTableInfo {
  runtimeOptions: string;
  entries: number;
  newestMeasuredAt: string;
}

export interface DeviceDetails extends DeviceSummary {
  fingerprint: Record<string, unknown>;
  tables: LatencyTableInfo[];
  /** The id this device's latency tables are stored under (the host's is derived from its fingerprint). */
  tableDeviceId: string;
}

export interface NetworkSummary {
  name: string;
  summary: string;
  task: 'classification' | 'depth';
  input: { height: number; width: number; channels: number };
  macs: number;
  params: number;
  searchableLayers: number;
  widthLevels: number;
  /** The largest training batch that fits in the tensor backend's memory (estimated from the activations). */
  maxTrainBatch: number;
}

/** One row of the architecture table (the paper's Table 8); defined once in core/arch. */
export type ArchitectureRow = ArchRow;

export interface ArchitectureView {
  network: string;
  description: string;
  task: 'classification' | 'depth';
  rows: ArchitectureRow[];
  macs: number;
  params: number;
  output: { height: number; width: number; channels: number };
  /** The sub-network (every searchable layer's level, filters and kernel). */
  subnet: SubnetJsonInput;
  /** Totals of the full network, to show the reduction. */
  fullMacs: number;
  fullParams: number;
}

export interface SearchSpaceSample {
  macs: number;
  params: number;
}

/** Random sub-networks of a network with their cost: the shape of the search space before any training. */
export interface SearchSpaceSampling {
  network: string;
  samples: number;
  fullMacs: number;
  fullParams: number;
  /** At most 2000 points (evenly thinned) for plotting. */
  points: SearchSpaceSample[];
  minMacs: number;
  maxMacs: number;
}

export interface CoverageRow {
  deviceId: string;
  deviceLabel: string;
  runtimeOptions: string;
  /** Distinct layer signatures the network needs (its full-network layers). */
  requested: number;
  present: number;
  missing: number;
  fraction: number;
  /** Of the missing ones, entries that failed to measure (a build skips them unless asked to retry). */
  failed: number;
}

export interface LatencyCoverage {
  network: string;
  rows: CoverageRow[];
}

/** What buildLatencyTable answers: the coverage after the build, and what this build measured. */
export interface LatencyTableBuild extends LatencyCoverage {
  build?: {
    deviceId: string;
    runtimeOptions: string;
    total: number;
    alreadyPresent: number;
    measured: number;
    failed: number;
    /** Failed in an earlier build and not retried. total = alreadyPresent + measured + failed + skippedFailed + notRun. */
    skippedFailed: number;
    notRun: number;
    cancelled: boolean;
    /** The first failures, with the reason ('timeout', 'cut-off', 'bad-output', ...). */
    failures: { signature: string; reason: string; message: string }[];
    /** Why a phone stopped measuring (lost or frozen), with how to resume. */
    interruptions: string[];
  };
}

/** One row of the Result screen's comparison: a unit of the network before (initial) and after (discovered) the search. */
export interface LayerComparisonRow {
  index: number;
  name: string;
  type: string;
  kernelBefore: string;
  kernelAfter: string;
  /** Expansion, depthwise, pointwise and SE widths ("–" where the unit has none, "0" where removed). */
  before: { exp: string; dw: string; pw: string; se: string };
  after: { exp: string; dw: string; pw: string; se: string };
  removed: boolean;
  bypass: boolean;
  macsBefore: number;
  macsAfter: number;
  changed: boolean;
}

/** One validation sub-network: latency predicted from the table vs measured whole (microseconds). */
export interface ValidationPoint {
  subnet: string;
  macs: number;
  predictedUs: number;
  measuredUs: number;
  relativeError: number;
  /** Used to fit the per-model overhead; the error statistics are computed on the other points. */
  calibration: boolean;
}

export interface LatencyValidationSummary {
  points: number;
  /** Mean |predicted − measured| / measured over the held-out points, in percent. */
  meanAbsErrorPercent: number;
  medianRelativeError?: number;
  p90RelativeError?: number;
  overheadUs?: number;
  deviceId?: string;
  runtimeOptions?: string;
  pairs?: ValidationPoint[];
}

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobStarted {
  jobId: string;
  method: string;
}

export interface JobInfo {
  jobId: string;
  method: string;
  /** What the job does, in words ("Training a super-network of mobilenet-v3-demo-32"). */
  title: string;
  status: JobStatus;
  startedAt: string;
  endedAt?: string;
  /** The last progress event, so a client that connects late can show where the job is. */
  lastProgress?: ProgressEvent;
  /** The search run the job works on (from its 'run-created' event), so a client that attaches late can control it. */
  runId?: string;
  result?: unknown;
  error?: ApiErrorBody;
}

export type RunKind = 'search' | 'train' | 'latency';
/** 'interrupted': the process that ran it is gone (killed, crashed, closed); it can be continued. */
export type RunStatus = 'running' | 'paused' | 'interrupted' | 'done' | 'failed' | 'cancelled';
/** What a run's scores are: fractions of correct answers (shown as %), a dry run's synthetic score, or none. */
export type ScoreKind = 'accuracy' | 'synthetic' | 'none';

export interface RunSummary {
  runId: string;
  kind: RunKind;
  /** The run in words, for lists ("search mobilenet-v3-demo-32 → 50% latency on host"). */
  title: string;
  network: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** Metric of a search ('latency' | 'macs' | 'params'); empty for other runs. */
  metric: string;
  iterations: number;
  /** Why the run stopped (or what it is doing); empty when there is nothing to say. */
  message: string;
  /** Unit of the resource numbers (e.g. "MACs", "ms"). */
  unit: string;
  initialResource?: number;
  bestResource?: number;
  bestScore?: number;
  scoreKind: ScoreKind;
  /** What bestScore is ("held-out top-1 accuracy", "synthetic score (not an accuracy)"). */
  scoreLabel: string;
  /** Searches with a final training: the trained network's test score. */
  finalTestScore?: number;
  /**
   * The search stopped before its end: killed or crashed (its process is gone; `message` then reads "interrupted —
   * resume with …") or interrupted. resumeSearch continues it.
   */
  interrupted?: boolean;
  /** For runs that can be continued (interrupted, failed, out of budget): the CLI command that does it. */
  resumeCommand?: string;
}

/** A trained super-network the Search screen can use. */
export interface CheckpointInfo {
  /** Pass this as startSearch's "checkpoint". */
  id: string;
  path: string;
  network: string;
  dataset: DatasetChoice;
  status: RunStatus;
  epochsDone: number;
  epochs: number;
  updatedAt: string;
  /** Held-out top-1 (or δ1) after the last scored epoch: the full network and the smallest sub-network. */
  heldoutFull?: number;
  heldoutSmallest?: number;
}

export interface CheckpointCheck {
  ok: boolean;
  /** Why it cannot be used (ok false) or what to know (ok true: e.g. training not finished). */
  problems: string[];
  warnings: string[];
  checkpoint?: CheckpointInfo;
}

/** One epoch's held-out scores of a super-network training. */
export interface HeldoutRecord {
  epoch: number;
  full: number;
  smallest: number;
}

/** The test split's scores of a search's networks (data neither training nor search saw). */
export interface TestScores {
  /** The initial (full) network with the super-network's weights. */
  full?: number;
  /** The discovered network with the shared weights, before the final training. */
  before?: number;
  /** The discovered network after its final training. */
  after?: number;
  /** Held-out before and after the final training. */
  heldoutBefore?: number;
  heldoutAfter?: number;
}

/** One finished optimizer iteration: its best sample and where it sits. */
export interface IterationRecord {
  iteration: number;
  bestScore: number;
  bestResource: number;
  targetResource: number;
  samples: number;
}

export interface SamplePoint {
  iteration: number;
  score: number;
  resource: number;
}

export interface RunDetails extends RunSummary {
  config: Record<string, unknown>;
  trajectory: IterationRecord[];
  /** The final target in the metric's unit. */
  finalTarget?: number;
  /** Samples of the last iteration (for the scatter plot). */
  lastSamples: SamplePoint[];
  /** The best sub-network of the last iteration, resolved; absent for runs without one. */
  architecture?: ArchitectureView;
  /** The initial network, resolved. */
  initialArchitecture?: ArchitectureView;
  /** Every unit before and after. */
  comparison: LayerComparisonRow[];
  /** Latency of the initial and discovered network on the search's device (ms), when the metric is latency. */
  latency?: { initialMs: number; discoveredMs: number; device: string };
  test: TestScores;
  /** The final training: what it was, and whether its trained .tflite is there to export. */
  finalTraining?: { mode: string; distill: boolean; steps: number; seconds: number; tflite: boolean };
  /** Whether the HTML report has been written. */
  report: boolean;
  /** Super-network trainings: the held-out scores per epoch. */
  heldout?: HeldoutRecord[];
}

export interface ExportResult {
  format: 'tflite' | 'tflite-int8' | 'json' | 'report';
  /** Absolute path of the written file (on the computer running the engine). */
  path: string;
  /** The file name to save it under. */
  fileName: string;
  bytes: number;
  /** tflite: 'trained' (final training), 'checkpoint' (shared super-network weights) or 'random' (none). */
  weights?: 'trained' | 'checkpoint' | 'random';
  note?: string;
  /** Fetch it with downloadInfo (Electron) or GET /download/<id>?token=… (browser mode). */
  downloadId: string;
}

export interface DownloadInfo {
  path: string;
  fileName: string;
  bytes: number;
  contentType: string;
}

export interface ServerInfo {
  version: string;
  /** Where the engine keeps its data. */
  workspace: string;
  /** Engine operations that this build cannot run yet (they answer 'not_available'). */
  unavailable: string[];
}

// ---- errors --------------------------------------------------------------------------------------------------

export type ApiErrorCode =
  | 'invalid_request'
  | 'unknown_method'
  | 'not_available'
  | 'not_found'
  | 'user_error'
  | 'cancelled'
  | 'internal';

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  /** One line per problem. */
  details: string[];
}

// ---- progress events -----------------------------------------------------------------------------------------

export interface ProgressEvent {
  kind: 'progress';
  /** What is being done, e.g. "measuring layers". */
  phase: string;
  done: number;
  total: number;
  /** Seconds left, when the job can estimate it. */
  etaSeconds?: number;
  message?: string;
  /** done/total is a share, not a count of things: show only the percentage. */
  percentOnly?: boolean;
}

/** Phases of a search job, in order (pipeline/job.ts). */
export type JobPhaseName = 'search' | 'report' | 'test' | 'final-training' | 'int8' | 'export';

export type EngineEvent =
  | ProgressEvent
  | { kind: 'log'; level: 'info' | 'warn'; message: string }
  | { kind: 'run-created'; runId: string }
  | { kind: 'latency-entry'; signature: string; medianUs: number }
  | { kind: 'validation-point'; label: string; predictedUs: number; measuredUs: number }
  | {
      kind: 'train-step';
      epoch: number;
      step: number;
      stepsPerEpoch: number;
      loss: number;
      accuracy?: number;
      imagesPerSecond: number;
    }
  | { kind: 'train-epoch'; epoch: number; epochs: number; loss: number; accuracy?: number; heldOutScore?: number }
  /** Held-out scores of the super-network being trained: the full network and the smallest sub-network. */
  | { kind: 'train-heldout'; epoch: number; full: number; smallest: number }
  /** A phase of a job started, ended, was skipped or interrupted. */
  | { kind: 'phase'; phase: JobPhaseName; status: 'started' | 'done' | 'skipped' | 'interrupted'; message?: string }
  /** Final training steps of a search job. */
  | { kind: 'final-step'; step: number; totalSteps: number; loss: number; imagesPerSecond: number; etaSeconds: number }
  | { kind: 'test-scores'; scores: TestScores }
  | { kind: 'search-sample'; runId: string; iteration: number; score: number; resource: number }
  | ({ kind: 'search-iteration'; runId: string; initialResource: number } & IterationRecord)
  | { kind: 'device'; change: 'added' | 'removed' | 'changed'; device: DeviceSummary };

/** Events of a job: what the engine emits plus the end of the job, which the server adds. */
export type JobEvent =
  | EngineEvent
  | { kind: 'started'; method: string; title?: string }
  | { kind: 'done'; result: unknown }
  | { kind: 'failed'; error: ApiErrorBody }
  | { kind: 'cancelled'; reason: string };
