// Tests app/cli/commands/export.ts (float and int8 export).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../../app/cli/commands/export.ts';
import { ValidationError } from '../../../core/errors.ts';
import { readTfliteModel } from '../../../core/export/tflite/reader.ts';
import { syntheticClassification } from '../../../core/data/synthetic-classification.ts';
import { SupernetTrainer } from '../../../core/supernet/training/supernet-trainer.ts';
import { tintSpec, tintSpecInput } from '../../core/supernet/training/final-fixture.ts';
import { useTestBackend } from '../../core/supernet/backend.ts';
import { runCommand } from './run-command.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netadapt-export-'));
const specFile = path.join(dir, 'tint.json');
const checkpoint = path.join(dir, 'ckpt');
const run = (args: string[]): Promise<string> => runCommand(register, ['export', ...args]);
const data = 'synthetic?size=8&classes=4&trainSize=64&heldoutSize=8';

beforeAll(async () => {
  await useTestBackend();
  fs.writeFileSync(specFile, JSON.stringify(tintSpecInput()));
  const trainer = SupernetTrainer.create({
    spec: tintSpec(),
    dataset: syntheticClassification({ size: 8, classes: 4, trainSize: 64, heldoutSize: 8, testSize: 0, seed: 1 }),
    outDir: checkpoint,
    config: { epochs: 1, batchSize: 32, seed: 1, optimizer: 'sgd', lr: 0.05, orderedDropout: false },
  });
  await trainer.run();
  trainer.dispose();
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const types = (file: string) => new Set(readTfliteModel(new Uint8Array(fs.readFileSync(file))).subgraphs[0]?.tensors.map((t) => t.type));

describe('netadapt export --int8', () => {
  it('calibrates a checkpoint on the dataset and writes an int8 model', async () => {
    const out = path.join(dir, 'int8.tflite');
    const printed = await run(['--network', specFile, '--weights', checkpoint, '--int8', '--data', data, '--calibration-images', '32', '--calibration', 'percentile', '--out', out]);
    expect(printed).toMatch(/wrote .*int8\.tflite: \d+ bytes.*\(int8, weights from .*ckpt, calibrated on 32 images of synthetic/);
    expect(types(out)).toEqual(new Set(['float32', 'int8', 'int32']));
  });

  it('--int8-io writes int8 inputs and outputs; random weights get nominal ranges (for latency only)', async () => {
    const out = path.join(dir, 'io.tflite');
    expect(await run(['--network', specFile, '--int8', '--int8-io', '--out', out])).toMatch(/int8 with nominal ranges, random weights: for latency measurements only/);
    const sg = readTfliteModel(new Uint8Array(fs.readFileSync(out))).subgraphs[0];
    expect(sg?.tensors[sg.inputs[0] as number]?.type).toBe('int8');
    expect(sg?.tensors[sg.outputs[0] as number]?.type).toBe('int8');
  });

  it('explains what is missing', async () => {
    const out = path.join(dir, 'x.tflite');
    await expect(run(['--network', specFile, '--weights', checkpoint, '--int8', '--out', out])).rejects.toThrow(ValidationError);
    await expect(run(['--network', specFile, '--weights', checkpoint, '--int8', '--out', out])).rejects.toThrow(/--int8 with --weights needs --data/);
    await expect(run(['--network', specFile, '--data', data, '--out', out])).rejects.toThrow(/only apply with --int8/);
    await expect(run(['--network', specFile, '--weights', checkpoint, '--int8', '--data', data, '--calibration', 'max', '--out', out])).rejects.toThrow(/--calibration must be minmax or percentile/);
  });
});
