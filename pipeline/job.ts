/**
 * The one composition of the search job, used by every face (the CLI's `search` and `demo`, the app's search job, the
 * benches): open the parts from the validated configuration → search (resumable) → report → final training of the
 * discovered network when configured (resumable) → its test score and trained .tflite → report again.
 * Super-network training (steps/train-supernet.ts) comes before it where a face trains one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomically } from '../core/fs-errors.ts';
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
import { testScoreStep } from './steps/test-score.ts';
import { openJobDataset } from './dataset.ts';

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
  /**
   * Also score the initial and the discovered network on the test split with the super-network's weights (before
   * any final training), into <output>/test-scores.json (kept: a resumed job reads it back).
   */
  scoreOnTest?: boolean;
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
  /** With `scoreOnTest`: the test split's scores with the shared weights. */
  testScores?: StoredTestScores;
}

/** <output>/test-scores.json: top-1 (or δ1) on the test split of the full and the discovered network, shared weights. */
export interface StoredTestScores {
  full: number;
  discovered: number;
  metrics: { full: Record<string, number>; discovered: Record<string, number> };
}

export const TEST_SCORES_FILE = 'test-scores.json';

/** A search with targets on several devices: every device's latency of the initial and the discovered network. */
async function deviceResources(parts: SearchParts, result: SearchResult): Promise<DeviceResource[] | undefined> {
  if (!(parts.metric instanceof MultiTargetMetric)) return undefined;
  const found = await parts.metric.describe(result.best.config);
  return found.map((d) => ({ label: d.label, unit: d.unit, initial: d.initial, discovered: d.value, target: d.target }));
}

async function scoreOnTestSplit(config: SearchConfig, parts: SearchParts, result: SearchResult, outputDir: string, deps: SearchJobDeps): Promise<StoredTestScores> {
  const file = join(outputDir, TEST_SCORES_FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as StoredTestScores;
  deps.onEvent?.({ type: 'phase', phase: 'test', status: 'started', message: 'the initial and the discovered network on the test split (shared weights)' });
  const dataset = await openJobDataset(config.dataset, 'scoring on the test split needs "dataset"');
  const evaluator = config.evaluator as Record<string, unknown>;
  const scores = await testScoreStep({
    spec: parts.spec,
    checkpoint: config.checkpoint as string,
    dataset,
    subnet: result.best.config,
    ...(typeof evaluator['calibrationBatches'] === 'number' ? { calibrationBatches: evaluator['calibrationBatches'] } : {}),
  });
  const stored: StoredTestScores = {
    full: scores.full.score,
    discovered: scores.discovered.score,
    metrics: { full: scores.full.metrics, discovered: scores.discovered.metrics },
  };
  writeFileAtomically(file, `${JSON.stringify(stored, null, 2)}\n`, 'the test scores');
  deps.onEvent?.({ type: 'test', full: scores.full, discovered: scores.discovered });
  deps.onEvent?.({ type: 'phase', phase: 'test', status: 'done' });
  return stored;
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
    if (input.scoreOnTest && result.status === 'done' && config.checkpoint !== undefined && config.evaluator.kind === 'supernet' && config.fineTuneSteps === undefined) {
      outcome.testScores = await scoreOnTestSplit(config, parts, result, outputDir, deps);
    }
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
