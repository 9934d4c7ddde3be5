/**
 * Latency-table jobs (build and validate) for the job worker: they open the workspace file themselves, open the
 * profiler of the requested device and translate the latency profiler progress into API events. The same
 * functions run on the engine's thread against an in-memory workspace (tests), given a store.
 */
import { loadNetwork } from '../../../core/arch/index.ts';
import type { SearchableLayer } from '../../../core/arch/layers.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { buildLatencyTable, type LutBuildProgress, type LutBuildResult } from '../../../latency/lut/build.ts';
import { validateLatencyTable, type ValidationPair } from '../../../latency/lut/validate.ts';
import { openProfiler } from '../../../latency/open-profiler.ts';
import type { Profiler } from '../../../latency/profiler.ts';
import type { Delegate } from '../../../latency/android/benchmark/delegates.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import type { EngineEvent } from '../contract/types.ts';
import type { WorkerJobContext } from '../worker-protocol.ts';

export interface ProfilerTarget {
  /** 'host' or an adb serial. */
  deviceId: string;
  adbHost?: string;
  adbPort?: number;
  threads?: number;
  cpuMask?: string;
  warmupRuns?: number;
  numRuns?: number;
  /** float32 (default) or int8 models: an int8 table is a table of its own. */
  dtype?: 'float32' | 'int8';
  delegate?: Delegate;
}

export interface LatencyBuildTask extends ProfilerTarget {
  workspacePath: string;
  network: string;
  /** Width levels to enumerate (each layer keeps the ones it allows; default: all). */
  levels?: number[];
  /** Kernel sizes to enumerate (each layer keeps the ones it allows; default: all). */
  kernels?: number[];
  batchSize?: number;
  retryFailed?: boolean;
}

export interface LatencyValidateTask extends ProfilerTarget {
  workspacePath: string;
  network: string;
  samples: number;
  seed: number;
}

export interface LatencyBuildOutcome extends Omit<LutBuildResult, 'failed'> {
  failed: number;
  failures: LutBuildResult['failed'];
}

export interface LatencyValidation {
  points: number;
  meanAbsErrorPercent: number;
  medianRelativeError: number;
  p90RelativeError: number;
  overheadUs: number;
  deviceId: string;
  runtimeOptions: string;
  pairs: ValidationPair[];
}

export async function buildLatencyTableJob(raw: unknown, ctx: WorkerJobContext): Promise<LatencyBuildOutcome> {
  const task = raw as LatencyBuildTask;
  const workspace = openWorkspace(task.workspacePath);
  try {
    return await buildWithStore(task, new LatencyStore(workspace), ctx);
  } finally {
    workspace.close();
  }
}

export async function validateLatencyTableJob(raw: unknown, ctx: WorkerJobContext): Promise<LatencyValidation> {
  const task = raw as LatencyValidateTask;
  const workspace = openWorkspace(task.workspacePath);
  try {
    return await validateWithStore(task, new LatencyStore(workspace), ctx);
  } finally {
    workspace.close();
  }
}

export async function buildWithStore(task: LatencyBuildTask, store: LatencyStore, ctx: WorkerJobContext): Promise<LatencyBuildOutcome> {
  const spec = loadNetwork(task.network);
  const profiler = await openTarget(task);
  try {
    ctx.emit({ kind: 'log', level: 'info', message: `measuring layers of ${spec.name} on ${profiler.label}` });
    const result = await buildLatencyTable({
      spec,
      profiler,
      store,
      ...(task.levels ? { levels: restrictLevels(task.levels, spec.widthLevels) } : {}),
      ...(task.kernels ? { kernels: restrictKernels(task.kernels) } : {}),
      batchSize: task.batchSize ?? 16,
      retryFailed: task.retryFailed ?? false,
      signal: ctx.signal,
      onProgress: (progress) => ctx.emit(progressEvent('measuring layers', progress)),
    });
    const { failed, ...rest } = result;
    return { ...rest, failed: failed.length, failures: failed.slice(0, 20) };
  } finally {
    await profiler.close?.();
  }
}

export async function validateWithStore(task: LatencyValidateTask, store: LatencyStore, ctx: WorkerJobContext): Promise<LatencyValidation> {
  const spec = loadNetwork(task.network);
  const profiler = await openTarget(task);
  try {
    const result = await validateLatencyTable({
      spec,
      profiler,
      store,
      samples: task.samples,
      seed: task.seed,
      onProgress: (message) => ctx.emit({ kind: 'log', level: 'info', message }),
      onLutProgress: (progress) => ctx.emit(progressEvent('measuring missing layers', progress)),
    });
    for (const pair of result.pairs) {
      ctx.emit({ kind: 'validation-point', label: pair.subnet, predictedUs: pair.predictedUs, measuredUs: pair.measuredUs });
    }
    const heldOut = result.pairs.filter((p) => !p.calibration);
    const meanAbs = heldOut.length > 0 ? (heldOut.reduce((sum, p) => sum + p.relativeError, 0) / heldOut.length) * 100 : Number.NaN;
    return {
      points: result.pairs.length,
      meanAbsErrorPercent: meanAbs,
      medianRelativeError: result.medianRelativeError,
      p90RelativeError: result.p90RelativeError,
      overheadUs: result.overheadUs,
      deviceId: profiler.deviceId,
      runtimeOptions: profiler.runtimeOptions,
      pairs: result.pairs,
    };
  } finally {
    await profiler.close?.();
  }
}

async function openTarget(target: ProfilerTarget): Promise<Profiler> {
  const profiler = await openProfiler({
    device: target.deviceId,
    ...(target.adbHost !== undefined ? { adbHost: target.adbHost } : {}),
    ...(target.adbPort !== undefined ? { adbPort: target.adbPort } : {}),
    ...(target.threads !== undefined ? { threads: target.threads } : {}),
    ...(target.cpuMask !== undefined ? { cpuMask: target.cpuMask } : {}),
    ...(target.warmupRuns !== undefined ? { warmupRuns: target.warmupRuns } : {}),
    ...(target.numRuns !== undefined ? { numRuns: target.numRuns } : {}),
    ...(target.dtype !== undefined ? { dtype: target.dtype } : {}),
    ...(target.delegate !== undefined ? { delegate: target.delegate } : {}),
  });
  return target.deviceId === 'host' ? oneModelAtATime(profiler) : profiler;
}

/**
 * The host profiler measures a whole batch without returning to the event loop, so a worker would not see its
 * cancel message until the batch is over. Measuring one model per call, with a turn of the event loop in
 * between, lets cancellation stop the build after the model in flight.
 */
function oneModelAtATime(profiler: Profiler): Profiler {
  const measure: Profiler['measure'] = async (models, callbacks) => {
    for (const model of models) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (callbacks.signal?.aborted) return;
      await profiler.measure([model], callbacks);
    }
  };
  const close = profiler.close?.bind(profiler);
  return {
    deviceId: profiler.deviceId,
    label: profiler.label,
    fingerprint: profiler.fingerprint,
    runtimeOptions: profiler.runtimeOptions,
    measure,
    ...(close ? { close } : {}),
  };
}

/** The requested width levels a layer allows; a layer allowing none of them keeps its full width. */
function restrictLevels(levels: readonly number[], widthLevels: number): (layer: SearchableLayer) => number[] {
  return (layer) => {
    const allowed = levels.filter((level) => level >= layer.minLevel && level < widthLevels);
    return allowed.length > 0 ? allowed : [widthLevels - 1];
  };
}

/** The requested kernel sizes a layer allows; a layer allowing none of them keeps its full kernel. */
function restrictKernels(kernels: readonly number[]): (layer: SearchableLayer) => number[] {
  return (layer) => {
    const allowed = layer.kernels.filter((kernel) => kernels.includes(kernel));
    return allowed.length > 0 ? allowed : [layer.fullKernel];
  };
}

function progressEvent(phase: string, progress: LutBuildProgress): EngineEvent {
  return {
    kind: 'progress',
    phase,
    done: progress.done,
    total: progress.total,
    ...(progress.etaSec !== null ? { etaSeconds: Math.round(progress.etaSec) } : {}),
    message:
      `${progress.measuredThisRun} measured this run${progress.failedThisRun > 0 ? `, ${progress.failedThisRun} failed` : ''}` +
      (progress.waiting ? `; waiting ${progress.waiting.elapsedSec} s of ${progress.waiting.limitSec} s for ${progress.waiting.signature}` : ''),
  };
}
