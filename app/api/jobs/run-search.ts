/**
 * A search run in a worker thread: the pipeline's search job (pipeline/job.ts) over the workspace, its events
 * translated to API events. Aborting the signal stops it between two evaluations (the run is then 'interrupted' =
 * paused and resumes where it stopped). Reports go to <workspace folder>/runs/<run id>.
 */
import { dirname, join } from 'node:path';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import type { SearchEvent, SearchResult } from '../../../core/search/types.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { parseSearchConfig, type SearchConfigInput } from '../../../pipeline/config.ts';
import { runSearchJob } from '../../../pipeline/job.ts';
import type { StartSearchConfig } from '../contract/schemas.ts';
import type { EngineEvent } from '../contract/types.ts';
import type { WorkerJobContext } from '../worker-protocol.ts';

export interface RunSearchTask {
  workspacePath: string;
  /** A new run from this configuration, or `resumeRunId` to continue one. */
  config?: StartSearchConfig;
  resumeRunId?: string;
}

/** The API's search configuration in core/search's configuration language. */
export function toSearchConfig(config: StartSearchConfig): SearchConfigInput {
  return {
    network: config.network,
    dataset: config.dataset,
    metric: config.metric === 'latency' ? 'latency-lut' : config.metric,
    ...(config.metric === 'latency' && config.deviceId !== undefined ? { latency: { device: config.deviceId, lazyProfiling: config.lazyProfiling } } : {}),
    target: `${+(config.targetRatio * 100).toFixed(6)}%`,
    algorithm: config.optimizer,
    J: config.samplesPerIteration,
    L: config.layersPerSample,
    reduction: config.initialReduction,
    decay: config.reductionDecay,
    seed: config.seed,
    budget: { maxIterations: config.maxIterations },
    ...(config.checkpoint !== undefined ? { checkpoint: config.checkpoint } : {}),
    evaluator: config.evaluator === 'synthetic' ? { kind: 'synthetic', seed: config.seed } : { kind: 'supernet', limit: config.evalImages },
  };
}

/** Where the app keeps a run's reports (network.json, report.html, …). */
export function runOutputDir(workspacePath: string, runId: string): string {
  return join(workspacePath === ':memory:' ? '.' : dirname(workspacePath), 'runs', runId);
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
    storedConfig ?? { workspace: task.workspacePath, ...toSearchConfig(task.config as StartSearchConfig) },
    task.resumeRunId !== undefined ? `the configuration stored with run ${task.resumeRunId}` : 'the search settings',
  );
  let initialResource = 0;
  const outcome = await runSearchJob(
    {
      config,
      workspacePath: task.workspacePath,
      ...(task.resumeRunId !== undefined ? { resumeRunId: task.resumeRunId } : {}),
      output: (runId) => runOutputDir(task.workspacePath, runId),
    },
    {
      signal: ctx.signal,
      onEvent: (event) => {
        if (event.type !== 'search') return;
        if (event.event.type === 'run-start') initialResource = event.event.initialResource;
        for (const out of translate(event.event, initialResource)) ctx.emit(out);
      },
    },
  );
  return outcome.result;
}

function translate(event: SearchEvent, initialResource: number): EngineEvent[] {
  switch (event.type) {
    case 'run-start':
      return [
        { kind: 'run-created', runId: event.runId },
        { kind: 'log', level: 'info', message: `${event.resumed ? 'resumed' : 'started'} run ${event.runId}: target ${event.finalTarget} ${event.unit}` },
      ];
    case 'iteration-start':
      return [{ kind: 'progress', phase: `iteration ${event.iteration}`, done: 0, total: 1, message: `target ${event.target.toFixed(0)}` }];
    case 'sample':
      return [
        { kind: 'search-sample', runId: event.runId, iteration: event.iteration, score: event.score, resource: event.resource },
        { kind: 'progress', phase: `iteration ${event.iteration}: evaluating samples`, done: event.index + 1, total: event.of },
      ];
    case 'iteration-best':
      return [
        {
          kind: 'search-iteration',
          runId: event.runId,
          iteration: event.iteration,
          bestScore: event.score,
          bestResource: event.resource,
          targetResource: event.target,
          samples: event.samples,
          initialResource,
        },
      ];
    default:
      return [];
  }
}
