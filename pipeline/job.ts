/**
 * The one composition of the search job, used by every face (the CLI's `search` and `demo`, the app's search job, the
 * benches): open the parts from the validated configuration → search (resumable) → report → final training of the
 * discovered network when configured (resumable) → its test score and trained .tflite → report again.
 * Super-network training (steps/train-supernet.ts) comes before it where a face trains one.
 */
import { resolve } from 'node:path';
import type { FinalTrainingSummary } from '../core/search/result.ts';
import { MultiTargetMetric } from '../core/metrics/multi-target.ts';
import type { DeviceResource, SearchOutputFiles, SearchReportInput } from '../core/search/report.ts';
import { SqliteRunStore } from '../core/search/run-store.ts';
import type { RunStore, SearchBudget, SearchResult } from '../core/search/types.ts';
import { defaultWorkspacePath, openWorkspace } from '../core/store/workspace.ts';
import type { SearchConfig } from './config.ts';
import type { PipelineListener } from './events.ts';
import { openSearchParts, type GivenParts, type SearchParts } from './search-parts.ts';
import { runFinalTrainingStep } from './steps/final-training.ts';
import { int8StepWanted, runInt8Step } from './steps/int8.ts';
import { reportStep } from './steps/report.ts';
import { runSearchStep } from './steps/search.ts';

export interface SearchJobInput {
  config: SearchConfig;
  /** Continue this run of the workspace (a finished run returns its stored result and continues its final training). */
  resumeRunId?: string;
  /** Replaces the run's budget (with resumeRunId). */
  budget?: SearchBudget;
  /** Workspace file; default the config's "workspace", $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite. */
  workspacePath?: string;
  /**
   * Where network.json and the reports go: a folder, a folder per run id, or false (none). Default: the config's
   * "output", else ./netadapt-output/<run>.
   */
  output?: string | ((runId: string) => string) | false;
}

export interface SearchJobDeps {
  /** Parts the caller already has (benches: trained weights in memory; tests: fakes); the rest come from the config. */
  parts?: GivenParts;
  /** A run store instead of the workspace's (benches: an in-memory workspace). */
  store?: RunStore;
  signal?: AbortSignal;
  onEvent?: PipelineListener;
}

export interface SearchJobOutcome {
  result: SearchResult;
  /** What scores mean ("held-out top-1 accuracy", …). */
  scoreLabel: string;
  outputDir?: string;
  files?: SearchOutputFiles;
  report?: SearchReportInput;
  /** The final training's summary, when configured and finished. */
  finalTraining?: FinalTrainingSummary;
  /** The final training was configured but interrupted: run the job again (resume) to continue it. */
  finalTrainingInterrupted?: boolean;
}

/** A search with targets on several devices: every device's latency of the initial and the discovered network. */
async function deviceResources(parts: SearchParts, result: SearchResult): Promise<DeviceResource[] | undefined> {
  if (!(parts.metric instanceof MultiTargetMetric)) return undefined;
  const found = await parts.metric.describe(result.best.config);
  return found.map((d) => ({ label: d.label, unit: d.unit, initial: d.initial, discovered: d.value, target: d.target }));
}

export async function runSearchJob(input: SearchJobInput, deps: SearchJobDeps = {}): Promise<SearchJobOutcome> {
  const { config } = input;
  const parts: SearchParts = await openSearchParts(config, deps.parts);
  const workspace = deps.store ? undefined : openWorkspace(input.workspacePath ?? config.workspace ?? defaultWorkspacePath());
  try {
    const store = deps.store ?? new SqliteRunStore(workspace as NonNullable<typeof workspace>);
    const result = await runSearchStep({
      parts,
      store,
      config,
      ...(input.resumeRunId !== undefined ? { resumeRunId: input.resumeRunId } : {}),
      ...(input.budget ? { budget: input.budget } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
    });
    const outcome: SearchJobOutcome = { result, scoreLabel: parts.scoreLabel };
    if (input.output === false) return outcome;
    const output = typeof input.output === 'function' ? input.output(result.runId) : input.output;
    const outputDir = resolve(output ?? config.output ?? `netadapt-output/${result.runId}`);
    const devices = await deviceResources(parts, result);
    const report = (finalTraining?: FinalTrainingSummary) => {
      deps.onEvent?.({ type: 'phase', phase: 'report', status: 'started' });
      const written = reportStep({
        store,
        runId: result.runId,
        spec: parts.spec,
        scoreLabel: parts.scoreLabel,
        outputDir,
        ...(finalTraining ? { finalTraining } : {}),
        ...(devices ? { devices } : {}),
      });
      deps.onEvent?.({ type: 'report', files: written.files, report: written.report });
      deps.onEvent?.({ type: 'phase', phase: 'report', status: 'done' });
      Object.assign(outcome, { outputDir, files: written.files, report: written.report });
    };
    report();
    if (!config.finalTraining || result.status !== 'done') {
      if (config.finalTraining) deps.onEvent?.({ type: 'phase', phase: 'final-training', status: 'skipped', message: `the search ended ${result.status}` });
      return outcome;
    }
    const summary = await runFinalTrainingStep({
      config,
      spec: parts.spec,
      result,
      outputDir,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
    });
    if (!summary) {
      outcome.finalTrainingInterrupted = true;
      return outcome;
    }
    if (int8StepWanted(config)) {
      summary.int8 = await runInt8Step({ config, spec: parts.spec, subnet: result.best.config, weightsPath: summary.weightsPath, outputDir, ...(deps.onEvent ? { onEvent: deps.onEvent } : {}) });
    }
    outcome.finalTraining = summary;
    report(summary);
    return outcome;
  } finally {
    workspace?.close();
    parts.dispose();
  }
}
