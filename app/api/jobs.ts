/** Long operations as jobs: an id, a cancel switch, a stream of events ending in done / failed / cancelled. */
import { randomUUID } from 'node:crypto';
import type { JobContext } from './engine.ts';
import { UserError } from '../../core/errors.ts';
import { CancelledError, NotFoundError, toErrorBody } from './errors.ts';
import type { EngineEvent, JobEvent, JobInfo } from './contract/types.ts';

export type JobListener = (jobId: string, event: JobEvent) => void;

interface JobRecord {
  info: JobInfo;
  controller: AbortController;
  finished: Promise<void>;
}

/** Finished jobs kept for listJobs (oldest dropped first). */
const KEEP_FINISHED = 200;

export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly listener: JobListener;

  constructor(listener: JobListener) {
    this.listener = listener;
  }

  /**
   * Registers the job and starts `run` on the next turn of the event loop, so the caller can answer with the job id
   * before the first event goes out.
   */
  start(method: string, run: (ctx: JobContext) => Promise<unknown>, title: string = method): JobInfo {
    const jobId = randomUUID();
    const controller = new AbortController();
    const info: JobInfo = { jobId, method, title, status: 'running', startedAt: new Date().toISOString() };
    let resolveFinished: () => void = () => {};
    const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    this.jobs.set(jobId, { info, controller, finished });
    const ctx: JobContext = {
      jobId,
      signal: controller.signal,
      emit: (event: EngineEvent) => {
        if (info.status !== 'running') return;
        if (event.kind === 'progress') info.lastProgress = event;
        if (event.kind === 'run-created') info.runId = event.runId;
        this.listener(jobId, event);
      },
    };
    setImmediate(() => {
      this.listener(jobId, { kind: 'started', method, title });
      run(ctx)
        .then(
          (result) => {
            // A job that stops because it was asked to (e.g. a watcher) ends as cancelled, not done.
            if (controller.signal.aborted) this.finish(info, { kind: 'cancelled', reason: abortReason(controller.signal) });
            else this.finish(info, { kind: 'done', result: result ?? null });
          },
          (error: unknown) => {
            if (controller.signal.aborted) this.finish(info, { kind: 'cancelled', reason: abortReason(controller.signal) });
            else this.finish(info, { kind: 'failed', error: toErrorBody(error) });
          },
        )
        .finally(resolveFinished);
    });
    this.prune();
    return { ...info };
  }

  cancel(jobId: string, reason = 'cancelled by the user'): JobInfo {
    const record = this.jobs.get(jobId);
    if (!record) throw new NotFoundError(`no job with id ${jobId}`);
    if (record.info.status === 'running') record.controller.abort(new CancelledError(reason));
    return { ...record.info };
  }

  /** Forgets a finished job (a running one must be cancelled first). */
  dismiss(jobId: string): void {
    const record = this.jobs.get(jobId);
    if (!record) throw new NotFoundError(`no job with id ${jobId}`);
    if (record.info.status === 'running') throw new UserError(`job ${jobId} is still running; cancel it first`);
    this.jobs.delete(jobId);
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((record) => ({ ...record.info }));
  }

  get(jobId: string): JobInfo | undefined {
    const record = this.jobs.get(jobId);
    return record ? { ...record.info } : undefined;
  }

  /** Cancels every running job and waits until each has ended. */
  async cancelAll(reason: string): Promise<void> {
    const running = [...this.jobs.values()].filter((record) => record.info.status === 'running');
    for (const record of running) record.controller.abort(new CancelledError(reason));
    await Promise.all(running.map((record) => record.finished));
  }

  private finish(info: JobInfo, event: JobEvent & { kind: 'done' | 'failed' | 'cancelled' }): void {
    if (info.status !== 'running') return;
    info.endedAt = new Date().toISOString();
    if (event.kind === 'done') {
      info.status = 'done';
      info.result = event.result;
    } else if (event.kind === 'failed') {
      info.status = 'failed';
      info.error = event.error;
    } else {
      info.status = 'cancelled';
    }
    this.listener(info.jobId, event);
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((record) => record.info.status !== 'running');
    for (const record of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.jobs.delete(record.info.jobId);
    }
  }
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
}
