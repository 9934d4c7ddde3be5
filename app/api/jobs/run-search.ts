/**
 * A search job in a worker thread: the pipeline's search job (pipeline/job.ts) over the workspace — search, report,
 * test scores, final training, trained .tflite, report — its events translated to API events. Aborting the signal
 * stops it between two evaluations or training steps (the run is then paused and resumes where it stopped). Outputs go
 * to <workspace folder>/runs/<run id>.
 */
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import type { SearchEvent, SearchResult } from '../../../core/search/types.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { parseSearchConfig } from '../../../pipeline/config.ts';
import { runSearchJob } from '../../../pipeline/job.ts';
import type { StartSearchConfig } from '../contract/schemas.ts';
import { formatResource } from '../../../core/units.ts';
import type { PipelineEvent } from '../../../pipeline/events.ts';
import { searchConfigFromOptions } from '../../search-options.ts';
import { runOutputDir } from '../paths.ts';
import type { EngineEvent } from '../contract/types.ts';
import type { WorkerJobContext } from '../worker-protocol.ts';

export interface RunSearchTask {
  workspacePath: string;
  /** A new run from these options, or `resumeRunId` to continue one. */
  config?: StartSearchConfig;
  /** The checkpoint folder the options' checkpoint id names. */
  checkpointDir?: string;
  resumeRunId?: string;
}

export async function runSearch(rawTask: unknown, ctx: WorkerJobContext): Promise<SearchResult> {
  const task = rawTask as RunSearchTask;
  let storedConfig: unknown;
  if (task.resumeRunId !== undefined) {
    const workspace = openWorkspace(task.workspacePath);
    try {
      storedConfig = new SqliteRunStore(workspace).getRun(task.resumeRunId)?.config;
    } finally {
      workspace.close();
    }
  }
  const config = parseSearchConfig(
    storedConfig ?? searchConfigFromOptions(task.config as StartSearchConfig, { workspace: task.workspacePath, ...(task.checkpointDir !== undefined ? { checkpoint: task.checkpointDir } : {}) }),
    task.resumeRunId !== undefined ? `the configuration stored with run ${task.resumeRunId}` : 'the search settings',
  );
  const translator = new EventTranslator(ctx);
  const outcome = await runSearchJob(
    {
      config,
      workspacePath: task.workspacePath,
      ...(task.resumeRunId !== undefined ? { resumeRunId: task.resumeRunId } : {}),
      output: (runId) => runOutputDir(task.workspacePath, runId),
      scoreOnTest: true,
    },
    { signal: ctx.signal, onEvent: (event) => translator.on(event) },
  );
  return outcome.result;
}

/** Pipeline events → API events, with an ETA for the search (from how fast the resource falls toward the target). */
class EventTranslator {
  private initialResource = 0;
  private finalTarget = 0;
  private startedAt = 0;

  constructor(private readonly ctx: WorkerJobContext) {}

  on(event: PipelineEvent): void {
    switch (event.type) {
      case 'phase':
        if (event.phase !== 'supernet') this.ctx.emit({ kind: 'phase', phase: event.phase, status: event.status, ...(event.message ? { message: event.message } : {}) });
        break;
      case 'search':
        for (const out of this.translateSearch(event.event)) this.ctx.emit(out);
        break;
      case 'final-training': {
        const e = event.event;
        this.ctx.emit({ kind: 'final-step', step: e.step, totalSteps: e.totalSteps, loss: e.loss, imagesPerSecond: e.imagesPerSec, etaSeconds: e.etaSec });
        this.ctx.emit({ kind: 'progress', phase: 'final training', done: e.step, total: e.totalSteps, etaSeconds: Math.round(e.etaSec), message: `loss ${e.loss.toFixed(3)}, ${e.imagesPerSec.toFixed(0)} images/s` });
        break;
      }
      case 'test':
        this.ctx.emit({ kind: 'test-scores', scores: { full: event.full.score, before: event.discovered.score } });
        break;
      default:
        break;
    }
  }

  private translateSearch(event: SearchEvent): EngineEvent[] {
    switch (event.type) {
      case 'run-start':
        this.initialResource = event.initialResource;
        this.finalTarget = event.finalTarget;
        this.startedAt = Date.now();
        return [
          { kind: 'run-created', runId: event.runId },
          { kind: 'log', level: 'info', message: `${event.resumed ? 'resumed' : 'started'} run ${event.runId}: target ${formatResource(event.finalTarget, event.unit)}` },
        ];
      case 'sample':
        return [
          { kind: 'search-sample', runId: event.runId, iteration: event.iteration, score: event.score, resource: event.resource },
          { kind: 'progress', phase: event.iteration < 0 ? 'scoring the initial network' : `iteration ${event.iteration + 1}: scoring samples`, done: event.index + 1, total: event.of },
        ];
      case 'iteration-best': {
        const progress = this.searchProgress(event.resource);
        return [
          {
            kind: 'search-iteration',
            runId: event.runId,
            iteration: event.iteration,
            bestScore: event.score,
            bestResource: event.resource,
            targetResource: event.target,
            samples: event.samples,
            initialResource: this.initialResource,
          },
          ...(progress ? [progress] : []),
        ];
      }
      default:
        return [];
    }
  }

  /** Share of the way from the initial resource to the target, and the time left at the pace so far. */
  private searchProgress(resource: number): EngineEvent | undefined {
    const span = this.initialResource - this.finalTarget;
    if (!(span > 0)) return undefined;
    const fraction = Math.min(1, Math.max(0, (this.initialResource - resource) / span));
    const elapsed = (Date.now() - this.startedAt) / 1000;
    return {
      kind: 'progress',
      phase: 'search, resource toward the target',
      done: Math.round(fraction * 1000),
      total: 1000,
      percentOnly: true,
      ...(fraction > 0.02 && fraction < 1 ? { etaSeconds: Math.round((elapsed * (1 - fraction)) / fraction) } : {}),
    };
  }
}
