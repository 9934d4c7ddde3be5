/**
 * The interfaces the optimizers work against. Nothing here knows about tfjs, SQLite or a phone: an Evaluator scores
 * a sub-network (the super-network with shared weights, a fine-tuned model, or a test fake), a ResourceMetric
 * measures it (core/metrics), and a RunStore persists every sample so a run can resume where it stopped.
 */
import type { SubnetConfig } from '../arch/index.ts';

export type { ResourceMetric } from '../metrics/types.ts';

/** Higher is better (for depth estimation an evaluator returns e.g. δ1 accuracy or −RMSE). */
export interface EvalResult {
  score: number;
  /** Extra numbers worth keeping with the sample (top-1, loss, RMSE...). */
  metrics?: Record<string, number>;
}

/** Where a sample comes from: lets an evaluator that fine-tunes (NetAdaptV1) start from the parent. */
export interface EvalContext {
  runId: string;
  /** -1 for the initial network, then 0, 1, ... */
  iteration: number;
  index: number;
  /** The best sub-network of the previous iteration (for the initial network: itself). */
  parent: SubnetConfig;
}

export interface Evaluator {
  evaluate(config: SubnetConfig, context?: EvalContext): Promise<EvalResult>;
}

/**
 * NetAdaptV1 (no super-network): every sample is fine-tuned briefly from the previous best before it is scored.
 * Implementations own the weights (and their checkpoints); `adopt` tells them which sample became the next parent.
 */
export interface FineTuner {
  fineTune(fromConfig: SubnetConfig, toConfig: SubnetConfig, steps: number): Promise<EvalResult>;
  adopt?(config: SubnetConfig, iteration: number): Promise<void>;
}

export type SearchAlgorithm = 'mcd' | 'scd';

export const MCD_SHRINK_MODES = ['stop-at-target', 'every-chosen-layer'] as const;
export type McdShrink = (typeof MCD_SHRINK_MODES)[number];

/** The final target: an absolute resource (in the metric's unit) or a fraction of the initial network's resource. */
export type FinalTarget = { kind: 'absolute'; value: number } | { kind: 'fraction'; value: number };

/** Everything that determines a run's result; persisted with the run. */
export interface SearchParams {
  algorithm: SearchAlgorithm;
  target: FinalTarget;
  /** MCD: samples per iteration (J). SCD ignores it (one sample per shrinkable layer). */
  samplesPerIteration: number;
  /** MCD: layers shrunk per sample (L). */
  layersPerSample: number;
  /**
   * MCD: how a sample's L chosen layers are shrunk (core/search/mcd.ts). 'stop-at-target' (absent: runs stored
   * before the option existed): one step at a time, round-robin, until the iteration's target is met, so a sample
   * may change fewer than L layers. 'every-chosen-layer': every chosen layer first takes one step, then round-robin
   * continues while the target is not met, so every sample changes all L (the paper's "shrinking L layers").
   */
  mcdShrink?: McdShrink;
  /** Initial per-iteration reduction as a fraction of the initial resource (paper: 0.015–0.03). */
  reduction: number;
  /** The reduction is multiplied by this every iteration (paper: 0.98). */
  decay: number;
  seed: number;
  /** MCD: attempts per sample slot before the slot gives up (layers exhausted before the target, or duplicates). */
  maxAttempts: number;
  /** SCD: also try smaller kernels (not only widths) when shrinking a layer. */
  scdShrinksKernel: boolean;
  /** NetAdaptV1 mode: fine-tune every sample this many steps from the previous best (needs a FineTuner). */
  fineTuneSteps?: number;
  budget: SearchBudget;
}

export interface SearchBudget {
  /** Stop (status 'budget') before starting iteration number maxIterations (0-based count of reduction iterations). */
  maxIterations?: number;
  /** Stop before starting an iteration once this many samples have been evaluated. */
  maxSamples?: number;
}

export type RunStatus = 'running' | 'done' | 'unreachable' | 'budget' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  message: string | null;
  network: string;
  metric: string;
  metricUnit: string;
  params: SearchParams;
  /** The user's configuration (e.g. search.json), kept so `--resume` can rebuild the same context. */
  config: unknown;
  initialResource: number | null;
  finalTarget: number | null;
  /** Summary, updated when an iteration finishes. */
  iterations: number;
  samplesEvaluated: number;
  bestScore: number | null;
  bestResource: number | null;
  ownerPid: number | null;
  ownerHost: string | null;
}

export interface NewRun {
  network: string;
  metric: string;
  metricUnit: string;
  params: SearchParams;
  config: unknown;
}

export interface IterationRecord {
  runId: string;
  iteration: number;
  target: number;
  parentResource: number;
  status: 'planned' | 'done';
  bestIndex: number | null;
  sampleCount: number;
  plannedAt: string;
  finishedAt: string | null;
}

export interface PlannedSample {
  index: number;
  config: SubnetConfig;
  resource: number;
  /** Searchable-layer indices whose width or kernel differ from the parent. */
  changed: number[];
}

export interface SampleRecord extends PlannedSample {
  runId: string;
  iteration: number;
  key: string;
  /** null until evaluated. */
  score: number | null;
  metrics: Record<string, number> | null;
  evalMs: number | null;
  evaluatedAt: string | null;
}

/** Persistence of runs. Every call is its own transaction; a crash loses at most the sample being evaluated. */
export interface RunStore {
  createRun(run: NewRun): RunRecord;
  getRun(id: string): RunRecord | undefined;
  listRuns(): RunRecord[];
  setRunStatus(id: string, status: RunStatus, message?: string | null): void;
  setRunOwner(id: string, owner: { pid: number; host: string } | null): void;
  setRunBudget(id: string, budget: SearchBudget): void;
  setRunStart(id: string, initialResource: number, finalTarget: number): void;
  /** Writes an iteration's target and its generated samples (not yet evaluated) in one transaction. */
  planIteration(
    runId: string,
    iteration: { iteration: number; target: number; parentResource: number },
    samples: readonly PlannedSample[],
  ): void;
  getIteration(runId: string, iteration: number): IterationRecord | undefined;
  listIterations(runId: string): IterationRecord[];
  getSamples(runId: string, iteration?: number): SampleRecord[];
  recordEvaluation(
    runId: string,
    iteration: number,
    index: number,
    result: { score: number; metrics: Record<string, number> | null; evalMs: number },
  ): void;
  finishIteration(runId: string, iteration: number, bestIndex: number): void;
}

export type SearchEvent =
  | { type: 'run-start'; runId: string; resumed: boolean; initialResource: number; finalTarget: number; unit: string }
  | { type: 'iteration-start'; runId: string; iteration: number; target: number; parentResource: number; reused: boolean }
  | { type: 'iteration-planned'; runId: string; iteration: number; samples: number }
  | {
      type: 'sample';
      runId: string;
      iteration: number;
      index: number;
      /** Samples of this iteration. */
      of: number;
      resource: number;
      score: number;
      evalMs: number;
      /** True when the result came from the store (a resumed run) instead of the evaluator. */
      reused: boolean;
    }
  | { type: 'iteration-best'; runId: string; iteration: number; index: number; score: number; resource: number; target: number; samples: number }
  | { type: 'done'; runId: string; result: SearchResult };

export type SearchOutcome = 'done' | 'unreachable' | 'budget' | 'interrupted';

export interface TrajectoryPoint {
  /** -1: the initial network. */
  iteration: number;
  target: number;
  resource: number;
  score: number;
  config: SubnetConfig;
  samples: number;
}

export interface SearchResult {
  runId: string;
  status: SearchOutcome;
  message: string;
  unit: string;
  initialResource: number;
  finalTarget: number;
  /** The best sample of the last finished iteration (the discovered network when status is 'done'). */
  best: TrajectoryPoint;
  trajectory: TrajectoryPoint[];
  iterations: number;
  samplesEvaluated: number;
}
