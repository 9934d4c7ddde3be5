/**
 * A search run in a worker thread: core/search's optimizer over the workspace's RunStore, its events translated to
 * API events. Aborting the signal stops it between two evaluations (the run is then 'interrupted' = paused and
 * resumes where it stopped).
 */
import { createSearchContext, optimizerFor, searchConfigSchema, SqliteRunStore } from '../../../core/search/index.ts';
import type { SearchConfigInput, SearchEvent, SearchResult } from '../../../core/search/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { registerProfilerProviders } from '../../../pipeline/latency-providers.ts';
import type { StartSearchConfig } from '../schemas.ts';
import type { EngineEvent } from '../types.ts';
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

export async function runSearch(rawTask: unknown, ctx: WorkerJobContext): Promise<SearchResult> {
  const task = rawTask as RunSearchTask;
  // Latency-guided searches read (and lazily extend) the workspace's latency tables through these providers.
  registerProfilerProviders();
  const workspace = openWorkspace(task.workspacePath);
  try {
    const store = new SqliteRunStore(workspace);
    const stored = task.resumeRunId !== undefined ? store.getRun(task.resumeRunId) : undefined;
    const searchConfig = searchConfigSchema.parse(stored ? stored.config : { workspace: task.workspacePath, ...toSearchConfig(task.config as StartSearchConfig) });
    const context = await createSearchContext(searchConfig);
    try {
      let initialResource = 0;
      const optimizer = optimizerFor(context, {
        store,
        signal: ctx.signal,
        onEvent: (event) => {
          if (event.type === 'run-start') initialResource = event.initialResource;
          for (const out of translate(event, initialResource)) ctx.emit(out);
        },
      });
      return task.resumeRunId !== undefined ? await optimizer.resume(task.resumeRunId) : await optimizer.start(context.params, searchConfig);
    } finally {
      context.dispose();
    }
  } finally {
    workspace.close();
  }
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
