/**
 * Step 3: the final training the configuration asks for ("finalTraining"): the run's discovered network trained into
 * <outputDir>/final-training (resuming an interrupted attempt), scored on the held-out and test splits, exported to
 * <outputDir>/network-trained.tflite; the summary (also final-training/summary.json) goes into the reports.
 */
import path from 'node:path';
import { resolveNetwork, type NetworkSpec } from '../../core/arch/index.ts';
import { writeFileAtomically } from '../../core/fs-errors.ts';
import { definedOnly } from '../../core/objects.ts';
import { checkNetworkFitsMemory } from '../../core/resource-limits.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../core/supernet/training/config.ts';
import { FINAL_TRAIN_DEFAULTS } from '../../core/supernet/training/recipes.ts';
import type { FinalTrainingSummary } from '../../core/search/result.ts';
import type { SearchResult } from '../../core/search/types.ts';
import { ValidationError } from '../../core/errors.ts';
import type { SearchConfig } from '../config.ts';
import { openJobDataset } from '../dataset.ts';
import type { PipelineListener } from '../events.ts';
import { exportStep } from './export.ts';

export interface FinalTrainingStepInput {
  config: SearchConfig;
  spec: NetworkSpec;
  result: SearchResult;
  outputDir: string;
  signal?: AbortSignal;
  onEvent?: PipelineListener;
}

/** Undefined when interrupted (run the job again to continue). */
export async function runFinalTrainingStep(input: FinalTrainingStepInput): Promise<FinalTrainingSummary | undefined> {
  const { config, spec, result, outputDir } = input;
  const settings = config.finalTraining;
  if (!settings) throw new ValidationError('the search configuration has no "finalTraining"');
  const [{ trainDiscoveredNetwork, FINAL_STATE_DIR }, { trainingStateExists }] = await Promise.all([
    import('../../core/supernet/training/final-training.ts'),
    import('../../core/supernet/training/resume.ts'),
  ]);
  // The full network is what distillation and the trajectory's first point train; the discovered one is smaller.
  checkNetworkFitsMemory(resolveNetwork(spec), {
    purpose: 'training',
    batchSize: settings.batchSize ?? FINAL_TRAIN_DEFAULTS.batchSize ?? DEFAULT_TRAIN_CONFIG.batchSize,
  });
  const dataset = await openJobDataset(config.dataset, '"finalTraining" needs "dataset"');
  const outDir = path.join(outputDir, 'final-training');
  const { mode, epochs, steps, distill, ...training } = settings;
  const evaluator = config.evaluator as Record<string, unknown>;
  // The evaluator's BN calibration, not its image limit: the trained network is scored on whole splits (the test score
  // before the final training is too, so the two compare).
  const evaluation: Record<string, number> = {};
  for (const key of ['calibrationBatches', 'calibrationBatchSize'] as const) {
    if (typeof evaluator[key] === 'number') evaluation[key] = evaluator[key];
  }
  input.onEvent?.({ type: 'phase', phase: 'final-training', status: 'started', message: `mode ${mode}${distill ? ', distilled from the full network' : ''}` });
  const trained = await trainDiscoveredNetwork({
    spec,
    subnet: result.best.config,
    trajectory: result.trajectory.map((p) => p.config),
    dataset,
    mode,
    ...(steps !== undefined ? { steps } : { epochs: epochs ?? 1 }),
    ...(config.checkpoint !== undefined ? { checkpoint: config.checkpoint } : {}),
    distill,
    config: definedOnly(training),
    outDir,
    resume: trainingStateExists(path.join(outDir, FINAL_STATE_DIR)),
    evaluation,
    ...(input.signal ? { signal: input.signal } : {}),
    onEvent: (event) => input.onEvent?.({ type: 'final-training', event }),
  });
  if (trained.interrupted) {
    input.onEvent?.({ type: 'phase', phase: 'final-training', status: 'interrupted' });
    return undefined;
  }
  const tflite = path.join(outputDir, 'network-trained.tflite');
  await exportStep({ spec, subnet: result.best.config, checkpoint: trained.weightsPath, out: tflite });
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
  writeFileAtomically(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`, 'the final training summary');
  input.onEvent?.({ type: 'phase', phase: 'final-training', status: 'done' });
  return summary;
}
