import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../build/bundle.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Two folders below the root, like dist/cli, so paths relative to the bundle resolve as they do there.
let outdir = '';

beforeAll(async () => {
  outdir = mkdtempSync(path.join(root, 'dist', 'test-cli-'));
  await buildCli(outdir);
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });

describe('CLI bundle (build/bundle.ts)', () => {
  it('prints the same top-level help as the CLI run from source', () => {
    const fromBundle = node([path.join(outdir, 'main.js'), '--help']);
    const fromSource = node(['--import', 'tsx', path.join(root, 'app/cli/main.ts'), '--help']);
    expect(fromBundle).toContain('train-supernet');
    expect(fromBundle).toBe(fromSource);
  }, 60_000);

  it('runs a command, loading only its module', () => {
    const out = node([path.join(outdir, 'main.js'), 'arch', 'mobilenet-v3-demo-32']);
    expect(out).toContain('conv_head');
  }, 60_000);

  it('starts the bundled job worker and runs a registry job in it', async () => {
    const worker = new Worker(pathToFileURL(path.join(outdir, 'job-worker.js')));
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        worker.on('message', (m: { type: string; result?: unknown; error?: { message: string } }) => {
          if (m.type === 'done') resolve(m.result);
          else if (m.type === 'error') reject(new Error(m.error?.message));
        });
        worker.on('error', reject);
        worker.postMessage({ type: 'start', task: { job: 'sampleSearchSpace', params: { network: 'mobilenet-v3-demo-32', samples: 20, seed: 1 } } });
      });
      expect(result).toMatchObject({ points: expect.any(Array) });
    } finally {
      await worker.terminate();
    }
  }, 60_000);

  it('starts the bundled gradient worker, which computes a shard as the source does', async () => {
    const { useTestBackend } = await import('../core/supernet/backend.ts');
    const { resumeFixture } = await import('../core/supernet/training/train-fixture.ts');
    const { randomizedWeights } = await import('../core/supernet/fixtures.ts');
    const { shardGradients, trainableSizes } = await import('../../core/supernet/training/shard.ts');
    await useTestBackend();
    const { spec, dataset } = resumeFixture();
    const weights = randomizedWeights(spec, 2);
    const batch = dataset.split('train').batch(0, 4, { seed: 1, epoch: 0, dropLast: true });
    const shard = { n: 4, height: batch.height, width: batch.width, images: batch.images, labels: batch.labels as Int32Array, lossScale: 1, labelSmoothing: 0.1, depthLoss: 'l1' as const };
    const total = trainableSizes(weights).reduce((a, b) => a + b, 0);
    const shared = new Float32Array(new SharedArrayBuffer(4 * total * 2));
    let offset = 0;
    for (const v of weights.trainable()) {
      shared.set(v.dataSync() as Float32Array, offset);
      offset += v.size;
    }
    const expected = new Float32Array(total);
    const local = shardGradients(weights, shard, expected);
    const worker = new Worker(pathToFileURL(path.join(outdir, 'gradient-worker.js')));
    try {
      const answer = (message: unknown) => new Promise<{ type: string; loss?: number; message?: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(message);
      });
      expect(await answer({ type: 'init', spec, backend: 'wasm', shared: shared.buffer, slot: 0 })).toMatchObject({ type: 'ready' });
      const done = await answer({ type: 'step', shard });
      expect(done).toMatchObject({ type: 'done' });
      expect(done.loss).toBe(local.loss);
      expect(shared.subarray(total).every((v, i) => v === expected[i])).toBe(true);
    } finally {
      await worker.terminate();
      weights.dispose();
    }
  }, 60_000);

  it('starts the bundled evaluation worker, which scores a sub-network as the source does', async () => {
    const { useTestBackend } = await import('../core/supernet/backend.ts');
    const { randomizedWeights, smallSpec } = await import('../core/supernet/fixtures.ts');
    const { syntheticClassification } = await import('../../core/data/synthetic-classification.ts');
    const { evaluationImages } = await import('../../core/supernet/evaluate.ts');
    const { onnxEvaluatorOfImages } = await import('../../core/supernet/onnx-evaluator.ts');
    await useTestBackend();
    const spec = smallSpec();
    const weights = randomizedWeights(spec, 3);
    const dataset = syntheticClassification({ size: 16, classes: 5, trainSize: 64, heldoutSize: 40, testSize: 0, seed: 1 });
    const images = evaluationImages({ dataset, calibrationBatches: 1, calibrationBatchSize: 16 });
    const plain = (b: (typeof images.heldOut)[number]) => ({ size: b.size, height: b.height, width: b.width, images: b.images, indices: b.indices, ...(b.labels ? { labels: b.labels } : {}) });
    const expected = await (await onnxEvaluatorOfImages(weights, images)).evaluate();
    const worker = new Worker(pathToFileURL(path.join(outdir, 'evaluation-worker.js')));
    try {
      const answer = (message: unknown) => new Promise<{ type: string; evaluation?: { score: number }; message?: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(message);
      });
      const values = Object.fromEntries(weights.snapshot());
      const init = { type: 'init', spec, values, images: { calibration: images.calibration.map(plain), heldOut: images.heldOut.map(plain), total: images.total }, threads: 1, backend: 'wasm' };
      expect(await answer(init)).toMatchObject({ type: 'ready' });
      const result = await answer({ type: 'evaluate', id: 1 });
      expect(result).toMatchObject({ type: 'result' });
      expect(result.evaluation?.score).toBe(expected.score);
    } finally {
      await worker.terminate();
      weights.dispose();
    }
  }, 60_000);
});
