/**
 * Search jobs: the pipeline's whole search job (jobs/run-search.ts) in a worker thread, started, resumed, paused
 * (stops after the current evaluation; resumes where it stopped) and cancelled.
 */
import { UserError } from '../../../core/errors.ts';
import { ownerIsLive } from '../../../core/search/run-state.ts';
import type { ValidParamsOf } from '../contract/methods.ts';
import type { RunSummary } from '../contract/types.ts';
import type { JobContext } from '../engine.ts';
import { CancelledError, NotAvailableError } from '../errors.ts';
import type { RunSearchTask } from '../jobs/run-search.ts';
import { runJobInWorker } from '../worker-runner.ts';
import { loadZooNetwork, type EngineContext } from './context.ts';

interface ActiveSearch {
  stop: AbortController;
  /** Why it was stopped, when the user asked. */
  reason?: 'pause' | 'cancel';
  /** Resolves once the worker has stopped and the run's status is final. */
  finished: Promise<void>;
}

export class SearchOperations {
  private readonly active = new Map<string, ActiveSearch>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly resolveCheckpoint: (checkpoint: string) => string,
    private readonly summarize: (runId: string) => RunSummary,
  ) {}

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  async startSearch(params: ValidParamsOf<'startSearch'>, job: JobContext): Promise<RunSummary> {
    loadZooNetwork(params.network);
    const checkpointDir = params.evaluator === 'supernet' && params.checkpoint !== undefined ? this.resolveCheckpoint(params.checkpoint) : undefined;
    return this.searchInWorker({ workspacePath: this.ctx.workspacePath, config: params, ...(checkpointDir !== undefined ? { checkpointDir } : {}) }, job);
  }

  async resumeSearch(params: ValidParamsOf<'resumeSearch'>, job: JobContext): Promise<RunSummary> {
    const run = this.ctx.requireRun(params.runId);
    if (this.active.has(run.id)) throw new UserError(`run ${run.id} is already running`);
    return this.searchInWorker({ workspacePath: this.ctx.workspacePath, resumeRunId: run.id }, job);
  }

  async pauseSearch(params: ValidParamsOf<'pauseSearch'>): Promise<RunSummary> {
    const active = this.active.get(params.runId);
    if (!active) {
      const run = this.ctx.requireRun(params.runId);
      throw new UserError(`run ${run.id} is not running in this app (status: ${run.status}); nothing to pause`);
    }
    active.reason = 'pause';
    active.stop.abort(new CancelledError('paused by the user'));
    await active.finished;
    return this.summarize(params.runId);
  }

  async cancelSearch(params: ValidParamsOf<'cancelSearch'>): Promise<RunSummary> {
    const active = this.active.get(params.runId);
    if (active) {
      active.reason = 'cancel';
      active.stop.abort(new CancelledError('cancelled by the user'));
      await active.finished;
      return this.summarize(params.runId);
    }
    const store = this.ctx.runStore();
    const run = this.ctx.requireRun(params.runId);
    if (run.status === 'running' && run.ownerPid !== process.pid && ownerIsLive(run)) {
      throw new NotAvailableError('cancelling a search of another process', 'cross-process cancellation');
    }
    if (run.status === 'running' || run.status === 'interrupted') store.setRunStatus(run.id, 'failed', 'cancelled by the user');
    return this.summarize(params.runId);
  }

  /** Runs the search job in a worker thread; pause/cancel abort it between two evaluations or training steps. */
  private async searchInWorker(task: RunSearchTask, job: JobContext): Promise<RunSummary> {
    if (this.ctx.inMemory) {
      throw new UserError('a search needs a workspace file (its runs are shared with a worker thread); start the app with --workspace <file>');
    }
    this.ctx.runStore(); // applies the search tables' migrations before the worker opens the file
    let markFinished: () => void = () => {};
    const active: ActiveSearch = { stop: new AbortController(), finished: new Promise<void>((resolve) => (markFinished = resolve)) };
    const forwardAbort = () => active.stop.abort(job.signal.reason);
    job.signal.addEventListener('abort', forwardAbort, { once: true });
    let runId = task.resumeRunId;
    if (runId !== undefined) this.active.set(runId, active);
    try {
      const result = (await runJobInWorker(
        { job: 'runSearch', params: task },
        {
          signal: active.stop.signal,
          emit: (event) => {
            if (event.kind === 'run-created') {
              runId = event.runId;
              this.active.set(runId, active);
            }
            job.emit(event);
          },
        },
        // The final training checkpoints after its current step when stopped.
        { workerUrl: this.ctx.options.workerUrl, cancelGraceMs: 60_000 },
      )) as { runId: string };
      runId = result.runId;
    } finally {
      job.signal.removeEventListener('abort', forwardAbort);
      if (runId !== undefined) this.active.delete(runId);
      if (active.reason === 'cancel' && runId !== undefined) this.ctx.runStore().setRunStatus(runId, 'failed', 'cancelled by the user');
      markFinished();
    }
    return this.summarize(runId);
  }
}
