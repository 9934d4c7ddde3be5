// Tests pipeline/quantized-export.ts, tflite-score.ts and steps/int8.ts on a briefly trained tint network.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimalSubnet, searchSpace, type SubnetConfig } from '../../core/arch/index.ts';
import { loadTfliteRuntime } from '../../core/export/runtime/litert.ts';
import { readTfliteModel } from '../../core/export/tflite/reader.ts';
import { createSupernetEvaluator, loadSupernetWeights } from '../../core/supernet/evaluate.ts';
import { scoreTfliteModel } from '../../pipeline/tflite-score.ts';
import { exportQuantized } from '../../pipeline/quantized-export.ts';
import { exportAndScoreInt8 } from '../../pipeline/steps/int8.ts';
import { SupernetTrainer } from '../../core/supernet/training/supernet-trainer.ts';
import { tintDataset, tintSpec } from '../core/supernet/training/final-fixture.ts';
import { useTestBackend } from '../core/supernet/backend.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-step-'));
const spec = tintSpec();
const dataset = tintDataset({ test: 200 });
const checkpoint = path.join(tmp, 'supernet');
const space = searchSpace(spec);
const subnet: SubnetConfig = { levels: space.layers.map((l) => Math.max(l.minLevel, 2)), kernels: minimalSubnet(space).kernels };

beforeAll(async () => {
  await useTestBackend();
  const trainer = SupernetTrainer.create({
    spec, dataset, outDir: checkpoint,
    config: { epochs: 3, batchSize: 32, seed: 1, optimizer: 'sgd', lr: 0.05, warmupEpochs: 0.2, orderedDropout: false },
  });
  await trainer.run();
  trainer.dispose();
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const argmax = (v: Float32Array): number => v.indexOf(Math.max(...v));

describe('int8 export of a trained network', () => {
  it('the float .tflite scores in LiteRT what the tfjs network scores; the int8 one agrees with it on ≥ 98% of test images', async () => {
    const weights = loadSupernetWeights(checkpoint, spec);
    try {
      const exported = exportQuantized({ weights, dataset, calibrationImages: 64 });
      const evaluator = createSupernetEvaluator({ weights, dataset, split: 'test', calibrationBatches: 0 });
      const reference = await evaluator.evaluate();
      evaluator.dispose();
      const float = await scoreTfliteModel(exported.float, dataset);
      const int8 = await scoreTfliteModel(exported.int8, dataset);
      console.log(`tint network, test split: tfjs ${reference.score.toFixed(3)}, float .tflite ${float.score.toFixed(3)}, int8 .tflite ${int8.score.toFixed(3)}`);
      expect(reference.score).toBeGreaterThan(0.6);
      expect(Math.abs(float.score - reference.score)).toBeLessThanOrEqual(1 / 200);
      expect(float.metrics['images']).toBe(200);

      const runtime = await loadTfliteRuntime();
      const [f, q] = [await runtime.load(exported.float), await runtime.load(exported.int8)];
      try {
        const test = dataset.split('test');
        let agree = 0;
        for (let i = 0; i < test.size; i++) {
          const image = test.get([i]).images;
          if (argmax((await f.run([image]))[0] as Float32Array) === argmax((await q.run([image]))[0] as Float32Array)) agree++;
        }
        expect(agree / test.size).toBeGreaterThanOrEqual(0.98);
      } finally {
        f.close();
        q.close();
      }
      const tensors = readTfliteModel(exported.int8).subgraphs[0]?.tensors ?? [];
      expect(tensors.filter((t) => t.name.endsWith('/weights')).every((t) => t.type === 'int8')).toBe(true);
      expect(exported.int8.length).toBeLessThan(exported.float.length);
      expect(exported.calibrationImages).toBe(64);
    } finally {
      weights.dispose();
    }
  }, 60_000);

  it('the int8 step writes both files and scores both on the test split', async () => {
    const outDir = path.join(tmp, 'result');
    fs.mkdirSync(outDir);
    const messages: string[] = [];
    const result = await exportAndScoreInt8({ checkpointDir: checkpoint, spec, subnet, dataset, outDir, calibrationImages: 64, onProgress: (m) => messages.push(m) });
    expect(result.split).toBe('test');
    expect(fs.readFileSync(result.int8Path).length).toBe(result.int8Bytes);
    expect(fs.readFileSync(result.floatPath).length).toBe(result.floatBytes);
    expect(fs.readdirSync(outDir).sort()).toEqual(['network-float.tflite', 'network-int8.tflite']);
    expect(Math.abs(result.int8.score - result.float.score)).toBeLessThanOrEqual(0.02);
    expect(messages.some((m) => /scoring the int8 model in LiteRT: 200\/200/.test(m))).toBe(true);
  }, 60_000);

  it('refuses a dataset split the dataset lacks and a model of another input size, with clear errors', async () => {
    const weights = loadSupernetWeights(checkpoint, spec);
    try {
      const { int8 } = exportQuantized({ weights, dataset, calibrationImages: 8 });
      await expect(scoreTfliteModel(int8, tintDataset())).rejects.toThrow(/dataset "tint" has no test split/);
      const other = { ...dataset, inputShape: [16, 16, 3] as const, splitNames: dataset.splitNames, split: dataset.split.bind(dataset) };
      await expect(scoreTfliteModel(int8, other)).rejects.toThrow(/the model takes input \[1, 8, 8, 3\], the dataset's images are \[1, 16, 16, 3\]/);
    } finally {
      weights.dispose();
    }
  });
});
