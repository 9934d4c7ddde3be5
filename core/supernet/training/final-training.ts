/**
 * Final training of the discovered network (issue #6 item 3, paper App. A.2): the sub-network is trained inside the
 * super-network's full-width layout (subnet-trainer.ts), so the result is an ordinary super-network checkpoint that
 * the evaluator, the materializer and the .tflite exporter read unchanged.
 *
 * Modes:
 * - 'supernet':   start from the super-network's shared weights;
 * - 'scratch':    start from freshly initialized weights;
 * - 'trajectory': start from the super-network's weights and walk the architecture trajectory (the best sample of
 *                 every search iteration), a short training per point — each point reuses the previous point's weights
 *                 where they overlap (same layout) — then the final training of the discovered network.
 * Optional distillation from the super-network's full network (the search's initial network).
 *
 * Crash safety: the state (weights incl. BN statistics, optimizer slots, phase and step) is checkpointed to
 * <outDir>/state with resume.ts, periodically and on abort; `resume` continues exactly (same losses as an
 * uninterrupted run). The final weights go to <outDir>/weights, a super-network checkpoint.
 */
import path from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../../arch/index.ts';
import { parseSubnetKey, resolveNetwork, subnetKey } from '../../arch/index.ts';
import type { Dataset } from '../../data/dataset.ts';
import { UserError } from '../../errors.ts';
import { definedOnly } from '../../objects.ts';
import { mixSeed } from '../../random.ts';
import { saveCheckpoint } from '../checkpoint.ts';
import { createSupernetEvaluator, loadSupernetWeights, type Evaluation } from '../evaluate.ts';
import type { Optimizer } from '../optimizer.ts';
import { SupernetWeights } from '../weights.ts';
import { recalibrateBatchNorm } from './batch-norm.ts';
import { DEFAULT_TRAIN_CONFIG, type SupernetTrainConfig } from './config.ts';
import { resolveTrainingWorkers } from './gradient-workers.ts';
import { FINAL_TRAIN_DEFAULTS } from './recipes.ts';
import { loadTrainingState, saveTrainingState, trainingStateExists, weightTensors } from './resume.ts';
import { trainSubnetwork } from './subnet-trainer.ts';

export type FinalTrainingMode = 'supernet' | 'scratch' | 'trajectory';

export interface FinalTrainingEvent {
  phase: 'trajectory' | 'final';
  /** Trajectory point being trained (0-based) and how many there are; final phase: points = index. */
  point: number;
  points: number;
  step: number;
  totalSteps: number;
  loss: number;
  imagesPerSec: number;
  etaSec: number;
}

export interface FinalTrainingOptions {
  spec: NetworkSpec;
  /** The discovered network. */
  subnet: SubnetConfig;
  /** Per-iteration bests, initial network first (trajectory mode). The discovered network may be the last entry. */
  trajectory?: readonly SubnetConfig[];
  dataset: Dataset;
  mode: FinalTrainingMode;
  /** Length of the final training: epochs of the training split, or steps (batches). */
  epochs?: number;
  steps?: number;
  /** Trajectory mode: steps per trajectory point (default: half the final steps spread over the points, ≥ 1 each). */
  trajectoryStepsPerPoint?: number;
  /** Trajectory mode: at most this many intermediate points (evenly spaced; default 8). */
  maxTrajectoryPoints?: number;
  /** The super-network checkpoint folder (needed for 'supernet', 'trajectory' and distillation). */
  checkpoint?: string;
  /** Distill from the super-network's full network (true: α 0.5, T 2). */
  distill?: boolean | { alpha: number; temperature: number };
  config?: Partial<SupernetTrainConfig>;
  outDir: string;
  /** Continue the state checkpointed in outDir. */
  resume?: boolean;
  /** Checkpoint the state every this many steps (default: every epoch of the training split). */
  checkpointEvery?: number;
  /** Evaluation: BN recalibration batches (default 5) and images per held-out batch. */
  evaluation?: { calibrationBatches?: number; calibrationBatchSize?: number; limit?: number };
  onEvent?: (e: FinalTrainingEvent) => void;
  signal?: AbortSignal;
  /** Also score the starting weights (default true). */
  scoreBefore?: boolean;
}

export interface FinalTrainingResult {
  mode: FinalTrainingMode;
  /** Held-out score of the starting weights for the discovered network (absent when scoreBefore is false). */
  before?: Evaluation;
  heldout: Evaluation;
  test?: Evaluation;
  macs: number;
  params: number;
  seconds: number;
  /** The trained weights: a super-network checkpoint folder (export with `--checkpoint <this> --subnet ...`). */
  weightsPath: string;
  steps: number;
  losses: number[];
  interrupted: boolean;
}

interface Phase {
  subnet: SubnetConfig;
  steps: number;
  kind: 'trajectory' | 'final';
}

/** What the final training keeps between runs besides the compared fields (mode, sub-network). */
interface FinalStateInfo {
  phases: { subnet: string; steps: number }[];
  phase: number;
  seconds: number;
  before?: Evaluation;
  done: boolean;
  /** Data-parallel workers the run trains with (states written before them: 1); a resumed run keeps the count. */
  workers?: number;
}

export const FINAL_STATE_DIR = 'state';
export const FINAL_WEIGHTS_DIR = 'weights';

export async function trainDiscoveredNetwork(opts: FinalTrainingOptions): Promise<FinalTrainingResult> {
  const started = performance.now();
  const { spec, dataset, subnet } = opts;
  const config: SupernetTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...FINAL_TRAIN_DEFAULTS, ...definedOnly(opts.config ?? {}) };
  const train = dataset.split('train');
  const stepsPerEpoch = train.batchCount(config.batchSize, { dropLast: true });
  if (stepsPerEpoch === 0) throw new UserError(`the training split has ${train.size} samples, fewer than one batch of ${config.batchSize}`);
  const finalSteps = opts.steps ?? Math.round((opts.epochs ?? 1) * stepsPerEpoch);
  if (!Number.isInteger(finalSteps) || finalSteps < 1) throw new UserError(`final training needs at least one step (got ${finalSteps})`);
  const needsCheckpoint = opts.mode !== 'scratch' || opts.distill;
  if (needsCheckpoint && !opts.checkpoint) {
    throw new UserError(`final training in mode "${opts.mode}"${opts.distill ? ' with distillation' : ''} needs the super-network checkpoint ("checkpoint")`);
  }
  const phases = planPhases(opts, finalSteps);
  const stateDir = path.join(opts.outDir, FINAL_STATE_DIR);
  const weightsPath = path.join(opts.outDir, FINAL_WEIGHTS_DIR);

  const fixed = { mode: opts.mode, subnet: subnetKey(subnet) };
  let weights: SupernetWeights;
  let step = 0;
  let losses: number[] = [];
  let info: FinalStateInfo;
  let optimizerSlot: ((key: string) => Float32Array | undefined) | undefined;
  if (opts.resume && trainingStateExists(stateDir)) {
    const saved = loadTrainingState<FinalStateInfo>(stateDir, spec, { kind: 'final-training', fixed });
    weights = SupernetWeights.init(spec, 0);
    saved.restoreWeights(weights);
    optimizerSlot = saved.hasOptimizerState ? saved.optimizerSlot : undefined;
    ({ step, losses, info } = saved);
    // Another worker count continues the run, but no longer exactly as it would have gone on.
    if (opts.config?.workers) info.workers = resolveTrainingWorkers(opts.config.workers);
    // The plan is part of the state: a resumed run follows the plan it started with.
    phases.splice(0, phases.length, ...info.phases.map((p, i) => ({
      subnet: i === info.phases.length - 1 ? subnet : parseSubnetKey(p.subnet),
      steps: p.steps,
      kind: (i === info.phases.length - 1 ? 'final' : 'trajectory') as Phase['kind'],
    })));
  } else {
    if (trainingStateExists(stateDir)) {
      throw new UserError(`${stateDir} already holds a final training`, ['resume it, or choose another output folder']);
    }
    weights = opts.mode === 'scratch'
      ? SupernetWeights.init(spec, config.seed)
      : loadSupernetWeights(opts.checkpoint as string, spec);
    info = { phases: phases.map((p) => ({ subnet: subnetKey(p.subnet), steps: p.steps })), phase: 0, seconds: 0, done: false, workers: resolveTrainingWorkers(config.workers) };
  }

  /** `recalibrate` false: score with the BN statistics the weights hold (the trained network's, as exported). */
  const evaluate = async (split: 'heldout' | 'test', recalibrate = true): Promise<Evaluation> => {
    const evaluator = createSupernetEvaluator({
      weights,
      dataset,
      split,
      seed: config.seed,
      ...(!recalibrate ? { calibrationBatches: 0 } : opts.evaluation?.calibrationBatches === undefined ? {} : { calibrationBatches: opts.evaluation.calibrationBatches }),
      ...(opts.evaluation?.calibrationBatchSize === undefined ? {} : { calibrationBatchSize: opts.evaluation.calibrationBatchSize }),
      ...(opts.evaluation?.limit === undefined ? {} : { limit: opts.evaluation.limit }),
    });
    try {
      return await evaluator.evaluate(subnet);
    } finally {
      evaluator.dispose();
    }
  };

  const teacherWeights = opts.distill ? loadSupernetWeights(opts.checkpoint as string, spec) : undefined;
  // The teacher runs in inference mode: give it the full network's own BN statistics (deterministic: fixed batches).
  if (teacherWeights) recalibrateBatchNorm(teacherWeights, undefined, dataset, { batches: 5, batchSize: config.batchSize, seed: config.seed });
  const distill = opts.distill === true ? { alpha: 0.5, temperature: 2 } : opts.distill || undefined;
  const elapsedBefore = info.seconds;
  const finishedBefore = info.done;
  const save = (optimizer?: Optimizer) => {
    info.seconds = elapsedBefore + (performance.now() - started) / 1000;
    saveTrainingState<FinalStateInfo>(stateDir, { kind: 'final-training', step, losses, fixed, info, weights, ...(optimizer ? { optimizer } : {}) });
  };

  try {
    if (opts.scoreBefore !== false && info.before === undefined && info.phase === 0 && step === 0) {
      info.before = await evaluate('heldout');
    }
    let interrupted = false;
    const every = opts.checkpointEvery ?? stepsPerEpoch;
    while (!info.done && info.phase < phases.length) {
      const phase = phases[info.phase] as Phase;
      const phaseIndex = info.phase;
      // Losses of the earlier phases and of this phase's steps before the resumed step.
      const head = losses.slice();
      const slots = optimizerSlot;
      optimizerSlot = undefined;
      const result = await trainSubnetwork({
        weights,
        subnet: phase.subnet,
        dataset,
        steps: phase.steps,
        config: { ...config, seed: mixSeed(config.seed, phaseIndex, 0xf1a1), workers: info.workers ?? 1 },
        ...(teacherWeights && distill ? { teacher: { weights: teacherWeights, alpha: distill.alpha, temperature: distill.temperature } } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        startStep: step,
        ...(slots ? { optimizerState: slots } : {}),
        checkpointEvery: every,
        onCheckpoint: (s) => {
          step = s.step;
          losses = [...head, ...s.losses];
          save(s.optimizer);
        },
        onEvent: (e) =>
          opts.onEvent?.({
            phase: phase.kind,
            point: phaseIndex,
            points: phases.length - 1,
            step: e.step,
            totalSteps: e.totalSteps,
            loss: e.loss,
            imagesPerSec: e.imagesPerSec,
            etaSec: e.etaSec,
          }),
      });
      losses = [...head, ...result.losses];
      step = result.steps;
      if (result.interrupted) {
        interrupted = true;
        break;
      }
      info.phase++;
      step = 0;
      if (info.phase < phases.length) save();
    }
    if (interrupted) {
      return {
        mode: opts.mode,
        ...(info.before ? { before: info.before } : {}),
        heldout: { score: NaN, metrics: {} },
        macs: 0,
        params: 0,
        seconds: elapsedBefore + (performance.now() - started) / 1000,
        weightsPath,
        steps: losses.length,
        losses,
        interrupted: true,
      };
    }
    if (!info.done) {
      info.done = true;
      // BN statistics recomputed on training batches (as the search's scores do) are stored with the weights, and the
      // trained network is scored with exactly those: the exported .tflite then computes what was scored (scoring
      // with freshly recalibrated statistics but exporting the moving averages put a .tflite 1–3 points off).
      recalibrateBatchNorm(weights, subnet, dataset, {
        batches: opts.evaluation?.calibrationBatches ?? 5,
        batchSize: opts.evaluation?.calibrationBatchSize ?? 64,
        seed: config.seed,
      });
      saveCheckpoint(weightsPath, spec, weightTensors(weights), { kind: 'final-training-weights', mode: opts.mode, subnet: subnetKey(subnet) });
      save();
    }
    const heldout = await evaluate('heldout', false);
    const test = dataset.splitNames.includes('test') && dataset.split('test').size > 0 ? await evaluate('test', false) : undefined;
    const resolved = resolveNetwork(spec, subnet);
    // A run finished earlier reports its own duration, not the time spent re-scoring it now.
    const seconds = finishedBefore ? info.seconds : elapsedBefore + (performance.now() - started) / 1000;
    return {
      mode: opts.mode,
      ...(info.before ? { before: info.before } : {}),
      heldout,
      ...(test ? { test } : {}),
      macs: resolved.macs,
      params: resolved.params,
      seconds,
      weightsPath,
      steps: losses.length,
      losses,
      interrupted: false,
    };
  } finally {
    weights.dispose();
    teacherWeights?.dispose();
  }
}

/** The phases of a run: trajectory points (mode 'trajectory'), then the discovered network. */
function planPhases(opts: FinalTrainingOptions, finalSteps: number): Phase[] {
  const phases: Phase[] = [];
  if (opts.mode === 'trajectory') {
    const finalKey = subnetKey(opts.subnet);
    // The first point is the initial network itself (its weights are the starting point); drop it and the end point.
    const inner = (opts.trajectory ?? []).slice(1).filter((s) => subnetKey(s) !== finalKey);
    const maxPoints = opts.maxTrajectoryPoints ?? 8;
    const chosen = inner.length <= maxPoints
      ? inner
      : Array.from({ length: maxPoints }, (_, i) => inner[Math.round(((i + 1) * inner.length) / maxPoints) - 1] as SubnetConfig);
    const perPoint = opts.trajectoryStepsPerPoint ?? Math.max(1, Math.round(finalSteps / 2 / Math.max(chosen.length, 1)));
    for (const s of chosen) phases.push({ subnet: s, steps: perPoint, kind: 'trajectory' });
  }
  phases.push({ subnet: opts.subnet, steps: finalSteps, kind: 'final' });
  return phases;
}
