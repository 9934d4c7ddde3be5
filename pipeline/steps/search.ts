/** Step 2: the search (MCD or SCD) over the opened parts, stored in the workspace's run store; resumable. */
import { SearchOptimizer } from '../../core/search/optimizer.ts';
import type { RunStore, SearchBudget, SearchResult } from '../../core/search/types.ts';
import type { SearchConfig } from '../config.ts';
import type { PipelineListener } from '../events.ts';
import type { SearchParts } from '../search-parts.ts';

export interface SearchStepInput {
  parts: SearchParts;
  store: RunStore;
  /** Stored with a new run (so `--resume` needs nothing else). */
  config: SearchConfig;
  /** Continue this run instead of starting one (a finished run returns its stored result). */
  resumeRunId?: string;
  /** Replaces the run's budget on resume. */
  budget?: SearchBudget;
  signal?: AbortSignal;
  onEvent?: PipelineListener;
}

export async function runSearchStep(input: SearchStepInput): Promise<SearchResult> {
  const { parts } = input;
  input.onEvent?.({ type: 'phase', phase: 'search', status: 'started' });
  const optimizer = new SearchOptimizer({
    spec: parts.spec,
    metric: parts.metric,
    ...(parts.evaluator ? { evaluator: parts.evaluator } : {}),
    ...(parts.fineTuner ? { fineTuner: parts.fineTuner } : {}),
    store: input.store,
    ...(input.signal ? { signal: input.signal } : {}),
    onEvent: (event) => input.onEvent?.({ type: 'search', event }),
  });
  const result = input.resumeRunId === undefined
    ? await optimizer.start(parts.params, input.config)
    : await optimizer.resume(input.resumeRunId, input.budget ? { budget: input.budget } : {});
  input.onEvent?.({ type: 'phase', phase: 'search', status: result.status === 'interrupted' ? 'interrupted' : 'done', message: result.message });
  return result;
}
