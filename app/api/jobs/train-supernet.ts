/**
 * Super-network training in a worker thread (the pipeline's training step), its events translated to API events. Aborting the
 * signal makes the trainer checkpoint after the current step and return; training the same network into the same
 * folder again resumes from that checkpoint.
 */
import { loadNetwork } from '../../../core/arch/index.ts';
import { checkDatasetFits } from '../../../core/supernet/dataset-fit.ts';
import { openJobDataset } from '../../../pipeline/dataset.ts';
import { trainSupernetStep } from '../../../pipeline/steps/train-supernet.ts';
import type { TrainSupernetConfig } from '../contract/schemas.ts';
import type { RunSummary } from '../contract/types.ts';
import type { WorkerJobContext } from '../worker-protocol.ts';

export interface TrainSupernetTask {
  config: TrainSupernetConfig;
  /** Checkpoint folder (created; an existing checkpoint there is resumed). */
  checkpointDir: string;
  resume: boolean;
}

export async function trainSupernetJob(rawTask: unknown, ctx: WorkerJobContext): Promise<RunSummary> {
  const task = rawTask as TrainSupernetTask;
  const createdAt = new Date().toISOString();
  const spec = loadNetwork(task.config.network);
  ctx.emit({ kind: 'progress', phase: 'loading the dataset', done: 0, total: 1 });
  const dataset = await openJobDataset(task.config.dataset);
  checkDatasetFits(spec, dataset);
  let lastLoss: number | undefined;
  const { interrupted } = await trainSupernetStep({
    spec,
    dataset,
    outDir: task.checkpointDir,
    resume: task.resume,
    signal: ctx.signal,
    config: {
      epochs: task.config.epochs,
      batchSize: task.config.batchSize,
      lr: task.config.learningRate,
      orderedDropout: task.config.orderedDropout,
      seed: task.config.seed,
    },
    onEvent: (pipelineEvent) => {
      if (pipelineEvent.type !== 'supernet') return;
      const event = pipelineEvent.event;
      if (event.type === 'step') {
        lastLoss = event.loss;
        const stepsPerEpoch = Math.max(1, Math.round(event.totalSteps / task.config.epochs));
        ctx.emit({ kind: 'train-step', epoch: event.epoch, step: event.step % stepsPerEpoch, stepsPerEpoch, loss: event.loss, imagesPerSecond: event.imagesPerSec });
        ctx.emit({ kind: 'progress', phase: `epoch ${event.epoch + 1} of ${task.config.epochs}`, done: event.step, total: event.totalSteps, etaSeconds: event.etaSec });
      } else if (event.type === 'epoch') {
        ctx.emit({ kind: 'train-epoch', epoch: event.epoch, epochs: task.config.epochs, loss: event.loss });
      } else if (event.type === 'checkpoint') {
        ctx.emit({ kind: 'log', level: 'info', message: `checkpoint saved to ${event.path} (${event.reason})` });
      }
    },
  });
  return {
    runId: task.checkpointDir,
    kind: 'train',
    network: spec.name,
    status: interrupted ? 'paused' : 'done',
    createdAt,
    updatedAt: new Date().toISOString(),
    metric: '',
    unit: '',
    iterations: task.config.epochs,
    message: interrupted ? `interrupted; train again into ${task.checkpointDir} to resume` : `checkpoint: ${task.checkpointDir}`,
    ...(lastLoss !== undefined ? { bestScore: -lastLoss } : {}),
  };
}
