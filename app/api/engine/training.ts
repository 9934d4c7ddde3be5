/**
 * Super-network trainings of the app: one checkpoint folder each under <workspace folder>/checkpoints (the same
 * settings continue the same folder), the training itself in a worker thread, the trained checkpoints listed and
 * checked for a search.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { resolveNetwork } from '../../../core/arch/index.ts';
import { UserError } from '../../../core/errors.ts';
import { maxTrainBatch, trainingBytesPerImage } from '../../../core/supernet/batch-memory.ts';
import { checkpointExists, readCheckpointManifest } from '../../../core/supernet/checkpoint.ts';
import type { ValidParamsOf } from '../contract/methods.ts';
import type { CheckpointCheck, CheckpointInfo, RunSummary } from '../contract/types.ts';
import type { JobContext } from '../engine.ts';
import { CancelledError } from '../errors.ts';
import type { TrainSupernetTask } from '../jobs/train-supernet.ts';
import { checkpointInfo, listTrainingRecords, newTrainingRecord, readTrainingRecord, trainingId, trainingStatus, writeTrainingRecord } from '../training-records.ts';
import { runJobInWorker } from '../worker-runner.ts';
import { errorText, loadZooNetwork, type EngineContext } from './context.ts';

export class TrainingOperations {
  /** Checkpoint folders being trained by this process. */
  private readonly active = new Set<string>();

  constructor(private readonly ctx: EngineContext) {}

  async trainSupernet(params: ValidParamsOf<'trainSupernet'>, job: JobContext): Promise<RunSummary> {
    const spec = loadZooNetwork(params.network);
    const network = resolveNetwork(spec);
    const limit = maxTrainBatch(network);
    if (params.batchSize > limit) {
      const gb = (trainingBytesPerImage(network) * params.batchSize) / 1e9;
      throw new UserError(`a batch of ${params.batchSize} images does not fit in memory for ${params.network}: it needs about ${gb.toFixed(1)} GB`, [
        `the largest batch that fits is ${limit} images; 32 is the recipe's batch size`,
      ]);
    }
    const id = trainingId(params);
    const checkpointDir = join(this.ctx.checkpointsDir(), id);
    if (this.active.has(checkpointDir)) throw new UserError(`this super-network (${id}) is already training; wait for it or cancel it`);
    mkdirSync(checkpointDir, { recursive: true });
    const previous = readTrainingRecord(checkpointDir);
    const record = newTrainingRecord(id, params, previous);
    writeTrainingRecord(checkpointDir, record);
    const task: TrainSupernetTask = { config: params, checkpointDir, resume: checkpointExists(checkpointDir) };
    this.active.add(checkpointDir);
    try {
      // Training checkpoints after the current step when cancelled: give it time before terminating the thread.
      return (await runJobInWorker({ job: 'trainSupernet', params: task }, job, { workerUrl: this.ctx.options.workerUrl, cancelGraceMs: 60_000 })) as RunSummary;
    } catch (error) {
      // The worker records its own end; a worker that was terminated or crashed cannot, so record it here.
      const latest = readTrainingRecord(checkpointDir) ?? record;
      if (latest.status === 'running') {
        const cancelled = error instanceof CancelledError;
        writeTrainingRecord(checkpointDir, { ...latest, status: cancelled ? 'paused' : 'failed', message: cancelled ? 'cancelled; train again with the same settings to continue' : errorText(error) });
      }
      throw error;
    } finally {
      this.active.delete(checkpointDir);
    }
  }

  async listCheckpoints(params: ValidParamsOf<'listCheckpoints'>): Promise<CheckpointInfo[]> {
    return listTrainingRecords(this.ctx.checkpointsDir())
      .filter(({ record }) => params.network === undefined || record.network === params.network)
      .filter(({ dir }) => checkpointExists(dir))
      .map(({ dir, record }) => checkpointInfo(dir, record, trainingStatus(record, this.active.has(dir))));
  }

  /** Training runs for History. */
  trainingRuns(): RunSummary[] {
    return listTrainingRecords(this.ctx.checkpointsDir()).map(({ dir, record }) => {
      const status = trainingStatus(record, this.active.has(dir));
      const last = record.heldout.at(-1);
      return {
        runId: record.id,
        kind: 'train',
        title: `super-network of ${record.network}, ${record.epochs} epochs on ${record.datasetSpec.split('?')[0]}`,
        network: record.network,
        status,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        metric: '',
        unit: '',
        iterations: record.epochsDone,
        message: status === 'interrupted' ? 'the app stopped while it trained; train again with the same settings to continue' : record.message,
        ...(last ? { bestScore: last.full } : {}),
        scoreKind: 'accuracy',
        scoreLabel: spec(record.network).task === 'depth' ? 'held-out δ1 accuracy (full network)' : 'held-out top-1 accuracy (full network)',
      } satisfies RunSummary;
    });
  }

  /** A checkpoint id of this workspace or a checkpoint folder → its folder. */
  resolveCheckpoint(checkpoint: string): string {
    const byId = join(this.ctx.checkpointsDir(), checkpoint);
    if (/^[A-Za-z0-9._-]+$/.test(checkpoint) && existsSync(byId)) return byId;
    if (isAbsolute(checkpoint)) return resolve(checkpoint);
    throw new UserError(`no trained super-network "${checkpoint}" in this workspace`, ['pick one from the list, or give the absolute path of a checkpoint folder']);
  }

  async checkCheckpoint(params: ValidParamsOf<'checkCheckpoint'>): Promise<CheckpointCheck> {
    const problems: string[] = [];
    const warnings: string[] = [];
    let dir: string;
    try {
      dir = this.resolveCheckpoint(params.checkpoint);
    } catch (error) {
      return { ok: false, problems: [errorText(error)], warnings };
    }
    if (!checkpointExists(dir)) return { ok: false, problems: [`${dir} holds no super-network checkpoint (no manifest.json)`], warnings };
    const wanted = loadZooNetwork(params.network);
    try {
      const manifest = readCheckpointManifest(dir);
      const state = (manifest.state ?? {}) as { kind?: string };
      if (manifest.network.name !== wanted.name) problems.push(`it is a super-network of ${manifest.network.name}, not of ${wanted.name}`);
      else if (JSON.stringify(manifest.network) !== JSON.stringify(wanted)) problems.push(`it was trained on another definition of ${wanted.name} (the zoo changed since)`);
      if (state.kind !== undefined && state.kind !== 'supernet') problems.push(`it holds a ${state.kind} checkpoint, not a super-network`);
    } catch (error) {
      problems.push(errorText(error));
    }
    const record = readTrainingRecord(dir);
    const info = record ? checkpointInfo(dir, record, trainingStatus(record, this.active.has(dir))) : undefined;
    if (info && info.epochsDone < info.epochs) warnings.push(`its training stopped after ${info.epochsDone} of ${info.epochs} epochs: scores of sub-networks will be lower`);
    if (info?.heldoutFull !== undefined && info.heldoutSmallest !== undefined && info.heldoutFull < 0.3) {
      warnings.push(`its full network scored only ${(info.heldoutFull * 100).toFixed(1)}% held-out: the search will rank sub-networks poorly`);
    }
    return { ok: problems.length === 0, problems, warnings, ...(info ? { checkpoint: info } : {}) };
  }
}

function spec(name: string) {
  try {
    return loadZooNetwork(name);
  } catch {
    return { task: 'classification' as const };
  }
}
