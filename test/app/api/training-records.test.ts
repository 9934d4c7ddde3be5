import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainSupernetParams } from '../../../app/api/contract/schemas.ts';
import { listTrainingRecords, newTrainingRecord, readTrainingRecord, trainingId, trainingStatus, writeTrainingRecord } from '../../../app/api/training-records.ts';

const dir = mkdtempSync(join(tmpdir(), 'training-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training records', () => {
  it('names a training by its recipe: the same settings continue one checkpoint, other epochs too, other knobs not', () => {
    const base = trainSupernetParams.parse({});
    expect(trainingId(base)).toMatch(/^mobilenet-v3-demo-32-[0-9a-f]{10}$/);
    expect(trainingId({ ...base, epochs: 20 })).toBe(trainingId(base));
    expect(trainingId({ ...base, fullNetworkEpochs: 3 })).not.toBe(trainingId(base));
    expect(trainingId({ ...base, dataset: { ...base.dataset, trainImages: 3000 } })).not.toBe(trainingId(base));
  });

  it('shows a "running" training whose process is gone as interrupted (kill -9 of the app)', () => {
    const params = trainSupernetParams.parse({});
    const record = newTrainingRecord(trainingId(params), params);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number; // a pid that has exited
    const folder = join(dir, record.id);
    mkdirSync(folder);
    writeTrainingRecord(folder, { ...record, ownerPid: dead });
    const read = readTrainingRecord(folder)!;
    expect(read.datasetSpec).toBe('synthetic?trainSize=6000&heldoutSize=1000&testSize=1000');
    expect(trainingStatus(read, false)).toBe('interrupted');
    expect(trainingStatus({ ...read, ownerPid: process.pid }, true)).toBe('running');
    expect(trainingStatus({ ...read, status: 'done' }, false)).toBe('done');
    expect(listTrainingRecords(dir).map((r) => r.record.id)).toEqual([record.id]);
  });
});
