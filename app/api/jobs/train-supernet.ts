/**
 * Super-network training in a worker thread: the pipeline's training step with the demo's recipe and the knobs the
 * request sets, its events translated to API events (steps with loss and images/s, held-out scores of the full network
 * and the smallest sub-network per epoch), its progress recorded in training.json. Aborting the signal makes the
 * trainer checkpoint after the current step and return; training with the same settings again resumes there.
 */
import { loadNetwork } from '../../../core/arch/index.ts';
import { checkDatasetFits } from '../../../core/supernet/dataset-fit.ts';
import type { SupernetTrainConfig } from '../../../core/supernet/training/config.ts';
import { demoTrainConfig } from '../../../core/supernet/training/recipes.ts';
import { openJobDataset } from '../../../pipeline/dataset.ts';
import { trainSupernetStep } from '../../../pipeline/steps/train-supernet.ts';
import type { TrainSupernetConfig } from '../contract/schemas.ts';
import type { RunSummary } from '../contract/types.ts';
import { readTrainingRecord, writeTrainingRecord, type TrainingRecord } from '../training-records.ts';
import type { WorkerJobContext } from '../worker-protocol.ts';

export interface TrainSupernetTask {
  config: TrainSupernetConfig;
  /** Checkpoint folder (created; an existing checkpoint there is resumed). */
  checkpointDir: string;
  resume: boolean;
}

/** The demo recipe (its schedule scaled to the epochs) with the request's knobs. */
export function trainConfigOf(params: TrainSupernetConfig): Partial<SupernetTrainConfig> {
  return {
    ...demoTrainConfig(params.epochs),
    fullNetworkEpochs: params.orderedDropout ? params.fullNetworkEpochs : 0,
    batchSize: params.batchSize,
    lr: params.learningRate,
    optimizer: params.optimizer,
    orderedDropout: params.orderedDropout,
    depthSampling: params.depthSampling,
    removalShare: params.removalShare,
    seed: params.seed,
  };
}

export async function trainSupernetJob(rawTask: unknown, ctx: WorkerJobContext): Promise<RunSummary> {
  const task = rawTask as TrainSupernetTask;
  const params = task.config;
  const spec = loadNetwork(params.network);
  const record: TrainingRecord | undefined = readTrainingRecord(task.checkpointDir);
  if (!record) throw new Error(`${task.checkpointDir} has no training record`);
  const save = (changes: Partial<TrainingRecord>) => {
    Object.assign(record, changes);
    writeTrainingRecord(task.checkpointDir, record);
  };
  ctx.emit({ kind: 'progress', phase: 'loading the dataset', done: 0, total: 1 });
  const dataset = await openJobDataset(record.datasetSpec);
  checkDatasetFits(spec, dataset);
  let lastLoss: number | undefined;
  let stepsPerEpoch = 1;
  try {
    const result = await trainSupernetStep({
      spec,
      dataset,
      outDir: task.checkpointDir,
      resume: task.resume,
      signal: ctx.signal,
      // A resumed training keeps its checkpoint's recipe (its schedule was scaled to the first epochs); only the new
      // total changes, as with `netadapt train-supernet --resume --epochs N`.
      config: task.resume ? { epochs: params.epochs } : trainConfigOf(params),
      evaluate: params.evaluateEveryEpoch ? 'epoch' : 'end',
      evalImages: params.evalImages,
      onEvent: (event) => {
        if (event.type === 'phase' && event.status === 'started' && event.message) {
          ctx.emit({ kind: 'log', level: 'info', message: `${spec.name} on ${dataset.name}: ${event.message}` });
        } else if (event.type === 'supernet-heldout') {
          const entry = { epoch: event.epoch, full: event.full.score, smallest: event.smallest.score };
          ctx.emit({ kind: 'train-heldout', ...entry });
          save({ heldout: [...record.heldout.filter((h) => h.epoch !== event.epoch), entry] });
        } else if (event.type === 'supernet') {
          const e = event.event;
          if (e.type === 'step') {
            lastLoss = e.loss;
            stepsPerEpoch = Math.max(1, Math.round(e.totalSteps / params.epochs));
            ctx.emit({ kind: 'train-step', epoch: e.epoch, step: ((e.step - 1) % stepsPerEpoch) + 1, stepsPerEpoch, loss: e.loss, imagesPerSecond: e.imagesPerSec });
            ctx.emit({ kind: 'progress', phase: `epoch ${e.epoch + 1} of ${params.epochs}`, done: e.step, total: e.totalSteps, etaSeconds: Math.round(e.etaSec), message: `${e.imagesPerSec.toFixed(0)} images/s` });
          } else if (e.type === 'epoch') {
            ctx.emit({ kind: 'train-epoch', epoch: e.epoch, epochs: params.epochs, loss: e.loss });
            save({ epochsDone: e.epoch + 1, step: e.step, totalSteps: e.totalSteps, lastLoss: e.loss });
          } else if (e.type === 'checkpoint' && e.reason === 'interrupt') {
            ctx.emit({ kind: 'log', level: 'info', message: `checkpoint saved at step ${e.step}` });
            save({ step: e.step, totalSteps: Math.max(record.totalSteps, e.step) });
          }
        }
      },
    });
    const done = !result.interrupted;
    save({
      status: done ? 'done' : 'paused',
      step: result.steps,
      totalSteps: result.totalSteps,
      // From the training's own totals: a run that made no step (already finished, cancelled at once) saw no step event.
      epochsDone: Math.floor(result.steps / Math.max(1, Math.round(result.totalSteps / params.epochs))),
      ...(lastLoss !== undefined ? { lastLoss } : {}),
      message: done ? '' : 'cancelled; train again with the same settings to continue',
    });
  } catch (error) {
    save({ status: 'failed', message: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  const last = record.heldout.at(-1);
  return {
    runId: record.id,
    kind: 'train',
    title: `super-network of ${spec.name}`,
    network: spec.name,
    status: record.status === 'done' ? 'done' : 'paused',
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    metric: '',
    unit: '',
    iterations: record.epochsDone,
    message: record.message,
    ...(last ? { bestScore: last.full } : {}),
    scoreKind: 'accuracy',
    scoreLabel: 'held-out top-1 accuracy (full network)',
  };
}
