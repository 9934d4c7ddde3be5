/**
 * The app's record of a super-network training, training.json next to its checkpoint: what was asked, how far it got,
 * the held-out scores per epoch, and which process runs it. Written atomically (temp file + rename) after every epoch,
 * so a killed app leaves the last epoch's state; a record saying "running" whose process is gone is "interrupted".
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../core/process-alive.ts';
import { writeFileAtomically } from '../../core/fs-errors.ts';
import { datasetShorthand, type TrainSupernetConfig } from './contract/schemas.ts';
import type { CheckpointInfo, HeldoutRecord, RunStatus } from './contract/types.ts';

export const TRAINING_RECORD = 'training.json';
const FORMAT = 'netadapt-app-training/1';

export interface TrainingRecord {
  format: typeof FORMAT;
  id: string;
  network: string;
  params: TrainSupernetConfig;
  /** The dataset as the engine opens it (core/data shorthand). */
  datasetSpec: string;
  status: 'running' | 'paused' | 'done' | 'failed';
  ownerPid: number;
  createdAt: string;
  updatedAt: string;
  epochs: number;
  epochsDone: number;
  step: number;
  totalSteps: number;
  lastLoss?: number;
  heldout: HeldoutRecord[];
  message: string;
}

/**
 * The checkpoint folder name of a training: the network and a hash of everything but the epochs, so the same
 * settings continue the same checkpoint (after a cancel or kill -9) and other settings start a new one.
 */
export function trainingId(params: TrainSupernetConfig): string {
  const { epochs: _epochs, evaluateEveryEpoch: _every, evalImages: _images, ...recipe } = params;
  const hash = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 10);
  return `${params.network}-${hash}`;
}

export function newTrainingRecord(id: string, params: TrainSupernetConfig, previous?: TrainingRecord): TrainingRecord {
  const now = new Date().toISOString();
  return {
    format: FORMAT,
    id,
    network: params.network,
    params,
    datasetSpec: datasetShorthand(params.dataset),
    status: 'running',
    ownerPid: process.pid,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    epochs: params.epochs,
    epochsDone: previous?.epochsDone ?? 0,
    step: previous?.step ?? 0,
    totalSteps: previous?.totalSteps ?? 0,
    ...(previous?.lastLoss !== undefined ? { lastLoss: previous.lastLoss } : {}),
    heldout: previous?.heldout ?? [],
    message: '',
  };
}

export function readTrainingRecord(dir: string): TrainingRecord | undefined {
  const file = join(dir, TRAINING_RECORD);
  if (!existsSync(file)) return undefined;
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as TrainingRecord;
    return record.format === FORMAT ? record : undefined;
  } catch {
    return undefined;
  }
}

export function writeTrainingRecord(dir: string, record: TrainingRecord): void {
  // The caller's record too: what it reports next carries the time the file says.
  record.updatedAt = new Date().toISOString();
  writeFileAtomically(join(dir, TRAINING_RECORD), `${JSON.stringify(record, null, 2)}\n`, 'the training record');
}

/** The status a person should see: a "running" record whose process is gone was interrupted. */
export function trainingStatus(record: TrainingRecord, isRunningHere: boolean): RunStatus {
  if (record.status !== 'running') return record.status;
  if (isRunningHere) return 'running';
  return record.ownerPid !== process.pid && processAlive(record.ownerPid) ? 'running' : 'interrupted';
}

export function checkpointInfo(dir: string, record: TrainingRecord, status: RunStatus): CheckpointInfo {
  const last = record.heldout.at(-1);
  return {
    id: record.id,
    path: dir,
    network: record.network,
    dataset: record.params.dataset,
    status,
    epochsDone: record.epochsDone,
    epochs: record.epochs,
    updatedAt: record.updatedAt,
    ...(last ? { heldoutFull: last.full, heldoutSmallest: last.smallest } : {}),
  };
}

/** Every training record under `root` (one folder per training), newest first. */
export function listTrainingRecords(root: string): { dir: string; record: TrainingRecord }[] {
  if (!existsSync(root)) return [];
  const found: { dir: string; record: TrainingRecord }[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    const record = readTrainingRecord(dir);
    if (record) found.push({ dir, record });
  }
  return found.sort((a, b) => (a.record.updatedAt < b.record.updatedAt ? 1 : -1));
}
