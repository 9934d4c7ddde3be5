import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticClassification } from '../../core/data/synthetic-classification.ts';
import { fullSubnet, searchSpace } from '../../core/arch/index.ts';
import { SupernetWeights } from '../../core/supernet/weights.ts';
import { initBackend } from '../../core/tensor/backend.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyWeights, lockCheckpointDir, scoreSubnet, trainTimedSupernet } from '../../bench/supernet-runs.ts';
import { tinySpec } from '../core/search/helpers.ts';

const spec = tinySpec();

function differs(a: SupernetWeights, b: SupernetWeights): boolean {
  const sb = b.snapshot();
  return [...a.snapshot()].some(([name, values]) => values.some((v, i) => v !== sb.get(name)![i]));
}

beforeAll(async () => {
  await initBackend();
});

describe('bench helpers', () => {
  it('copyWeights makes an independent copy', () => {
    const original = SupernetWeights.init(spec, 1);
    const copy = copyWeights(original);
    expect(differs(original, copy)).toBe(false);
    const name = original.layout.find((p) => p.trainable)!.name;
    copy.assignAll(new Map([[name, new Float32Array(copy.get(name).size).fill(0.5)]]));
    expect(differs(original, copy)).toBe(true);
    original.dispose();
    copy.dispose();
  });

  it('scoreSubnet scores a split as a fraction of its images', async () => {
    const dataset = syntheticClassification({ size: 8, classes: 2, trainSize: 64, heldoutSize: 10, testSize: 8, seed: 3 });
    const weights = SupernetWeights.init(spec, 2);
    const full = fullSubnet(searchSpace(spec));
    for (const [split, images] of [['heldout', 10], ['test', 8]] as const) {
      const score = await scoreSubnet(weights, dataset, full, split, { calibrationBatches: 1 });
      expect(Math.abs(score * images - Math.round(score * images))).toBeLessThan(1e-9);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    weights.dispose();
  });

  it('trainTimedSupernet with a checkpoint directory loads a finished training instead of training again', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-supernet-'));
    const dir = path.join(root, 'nets', 'tiny'); // not there yet: the training creates it
    const dataset = syntheticClassification({ size: 8, classes: 2, trainSize: 64, heldoutSize: 8, testSize: 8, seed: 3 });
    const config = { epochs: 2, batchSize: 16, seed: 4 };
    try {
      const first = await trainTimedSupernet(spec, dataset, config, () => {}, dir);
      expect(first.steps).toBe(8);
      const lines: string[] = [];
      const again = await trainTimedSupernet(spec, dataset, config, (line) => lines.push(line), dir);
      expect(lines.join('\n')).toMatch(/continuing the checkpoint .* at step 8\/8/);
      expect(again.steps).toBe(8);
      expect(differs(first.weights, again.weights)).toBe(false);
      // The seconds of the session that trained it, not the (near zero) time of loading it.
      expect(again.trainSeconds).toBeGreaterThanOrEqual(first.trainSeconds);
      expect(again.finalLoss).toBeCloseTo(first.finalLoss, 6);
      first.weights.dispose();
      again.weights.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('checkpoint directory lock', () => {
  it('makes a second holder wait until the first releases, and takes over a dead process\'s lock', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lock-'));
    try {
      const release = await lockCheckpointDir(dir, () => {}, 5);
      const lines: string[] = [];
      let second: (() => void) | undefined;
      const waiting = lockCheckpointDir(dir, (line) => lines.push(line), 5).then((r) => (second = r));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(second).toBeUndefined();
      expect(lines.join('\n')).toMatch(new RegExp(`waiting for process ${process.pid}`));
      release();
      await waiting;
      expect(second).toBeDefined();
      second!();
      // A lock whose process is gone (pid far above any live one) does not block.
      fs.writeFileSync(path.join(dir, 'training.lock'), '999999999');
      const third = await lockCheckpointDir(dir, () => {}, 5);
      expect(fs.readFileSync(path.join(dir, 'training.lock'), 'utf8')).toBe(String(process.pid));
      third();
      expect(fs.existsSync(path.join(dir, 'training.lock'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
