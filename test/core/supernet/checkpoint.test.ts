import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNetworkSpec } from '../../../core/arch/index.ts';
import { FileFormatError, UserError } from '../../../core/errors.ts';
import { loadCheckpoint, saveCheckpoint } from '../../../core/supernet/checkpoint.ts';
import { createSupernetEvaluator, loadSupernetWeights } from '../../../core/supernet/evaluate.ts';
import { SupernetWeights } from '../../../core/supernet/weights.ts';
import { syntheticClassification } from '../../../core/data/synthetic-classification.ts';
import { useTestBackend } from './backend.ts';
import { smallSpec, smallSpecInput } from './fixtures.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'supernet-ckpt-'));
beforeAll(async () => {
  await useTestBackend();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeWeights(dir: string, weights: SupernetWeights): void {
  const tensors = weights.layout.map((p) => ({ key: `param/${p.name}`, shape: p.shape, data: weights.get(p.name).dataSync() as Float32Array }));
  saveCheckpoint(dir, weights.spec, tensors, { note: 'test' });
}

describe('checkpoints', () => {
  it('round-trips weights bit-exactly and leaves exactly one weights file', () => {
    const dir = path.join(tmp, 'rt');
    const weights = SupernetWeights.init(smallSpec(), 3);
    writeWeights(dir, weights);
    writeWeights(dir, weights);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    const loaded = loadSupernetWeights(dir, smallSpec(), { ema: false });
    for (const p of weights.layout) expect(loaded.get(p.name).dataSync()).toEqual(weights.get(p.name).dataSync());
    expect(loadCheckpoint(dir).state).toEqual({ note: 'test' });
    loaded.dispose();
    weights.dispose();
  });

  it('a checkpoint of another network gives a UserError naming the layer', () => {
    const dir = path.join(tmp, 'other');
    const weights = SupernetWeights.init(smallSpec(), 3);
    writeWeights(dir, weights);
    weights.dispose();
    const wider = parseNetworkSpec({ ...smallSpecInput, layers: smallSpecInput.layers.map((u) => (u.name === 'pw5' ? { ...u, filters: 40 } : u)) });
    expect(() => loadSupernetWeights(dir, wider)).toThrow(UserError);
    expect(() => loadSupernetWeights(dir, wider)).toThrow(/pw5/);
  });

  it('a corrupt weights file is detected', () => {
    const dir = path.join(tmp, 'corrupt');
    const weights = SupernetWeights.init(smallSpec(), 3);
    writeWeights(dir, weights);
    weights.dispose();
    const bin = fs.readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    const bytes = fs.readFileSync(path.join(dir, bin));
    bytes[10] = (bytes[10] as number) ^ 0xff;
    fs.writeFileSync(path.join(dir, bin), bytes);
    expect(() => loadCheckpoint(dir)).toThrow(FileFormatError);
    expect(() => loadCheckpoint(path.join(tmp, 'missing'))).toThrow(FileFormatError);
  });
});

describe('supernet evaluator', () => {
  it('scores sub-networks in [0, 1] with MACs, and rejects a dataset that does not fit', async () => {
    const weights = SupernetWeights.init(smallSpec(), 3);
    const dataset = syntheticClassification({ size: 16, classes: 5, trainSize: 64, heldoutSize: 40, testSize: 0 });
    const evaluator = createSupernetEvaluator({ weights, dataset, calibrationBatches: 2, calibrationBatchSize: 16 });
    const result = await evaluator.evaluate();
    expect(result.score).toBeGreaterThanOrEqual(0);
    expect(result.score).toBeLessThanOrEqual(1);
    expect(result.metrics['images']).toBe(40);
    expect(result.metrics['macs']).toBeGreaterThan(0);
    evaluator.dispose();
    const wrong = syntheticClassification({ size: 16, classes: 7, trainSize: 64, heldoutSize: 8, testSize: 0 });
    expect(() => createSupernetEvaluator({ weights, dataset: wrong })).toThrow(/classes/);
    weights.dispose();
  });
});
