/**
 * Final training of the discovered network (issue #6 item 3, paper App. A.2): the sub-network is trained inside the
 * super-network's full-width layout (core/supernet/subnet-train.ts), so the result is an ordinary super-network
 * checkpoint that the evaluator, the materializer and the .tflite exporter read unchanged.
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
 * <outDir>/state periodically and on abort; `resume` continues exactly (same losses as an uninterrupted run). The
 * final weights go to <outDir>/weights, a super-network checkpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import { resolveNetwork, subnetKey } from '../arch/index.ts';
import type { Dataset } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { mixSeed } from '../random.ts';
import { checkTensorsMatch, checkpointExists, loadCheckpoint, saveCheckpoint } from '../supernet/checkpoint.ts';
import { createSupernetEvaluator, loadSupernetWeights, type Evaluation } from '../supernet/evaluate.ts';
import { recalibrateBatchNorm, trainSubnetwork, type SubnetTrainingState } from '../supernet/subnet-train.ts';
import { DEFAULT_TRAIN_CONFIG, type SupernetTrainConfig } from '../supernet/train.ts';
import { SupernetWeights } from '../supernet/weights.ts';
import type { SearchConfig } from './config.ts';
import type { FinalTrainingSummary } from './result.ts';
import type { SearchResult } from './types.ts';

export type FinalTrainingMode = 'supernet' | 'scratch' | 'trajectory';

/** Defaults for fine-tuning-length runs on small inputs (SGD moved the loss fastest in our short runs). */
export const FINAL_TRAIN_DEFAULTS: Partial<SupernetTrainConfig> = {
  optimizer: 'sgd',
  lr: 0.02,
  batchSize: 64,
  weightDecay: 4e-5,
  warmupEpochs: 0.1,
  lrDecayRate: 0.5,
  lrDecayEpochs: 2,
  labelSmoothing: 0.1,
};

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

interface SavedState {
  kind: 'final-training';
  mode: FinalTrainingMode;
  subnet: string;
  phases: { subnet: string; steps: number }[];
  phase: number;
  step: number;
  losses: number[];
  seconds: number;
  before?: Evaluation;
  done: boolean;
}

export const FINAL_STATE_DIR = 'state';
export const FINAL_WEIGHTS_DIR = 'weights';

export async function trainDiscoveredNetwork(opts: FinalTrainingOptions): Promise<FinalTrainingResult> {
  const started = performance.now();
  const { spec, dataset, subnet } = opts;
  const config: SupernetTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...FINAL_TRAIN_DEFAULTS, ...stripUndefined(opts.config ?? {}) };
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

  let weights: SupernetWeights;
  let state: SavedState;
  let optimizerSlots: Map<string, Float32Array> | undefined;
  if (opts.resume && checkpointExists(stateDir)) {
    const ckpt = loadCheckpoint(stateDir);
    if (JSON.stringify(ckpt.network) !== JSON.stringify(spec)) throw new UserError(`${stateDir} holds the final training of another network definition`);
    state = ckpt.state as SavedState;
    if (state.kind !== 'final-training' || state.subnet !== subnetKey(subnet) || state.mode !== opts.mode) {
      throw new UserError(`${stateDir} holds a final training of another sub-network or mode; use another output folder`);
    }
    weights = SupernetWeights.init(spec, 0);
    checkTensorsMatch(weights.layout, ckpt.tensors, 'param', stateDir);
    weights.assignAll(new Map([...ckpt.tensors].filter(([k]) => k.startsWith('param/')).map(([k, v]) => [k.slice(6), v.data])));
    optimizerSlots = new Map([...ckpt.tensors].filter(([k]) => k.startsWith('opt.')).map(([k, v]) => [k, v.data]));
    // The plan is part of the state: a resumed run follows the plan it started with.
    phases.splice(0, phases.length, ...state.phases.map((p, i) => ({
      subnet: i === state.phases.length - 1 ? subnet : (planFromKey(p.subnet)),
      steps: p.steps,
      kind: (i === state.phases.length - 1 ? 'final' : 'trajectory') as Phase['kind'],
    })));
  } else {
    if (checkpointExists(stateDir)) {
      throw new UserError(`${stateDir} already holds a final training`, ['resume it, or choose another output folder']);
    }
    weights = opts.mode === 'scratch'
      ? SupernetWeights.init(spec, config.seed)
      : loadSupernetWeights(opts.checkpoint as string, spec);
    state = {
      kind: 'final-training',
      mode: opts.mode,
      subnet: subnetKey(subnet),
      phases: phases.map((p) => ({ subnet: subnetKey(p.subnet), steps: p.steps })),
      phase: 0,
      step: 0,
      losses: [],
      seconds: 0,
      done: false,
    };
  }

  const evaluate = async (split: 'heldout' | 'test'): Promise<Evaluation> => {
    const evaluator = createSupernetEvaluator({
      weights,
      dataset,
      split,
      seed: config.seed,
      ...(opts.evaluation?.calibrationBatches === undefined ? {} : { calibrationBatches: opts.evaluation.calibrationBatches }),
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
  const elapsedBefore = state.seconds;
  const finishedBefore = state.done;
  const save = (phaseState: { step: number; optimizerTensors: SubnetTrainingState['optimizerTensors'] } | undefined) => {
    state.seconds = elapsedBefore + (performance.now() - started) / 1000;
    const tensors = [
      ...weights.layout.map((p) => ({ key: `param/${p.name}`, shape: p.shape, data: weights.get(p.name).dataSync() as Float32Array })),
      ...(phaseState?.optimizerTensors ?? []),
    ];
    saveCheckpoint(stateDir, spec, tensors, state);
  };

  try {
    if (opts.scoreBefore !== false && state.before === undefined && state.phase === 0 && state.step === 0) {
      state.before = await evaluate('heldout');
    }
    let interrupted = false;
    const every = opts.checkpointEvery ?? stepsPerEpoch;
    while (!state.done && state.phase < phases.length) {
      const phase = phases[state.phase] as Phase;
      const phaseIndex = state.phase;
      // Losses of the earlier phases and of this phase's steps before startStep (a resumed phase).
      const head = state.losses.slice();
      const slots = optimizerSlots;
      optimizerSlots = undefined;
      const result = await trainSubnetwork({
        weights,
        subnet: phase.subnet,
        dataset,
        steps: phase.steps,
        config: { ...config, seed: mixSeed(config.seed, phaseIndex, 0xf1a1) },
        ...(teacherWeights && distill ? { teacher: { weights: teacherWeights, alpha: distill.alpha, temperature: distill.temperature } } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        startStep: state.step,
        ...(slots && slots.size > 0 ? { optimizerState: (key: string) => slots.get(key) } : {}),
        checkpointEvery: every,
        onCheckpoint: (s) => {
          state.step = s.step;
          state.losses = [...head, ...s.losses];
          save(s);
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
      state.losses = [...head, ...result.losses];
      state.step = result.steps;
      if (result.interrupted) {
        interrupted = true;
        break;
      }
      state.phase++;
      state.step = 0;
      if (state.phase < phases.length) save(undefined);
    }
    if (interrupted) {
      return {
        mode: opts.mode,
        ...(state.before ? { before: state.before } : {}),
        heldout: { score: NaN, metrics: {} },
        macs: 0,
        params: 0,
        seconds: elapsedBefore + (performance.now() - started) / 1000,
        weightsPath,
        steps: state.losses.length,
        losses: state.losses,
        interrupted: true,
      };
    }
    if (!state.done) {
      state.done = true;
      saveCheckpoint(
        weightsPath,
        spec,
        weights.layout.map((p) => ({ key: `param/${p.name}`, shape: p.shape, data: weights.get(p.name).dataSync() as Float32Array })),
        { kind: 'final-training-weights', mode: opts.mode, subnet: subnetKey(subnet) },
      );
      save(undefined);
    }
    const heldout = await evaluate('heldout');
    const test = dataset.splitNames.includes('test') && dataset.split('test').size > 0 ? await evaluate('test') : undefined;
    const resolved = resolveNetwork(spec, subnet);
    // A run finished earlier reports its own duration, not the time spent re-scoring it now.
    const seconds = finishedBefore ? state.seconds : elapsedBefore + (performance.now() - started) / 1000;
    return {
      mode: opts.mode,
      ...(state.before ? { before: state.before } : {}),
      heldout,
      ...(test ? { test } : {}),
      macs: resolved.macs,
      params: resolved.params,
      seconds,
      weightsPath,
      steps: state.losses.length,
      losses: state.losses,
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

/** Inverse of subnetKey (`levels|kernels`, dot-separated). */
function planFromKey(key: string): SubnetConfig {
  const [levels = '', kernels = ''] = key.split('|');
  const nums = (s: string) => (s === '' ? [] : s.split('.').map(Number));
  return { levels: nums(levels), kernels: nums(kernels) };
}

function stripUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The final training a search configuration asks for ("finalTraining"): trains the run's discovered network into
 * <outputDir>/final-training (resuming a previous, interrupted attempt), exports it to <outputDir>/network-trained.tflite
 * and returns the summary for the reports (also written to final-training/summary.json); undefined when interrupted.
 */
export async function finalTrainFromSearchConfig(args: {
  config: SearchConfig;
  spec: NetworkSpec;
  result: SearchResult;
  outputDir: string;
  signal?: AbortSignal;
  onEvent?: (e: FinalTrainingEvent) => void;
}): Promise<FinalTrainingSummary | undefined> {
  const { config, spec, result, outputDir } = args;
  const settings = config.finalTraining;
  if (!settings) throw new Error('the search configuration has no "finalTraining"');
  if (config.dataset === undefined) throw new UserError('"finalTraining" needs "dataset"');
  const [{ initBackend }, { openDataset }, { loadCheckpointWeights }, { exportNetwork }] = await Promise.all([
    import('../tensor/backend.ts'),
    import('../data/open.ts'),
    import('../export/checkpoint-weights.ts'),
    import('../export/network.ts'),
  ]);
  await initBackend();
  const dataset = await openDataset(config.dataset);
  const outDir = path.join(outputDir, 'final-training');
  const { mode, epochs, steps, distill, ...training } = settings;
  const evaluator = config.evaluator as Record<string, unknown>;
  const evaluation: FinalTrainingOptions['evaluation'] = {};
  for (const key of ['calibrationBatches', 'calibrationBatchSize', 'limit'] as const) {
    if (typeof evaluator[key] === 'number') evaluation[key] = evaluator[key];
  }
  const trained = await trainDiscoveredNetwork({
    spec,
    subnet: result.best.config,
    trajectory: result.trajectory.map((p) => p.config),
    dataset,
    mode,
    ...(steps !== undefined ? { steps } : { epochs: epochs ?? 1 }),
    ...(config.checkpoint !== undefined ? { checkpoint: config.checkpoint } : {}),
    distill,
    config: stripUndefined(training),
    outDir,
    resume: checkpointExists(path.join(outDir, FINAL_STATE_DIR)),
    evaluation,
    ...(args.signal ? { signal: args.signal } : {}),
    ...(args.onEvent ? { onEvent: args.onEvent } : {}),
  });
  if (trained.interrupted) return undefined;
  const tflite = path.join(outputDir, 'network-trained.tflite');
  const folded = await loadCheckpointWeights(trained.weightsPath, spec, result.best.config);
  fs.writeFileSync(tflite, exportNetwork(resolveNetwork(spec, result.best.config), folded));
  const summary: FinalTrainingSummary = {
    mode,
    distill,
    steps: trained.steps,
    seconds: trained.seconds,
    ...(trained.before ? { before: trained.before.score } : {}),
    heldout: trained.heldout,
    ...(trained.test ? { test: trained.test } : {}),
    macs: trained.macs,
    params: trained.params,
    weightsPath: trained.weightsPath,
    tflite,
  };
  fs.writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
