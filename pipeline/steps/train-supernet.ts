/**
 * Step 1 of the job: train the super-network (ordered dropout, CBC, superkernel) into a checkpoint folder, resuming
 * the checkpoint already there, and score it on the held-out split: the full network and the smallest sub-network
 * with the EMA weights (BN recalibrated), after every epoch or at the end. Every face trains through this step.
 */
import type { NetworkSpec } from '../../core/arch/index.ts';
import { minimalSubnet, resolveNetwork, searchSpace } from '../../core/arch/index.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import type { UserError } from '../../core/errors.ts';
import { checkNetworkFitsMemory } from '../../core/resource-limits.ts';
import type { Evaluation } from '../../core/supernet/evaluate.ts';
import { DEFAULT_TRAIN_CONFIG, type SupernetTrainConfig } from '../../core/supernet/training/config.ts';
import { ResumeMismatchError, trainingStateExists } from '../../core/supernet/training/resume.ts';
import type { SupernetTrainer } from '../../core/supernet/training/supernet-trainer.ts';
import type { PipelineListener } from '../events.ts';

export interface HeldoutScores {
  /** 0-based epoch after which the scores were taken. */
  epoch: number;
  full: Evaluation;
  smallest: Evaluation;
}

export interface TrainSupernetStepInput {
  spec: NetworkSpec;
  dataset: Dataset;
  config?: Partial<SupernetTrainConfig>;
  outDir: string;
  /** true: continue the checkpoint in outDir; 'auto': continue it when there is one (default false: a new run). */
  resume?: boolean | 'auto';
  /** What to tell the user when the checkpoint in outDir was trained with another recipe (default: the mismatch). */
  onRecipeMismatch?: (error: ResumeMismatchError) => UserError;
  /** Held-out scores after every epoch, only at the end (default), or never. */
  evaluate?: 'epoch' | 'end' | 'never';
  /** Held-out images per evaluation (default 2000). */
  evalImages?: number;
  signal?: AbortSignal;
  onEvent?: PipelineListener;
}

export interface TrainSupernetStepResult {
  checkpoint: string;
  interrupted: boolean;
  steps: number;
  totalSteps: number;
  /** Loss of the last step (NaN when none ran). */
  lastLoss: number;
  /** Held-out scores at the end (absent when interrupted or `evaluate` is 'never'). */
  heldout?: HeldoutScores;
  seconds: number;
}

export async function trainSupernetStep(input: TrainSupernetStepInput): Promise<TrainSupernetStepResult> {
  const started = performance.now();
  const { SupernetTrainer } = await import('../../core/supernet/training/supernet-trainer.ts');
  const resume = input.resume === 'auto' ? trainingStateExists(input.outDir) : input.resume === true;
  checkNetworkFitsMemory(resolveNetwork(input.spec), { purpose: 'training', batchSize: input.config?.batchSize ?? DEFAULT_TRAIN_CONFIG.batchSize });
  let trainer: SupernetTrainer;
  try {
    trainer = SupernetTrainer.create({ spec: input.spec, dataset: input.dataset, ...(input.config ? { config: input.config } : {}), outDir: input.outDir, resume });
  } catch (error) {
    if (error instanceof ResumeMismatchError && input.onRecipeMismatch) throw input.onRecipeMismatch(error);
    throw error;
  }
  const c = trainer.config;
  input.onEvent?.({
    type: 'phase',
    phase: 'supernet',
    status: 'started',
    message:
      `${c.epochs} epochs × ${trainer.stepsPerEpoch} steps of ${c.batchSize} images, ${c.optimizer} lr ${c.lr}, ` +
      `${c.orderedDropout ? 'ordered dropout' : 'full network only'}${trainer.step > 0 ? `, resuming at step ${trainer.step}` : ''}`,
  });
  try {
    const mode = input.evaluate ?? 'end';
    let last: HeldoutScores | undefined;
    const score = async (epoch: number) => {
      last = await heldoutScores(trainer, input.dataset, epoch, input.evalImages ?? 2000);
      input.onEvent?.({ type: 'supernet-heldout', ...last });
    };
    const { interrupted } = await trainer.run({
      ...(input.signal ? { signal: input.signal } : {}),
      onEvent: (event) => input.onEvent?.({ type: 'supernet', event }),
      ...(mode === 'epoch' ? { onEpochEnd: score } : {}),
    });
    const endEpoch = trainer.epoch - 1;
    if (!interrupted && mode !== 'never' && last?.epoch !== endEpoch) await score(endEpoch);
    input.onEvent?.({ type: 'phase', phase: 'supernet', status: interrupted ? 'interrupted' : 'done' });
    return {
      checkpoint: input.outDir,
      interrupted,
      steps: trainer.step,
      totalSteps: trainer.totalSteps,
      lastLoss: trainer.losses[trainer.step - 1] ?? NaN,
      ...(!interrupted && last ? { heldout: last } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    trainer.dispose();
  }
}

/** The full network and the smallest sub-network on the held-out split, with the trainer's EMA weights. */
async function heldoutScores(trainer: SupernetTrainer, dataset: Dataset, epoch: number, limit: number): Promise<HeldoutScores> {
  const { createSupernetEvaluator } = await import('../../core/supernet/evaluate.ts');
  const weights = trainer.emaWeights();
  const evaluator = createSupernetEvaluator({ weights, dataset, limit });
  try {
    return { epoch, full: await evaluator.evaluate(), smallest: await evaluator.evaluate(minimalSubnet(searchSpace(trainer.spec))) };
  } finally {
    evaluator.dispose();
    weights.dispose();
  }
}
