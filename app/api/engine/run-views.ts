/**
 * A search run as the app shows it: its summary (status including "interrupted" when its process is gone, what its
 * scores are), and its details — trajectory, the discovered network against the initial one unit by unit, latency,
 * test scores before and after the final training — read from the run store and the run's output folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fullSubnet, searchSpace, type NetworkSpec } from '../../../core/arch/index.ts';
import { loadSearchResult, type FinalTrainingSummary } from '../../../core/search/result.ts';
import { runState, type RunState } from '../../../core/search/run-state.ts';
import type { RunRecord, RunStore } from '../../../core/search/types.ts';
import { TEST_SCORES_FILE, type StoredTestScores } from '../../../pipeline/job.ts';
import { architectureView } from '../architecture.ts';
import type { ArchitectureView, LayerComparisonRow, RunDetails, RunStatus, RunSummary, ScoreKind, TestScores } from '../contract/types.ts';
import { loadZooNetwork } from './context.ts';

/** The run's output files the app reads. */
export interface RunOutputs {
  dir: string;
  finalTraining?: FinalTrainingSummary;
  test?: StoredTestScores;
  report: boolean;
}

export function readRunOutputs(dir: string): RunOutputs {
  const json = <T>(file: string): T | undefined => {
    try {
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
    } catch {
      return undefined;
    }
  };
  const finalTraining = json<FinalTrainingSummary>(join(dir, 'final-training', 'summary.json'));
  const test = json<StoredTestScores>(join(dir, TEST_SCORES_FILE));
  return { dir, ...(finalTraining ? { finalTraining } : {}), ...(test ? { test } : {}), report: existsSync(join(dir, 'report.html')) };
}

function configOf(run: RunRecord): Record<string, unknown> {
  return typeof run.config === 'object' && run.config !== null ? (run.config as Record<string, unknown>) : {};
}

/** What the run's scores are: the synthetic evaluator's dry-run score is not an accuracy. */
export function scoreKindOf(run: RunRecord): { kind: ScoreKind; label: string } {
  const evaluator = configOf(run)['evaluator'] as { kind?: string } | undefined;
  if (evaluator?.kind === 'synthetic') return { kind: 'synthetic', label: 'synthetic score (not an accuracy)' };
  if (run.params.fineTuneSteps !== undefined) return { kind: 'accuracy', label: 'held-out accuracy after fine-tuning' };
  return { kind: 'accuracy', label: 'held-out top-1 accuracy (shared weights)' };
}

export function runStatus(run: RunRecord, activeHere: boolean, outputs: RunOutputs): RunStatus {
  if (run.status === 'failed') return run.message === 'cancelled by the user' ? 'cancelled' : 'failed';
  if (run.status === 'running') {
    if (activeHere) return 'running';
    // 'running' with its owner process gone (kill -9, crash): interrupted, not running forever.
    return runState(run).ownerGone ? 'interrupted' : 'running';
  }
  if (run.status === 'interrupted') return 'paused';
  // The search is done; a configured final training that has not finished keeps the job open.
  if (configOf(run)['finalTraining'] !== undefined && run.status === 'done' && !outputs.finalTraining) return activeHere ? 'running' : 'paused';
  return 'done';
}

function describeTarget(run: RunRecord): string {
  const target = configOf(run)['target'];
  const of = run.metricUnit === 'ms' ? 'latency' : run.metricUnit;
  return typeof target === 'string' ? `${target.trim()} of its ${of}` : typeof target === 'number' ? `${target} ${run.metricUnit}` : 'its target';
}

export function runSummary(run: RunRecord, activeHere: boolean, outputs: RunOutputs): RunSummary {
  const score = scoreKindOf(run);
  const device = (configOf(run)['latency'] as { device?: string } | undefined)?.device;
  const status = runStatus(run, activeHere, outputs);
  // What the CLI says of a stopped run, and the command that continues it (core/search/run-state.ts).
  const resume: RunState = activeHere ? { status: run.status, resumable: false, ownerGone: false } : runState(run);
  return {
    runId: run.id,
    kind: 'search',
    title: `search ${run.network} → ${describeTarget(run)}${device ? ` on ${device === 'host' ? 'this computer' : device}` : ''}`,
    network: run.network,
    status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    metric: run.metric === 'latency-lut' || run.metric === 'latency-measured' ? 'latency' : run.metric,
    unit: run.metricUnit,
    iterations: run.iterations,
    message: resume.ownerGone ? (resume.note as string) : run.message ?? '',
    ...(resume.status === 'interrupted' ? { interrupted: true } : {}),
    ...(resume.resumeCommand !== undefined && status !== 'cancelled' && status !== 'running' ? { resumeCommand: resume.resumeCommand } : {}),
    ...(run.initialResource !== null ? { initialResource: run.initialResource } : {}),
    ...(run.bestResource !== null ? { bestResource: run.bestResource } : {}),
    ...(run.bestScore !== null ? { bestScore: run.bestScore } : {}),
    scoreKind: score.kind,
    scoreLabel: score.label,
    ...(outputs.finalTraining?.test ? { finalTestScore: outputs.finalTraining.test.score } : {}),
  };
}

function testScores(outputs: RunOutputs): TestScores {
  const final = outputs.finalTraining;
  return {
    ...(outputs.test ? { full: outputs.test.full, before: outputs.test.discovered } : {}),
    ...(final?.test ? { after: final.test.score } : {}),
    ...(final?.before !== undefined ? { heldoutBefore: final.before } : {}),
    ...(final ? { heldoutAfter: final.heldout.score } : {}),
  };
}

/** Every unit of the network before and after, paired by position (the table keeps removed units, marked). */
export function compareArchitectures(before: ArchitectureView, after: ArchitectureView): LayerComparisonRow[] {
  return after.rows.map((row, i) => {
    const initial = before.rows[i] ?? row;
    const widths = (r: typeof row) => ({ exp: r.exp, dw: r.dw, pw: r.pw, se: r.se });
    const changed = row.removed || initial.kernel !== row.kernel || JSON.stringify(widths(initial)) !== JSON.stringify(widths(row));
    return {
      index: row.index,
      name: row.name,
      type: row.type,
      kernelBefore: initial.kernel,
      kernelAfter: row.kernel,
      before: widths(initial),
      after: widths(row),
      removed: row.removed,
      bypass: row.bypass && !row.removed,
      macsBefore: initial.macs,
      macsAfter: row.macs,
      changed,
    };
  });
}

export function runDetails(store: RunStore, run: RunRecord, summary: RunSummary, outputs: RunOutputs): RunDetails {
  const result = loadSearchResult(store, run.id);
  const trajectory = (result?.trajectory ?? []).map((point) => ({
    iteration: point.iteration,
    bestScore: point.score,
    bestResource: point.resource,
    targetResource: point.target,
    samples: point.samples,
  }));
  const lastIteration = store.listIterations(run.id).at(-1);
  const lastSamples = lastIteration
    ? store
        .getSamples(run.id, lastIteration.iteration)
        .filter((s) => s.score !== null)
        .map((s) => ({ iteration: s.iteration, score: s.score as number, resource: s.resource }))
    : [];
  let spec: NetworkSpec | undefined;
  try {
    spec = loadZooNetwork(run.network);
  } catch {
    // A run of a network file that is gone: the tables cannot be rebuilt, the numbers still show.
  }
  const architecture = spec && result ? architectureView(spec, result.best.config) : undefined;
  const initialArchitecture = spec ? architectureView(spec, fullSubnet(searchSpace(spec))) : undefined;
  const final = outputs.finalTraining;
  const device = (configOf(run)['latency'] as { device?: string } | undefined)?.device;
  return {
    ...summary,
    config: { ...configOf(run), params: run.params },
    trajectory,
    ...(run.finalTarget !== null ? { finalTarget: run.finalTarget } : {}),
    lastSamples,
    ...(architecture ? { architecture } : {}),
    ...(initialArchitecture ? { initialArchitecture } : {}),
    comparison: architecture && initialArchitecture ? compareArchitectures(initialArchitecture, architecture) : [],
    ...(run.metricUnit === 'ms' && result
      ? { latency: { initialMs: result.initialResource, discoveredMs: result.best.resource, device: device ?? '' } }
      : {}),
    test: testScores(outputs),
    ...(final ? { finalTraining: { mode: final.mode, distill: final.distill, steps: final.steps, seconds: final.seconds, tflite: final.tflite !== undefined && existsSync(final.tflite) } } : {}),
    report: outputs.report,
  };
}
