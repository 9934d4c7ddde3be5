/** Builds a run's result (best network, trajectory) from what the RunStore holds. */
import type { RunRecord, RunStore, SampleRecord, SearchOutcome, SearchResult, TrajectoryPoint } from './types.ts';

/** Best of an iteration's evaluated samples: highest score, then lowest resource, then lowest index. */
export function pickBest<T extends Pick<SampleRecord, 'score' | 'resource' | 'index'>>(samples: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const sample of samples) {
    if (sample.score === null) continue;
    if (
      best === undefined ||
      sample.score > (best.score as number) ||
      (sample.score === best.score && (sample.resource < best.resource || (sample.resource === best.resource && sample.index < best.index)))
    ) {
      best = sample;
    }
  }
  return best;
}

/** The best sample of every finished iteration (the initial network first, as iteration -1). */
export function loadTrajectory(store: RunStore, runId: string): TrajectoryPoint[] {
  const points: TrajectoryPoint[] = [];
  for (const iteration of store.listIterations(runId)) {
    if (iteration.status !== 'done' || iteration.bestIndex === null) continue;
    const samples = store.getSamples(runId, iteration.iteration);
    const best = samples.find((s) => s.index === iteration.bestIndex);
    if (!best || best.score === null) continue;
    points.push({
      iteration: iteration.iteration,
      target: iteration.target,
      resource: best.resource,
      score: best.score,
      config: best.config,
      samples: samples.length,
    });
  }
  return points;
}

export function outcomeOf(run: RunRecord): SearchOutcome {
  return run.status === 'done' || run.status === 'unreachable' || run.status === 'budget' ? run.status : 'interrupted';
}

/** The result as the store has it now; undefined when not even the initial network has been evaluated. */
export function loadSearchResult(store: RunStore, runId: string): SearchResult | undefined {
  const run = store.getRun(runId);
  if (!run || run.initialResource === null || run.finalTarget === null) return undefined;
  const trajectory = loadTrajectory(store, runId);
  const best = trajectory[trajectory.length - 1];
  if (!best) return undefined;
  const samplesEvaluated = store.getSamples(runId).filter((s) => s.score !== null).length;
  return {
    runId,
    status: outcomeOf(run),
    message: run.message ?? `run ${run.status}`,
    unit: run.metricUnit,
    initialResource: run.initialResource,
    finalTarget: run.finalTarget,
    best,
    trajectory,
    iterations: trajectory.filter((p) => p.iteration >= 0).length,
    samplesEvaluated,
  };
}

/** What the final training of the discovered network produced (core/search/final-training.ts), for the reports. */
export interface FinalTrainingSummary {
  mode: 'supernet' | 'scratch' | 'trajectory';
  distill: boolean;
  steps: number;
  seconds: number;
  /** Held-out score of the starting weights (before the final training). */
  before?: number;
  heldout: { score: number; metrics: Record<string, number> };
  test?: { score: number; metrics: Record<string, number> };
  macs: number;
  params: number;
  /** Checkpoint folder of the trained weights. */
  weightsPath: string;
  /** The trained network as .tflite, when exported. */
  tflite?: string;
  /** The trained network as int8 and float .tflite, both scored in LiteRT (pipeline/steps/int8.ts). */
  int8?: Int8Summary;
}

export interface Int8Summary {
  int8Path: string;
  floatPath: string;
  int8Bytes: number;
  floatBytes: number;
  calibrationImages: number;
  split: 'heldout' | 'test' | 'train';
  float: { score: number; metrics: Record<string, number> };
  int8: { score: number; metrics: Record<string, number> };
}
