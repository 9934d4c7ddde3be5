/** Messages between the engine and a job worker thread (see worker-runner.ts and job-worker.ts). */
import type { ApiErrorBody, EngineEvent } from './contract/types.ts';

export interface WorkerTask {
  /** Name of the job in job-registry.ts, or of the export of `moduleUrl`. */
  job: string;
  /** A module to take the job function from instead of the registry (tests, plug-ins). */
  moduleUrl?: string;
  params: unknown;
}

export type ToWorker = { type: 'start'; task: WorkerTask } | { type: 'cancel'; reason: string };

export type FromWorker =
  | { type: 'event'; event: EngineEvent }
  | { type: 'done'; result: unknown }
  | { type: 'error'; error: ApiErrorBody };

/** What a job function running in a worker gets: the same shape as the engine's JobContext, minus the job id. */
export interface WorkerJobContext {
  readonly signal: AbortSignal;
  emit(event: EngineEvent): void;
}

export type WorkerJob = (params: unknown, ctx: WorkerJobContext) => Promise<unknown>;
