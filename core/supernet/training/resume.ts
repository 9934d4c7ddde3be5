/**
 * Resumable training, written once for every training of the engine (super-network training, final training of a
 * discovered network, NetAdaptV1 fine-tuning): the weights (`param/*`), the optimizer's slots (`opt.*`), any extra
 * tensors (the EMA shadow) and the step are saved as a crash-safe checkpoint folder (checkpoint.ts). A resume refuses
 * state that does not match what is asked — another network definition, another kind of training, or a value in
 * `fixed` (recipe fields that would change the trajectory, the sub-network, the mode) — with the key named.
 */
import type { NetworkSpec } from '../../arch/index.ts';
import { UserError } from '../../errors.ts';
import { checkTensorsMatch, checkpointExists, loadCheckpoint, saveCheckpoint, type CheckpointContents } from '../checkpoint.ts';
import type { Optimizer } from '../optimizer.ts';
import type { SupernetWeights } from '../weights.ts';

export type TrainingKind = 'supernet' | 'final-training' | 'finetune-base';

export interface TensorData {
  key: string;
  shape: number[];
  data: Float32Array;
}

/** What a training checkpoint records besides its tensors. */
export interface TrainingStateRecord<Info = Record<string, unknown>> {
  kind: TrainingKind;
  /** Steps done (the next step to run). */
  step: number;
  /** Loss of every step so far (index = global step). */
  losses: number[];
  /** Values a resume must match exactly. */
  fixed: Record<string, unknown>;
  /** Everything else the training keeps (not compared). */
  info: Info;
}

export interface SaveTrainingStateInput<Info> extends TrainingStateRecord<Info> {
  weights: SupernetWeights;
  optimizer?: Optimizer;
  extraTensors?: readonly TensorData[];
}

/** Resuming with a value the checkpoint was not trained with. */
export class ResumeMismatchError extends UserError {
  constructor(
    readonly key: string,
    readonly given: unknown,
    readonly saved: unknown,
    dir: string,
  ) {
    super(`cannot resume with ${key} = ${show(given)}: ${dir} was trained with ${show(saved)}`, [
      'leave it out to use the checkpoint\'s value, or start a new run in another folder',
    ]);
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The weights as checkpoint tensors (`param/<name>`). */
export function weightTensors(weights: SupernetWeights): TensorData[] {
  return weights.layout.map((p) => ({ key: `param/${p.name}`, shape: p.shape, data: weights.get(p.name).dataSync() as Float32Array }));
}

export function saveTrainingState<Info>(dir: string, input: SaveTrainingStateInput<Info>): string {
  const { weights, optimizer, extraTensors = [], ...record } = input;
  const tensors: TensorData[] = [
    ...weightTensors(weights),
    ...extraTensors,
    ...(optimizer ? optimizer.stateTensors() : []),
  ];
  const state: TrainingStateRecord<Info> = { kind: record.kind, step: record.step, losses: record.losses, fixed: record.fixed, info: record.info };
  return saveCheckpoint(dir, weights.spec, tensors, state);
}

export interface LoadedTrainingState<Info> extends TrainingStateRecord<Info> {
  tensors: CheckpointContents['tensors'];
  /** Copies the saved weights into `weights` (the layouts are checked to match). */
  restoreWeights(weights: SupernetWeights): void;
  /** Whether optimizer slots were saved (a state saved between two phases has none). */
  hasOptimizerState: boolean;
  /** The saved optimizer slot `opt.<slot>/<param>` (for Optimizer.restore). */
  optimizerSlot(key: string): Float32Array | undefined;
}

export interface LoadTrainingStateOptions<Info> {
  kind: TrainingKind;
  /** Values asked for now: each defined one must equal the saved one. */
  fixed?: Record<string, unknown>;
  /** Converts the state of a checkpoint written before this format (no `kind`); undefined: refuse it. */
  legacy?: (state: Record<string, unknown>) => TrainingStateRecord<Info> | undefined;
}

export function trainingStateExists(dir: string): boolean {
  return checkpointExists(dir);
}

export function loadTrainingState<Info>(dir: string, spec: NetworkSpec, options: LoadTrainingStateOptions<Info>): LoadedTrainingState<Info> {
  const ckpt = loadCheckpoint(dir);
  if (JSON.stringify(ckpt.network) !== JSON.stringify(spec)) {
    throw new UserError(`${dir} was trained on a different definition of network "${ckpt.network.name}"`, [
      'use the network definition it was trained with, or start a new run in another folder',
    ]);
  }
  const raw = (ckpt.state ?? {}) as Record<string, unknown>;
  const record = raw['kind'] === undefined ? options.legacy?.(raw) : (raw as unknown as TrainingStateRecord<Info>);
  if (!record) throw new UserError(`${dir} holds a checkpoint without training state (written by an earlier version?); it cannot be resumed`);
  if (record.kind !== options.kind) {
    throw new UserError(`${dir} holds a ${describeKind(record.kind)}, not a ${describeKind(options.kind)}`, ['choose another folder']);
  }
  for (const [key, given] of Object.entries(options.fixed ?? {})) {
    if (given === undefined) continue;
    const saved = record.fixed[key];
    if (JSON.stringify(given) !== JSON.stringify(saved)) throw new ResumeMismatchError(key, given, saved, dir);
  }
  return {
    ...record,
    tensors: ckpt.tensors,
    restoreWeights(weights: SupernetWeights): void {
      checkTensorsMatch(weights.layout, ckpt.tensors, 'param', dir);
      weights.assignAll(new Map([...ckpt.tensors].filter(([k]) => k.startsWith('param/')).map(([k, v]) => [k.slice(6), v.data])));
    },
    hasOptimizerState: [...ckpt.tensors.keys()].some((key) => key.startsWith('opt.')),
    optimizerSlot: (key: string) => (key.startsWith('opt.') ? ckpt.tensors.get(key)?.data : undefined),
  };
}

function describeKind(kind: TrainingKind): string {
  switch (kind) {
    case 'supernet':
      return 'super-network training';
    case 'final-training':
      return 'final training of a discovered network';
    case 'finetune-base':
      return 'NetAdaptV1 fine-tuning base';
  }
}
