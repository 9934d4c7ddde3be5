import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchSpace } from '../../../../core/arch/index.ts';
import { UserError } from '../../../../core/errors.ts';
import { sampleBatchSubnets } from '../../../../core/supernet/sampling.ts';
import { subnetSliceMasks } from '../../../../core/supernet/slice-masks.ts';
import { closeGradientEngines, defaultTrainingWorkers, gradientEngine } from '../../../../core/supernet/training/gradient-workers.ts';
import { shardGradients, splitShard, trainableSizes, type GradientShard } from '../../../../core/supernet/training/shard.ts';
import { trainSubnetwork } from '../../../../core/supernet/training/subnet-trainer.ts';
import { SupernetTrainer } from '../../../../core/supernet/training/supernet-trainer.ts';
import { SupernetWeights } from '../../../../core/supernet/weights.ts';
import { useTestBackend } from '../backend.ts';
import { randomizedWeights } from '../fixtures.ts';
import { resumeFixture } from './train-fixture.ts';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'grad-workers-'));

beforeAll(async () => {
  await useTestBackend();
});
afterAll(() => {
  closeGradientEngines();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** Batch 0 of the fixture's training split as a whole-batch shard with per-image sub-networks. */
function wholeShard(n = 8): GradientShard {
  const { spec, dataset } = resumeFixture();
  const batch = dataset.split('train').batch(0, n, { seed: 1, epoch: 0, dropLast: true });
  const subnets = sampleBatchSubnets(searchSpace(spec), n, 1, 0, { kernels: 'per-image' });
  return {
    n, height: batch.height, width: batch.width, images: batch.images, labels: batch.labels as Int32Array, subnets,
    imageWeights: Float32Array.from({ length: n }, (_, i) => 0.5 + i / n),
    lossScale: 1, labelSmoothing: 0.1, depthLoss: 'l1',
  } as GradientShard;
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('splitShard', () => {
  it('splits into contiguous shards whose loss shares add up to the whole', () => {
    const whole = wholeShard(8);
    const parts = splitShard(whole, 3);
    expect(parts.map((p) => p.n)).toEqual([2, 3, 3]);
    expect(parts.reduce((s, p) => s + p.lossScale, 0)).toBeCloseTo(1, 6);
    // Shares follow the image weights: the first shard holds the two lightest images.
    const w = whole.imageWeights as Float32Array;
    expect(parts[0]?.lossScale).toBeCloseTo(((w[0] as number) + (w[1] as number)) / w.reduce((a, b) => a + b, 0), 6);
    expect(parts[2]?.labels).toEqual((whole.labels as Int32Array).slice(5));
    expect(parts[1]?.subnets).toEqual(whole.subnets?.slice(2, 5));
  });

  it('keeps at least two images per shard (batch statistics)', () => {
    expect(splitShard(wholeShard(6), 8).map((p) => p.n)).toEqual([2, 2, 2]);
    expect(splitShard(wholeShard(3), 2)).toHaveLength(1);
  });
});

describe('data-parallel gradients (2 worker threads)', () => {
  it('equal the sum of the shards computed in one thread, bit for bit', async () => {
    const { spec } = resumeFixture();
    const weights = randomizedWeights(spec, 4);
    const whole = wholeShard(8);
    const engine = await gradientEngine(weights, 2);
    const parallel = await engine.compute(weights, whole);
    const parallelGrads = parallel.grads.slice();
    const total = trainableSizes(weights).reduce((a, b) => a + b, 0);
    const [a, b] = splitShard(whole, 2) as [GradientShard, GradientShard];
    const ga = new Float32Array(total);
    const gb = new Float32Array(total);
    const ra = shardGradients(weights, a, ga);
    const rb = shardGradients(weights, b, gb);
    expect(parallel.loss).toBe(ra.loss + rb.loss);
    expect(maxAbs(parallelGrads, ga.map((v, i) => v + (gb[i] as number)))).toBe(0);
    // The moving statistics follow shard 0.
    expect(parallel.stats.map((s) => s.id)).toEqual(ra.stats.map((s) => s.id));
    expect(maxAbs(parallel.stats[0]?.mean as Float32Array, ra.stats[0]?.mean as Float32Array)).toBe(0);
    // The same engine with other weights: the workers follow the weights of each call.
    const other = randomizedWeights(spec, 9);
    const again = await engine.compute(other, whole);
    const g2 = new Float32Array(total);
    const g3 = new Float32Array(total);
    const r2 = shardGradients(other, a, g2);
    const r3 = shardGradients(other, b, g3);
    expect(again.loss).toBe(r2.loss + r3.loss);
    expect(maxAbs(again.grads, g2.map((v, i) => v + (g3[i] as number)))).toBe(0);
    weights.dispose();
    other.dispose();
  }, 120_000);

  it('distill from a teacher whose weights the workers receive once', async () => {
    const { spec } = resumeFixture();
    const weights = randomizedWeights(spec, 4);
    const teacher = randomizedWeights(spec, 5);
    const whole: GradientShard = { ...wholeShard(8), teacher: { alpha: 0.5, temperature: 2 } };
    delete whole.imageWeights;
    const engine = await gradientEngine(weights, 2);
    const parallel = await engine.compute(weights, whole, teacher);
    const total = trainableSizes(weights).reduce((a, b) => a + b, 0);
    const [a, b] = splitShard(whole, 2) as [GradientShard, GradientShard];
    const ga = new Float32Array(total);
    const gb = new Float32Array(total);
    const loss = shardGradients(weights, a, ga, teacher).loss + shardGradients(weights, b, gb, teacher).loss;
    expect(parallel.loss).toBe(loss);
    expect(maxAbs(parallel.grads, ga.map((v, i) => v + (gb[i] as number)))).toBe(0);
    weights.dispose();
    teacher.dispose();
  }, 120_000);

  it('super-network training is deterministic for a worker count and resumes exactly', async () => {
    const { spec, dataset, config } = resumeFixture();
    const straight = SupernetTrainer.create({ spec, dataset, config: { ...config, epochs: 1, workers: 2 } });
    expect(straight.config.workers).toBe(2);
    await straight.run();
    const dir = path.join(tmpRoot, 'resume');
    const first = SupernetTrainer.create({ spec, dataset, config: { ...config, epochs: 1, workers: 2 }, outDir: dir });
    await first.run({ stopAfterStep: 3 });
    first.dispose();
    const second = SupernetTrainer.create({ spec, dataset, outDir: dir, resume: true });
    expect(second.config.workers).toBe(2);
    await second.run();
    expect(second.losses).toEqual(straight.losses);
    const a = straight.weights.snapshot();
    for (const [name, data] of second.weights.snapshot()) expect(maxAbs(data, a.get(name) as Float32Array), name).toBe(0);
    // One worker trains the whole batch's BN statistics: another run, close but not the same numbers.
    const single = SupernetTrainer.create({ spec, dataset, config: { ...config, epochs: 1, workers: 1 } });
    await single.run();
    expect(single.losses[0]).toBeCloseTo(straight.losses[0] as number, 1);
    expect(single.losses).not.toEqual(straight.losses);
    for (const t of [straight, second, single]) t.dispose();
  }, 240_000);

  it('one sub-network\'s training gives the same weights on 2 workers run twice, and only its slice moves', async () => {
    const { spec, dataset } = resumeFixture();
    const space = searchSpace(spec);
    const subnet = { levels: space.layers.map((l) => Math.max(l.minLevel, space.widthLevels - 2)), kernels: space.layers.map((l) => l.fullKernel) };
    const run = async () => {
      const weights = SupernetWeights.init(spec, 3);
      const masks = subnetSliceMasks(weights, subnet);
      const before = weights.snapshot();
      const result = await trainSubnetwork({ weights, subnet, dataset, steps: 4, config: { batchSize: 8, seed: 2, lr: 0.02, workers: 2 } });
      const snapshot = weights.snapshot();
      for (const [name, old] of before) {
        const mask = masks.get(name) as Uint8Array;
        const now = snapshot.get(name) as Float32Array;
        for (let j = 0; j < old.length; j++) if (mask[j] === 0) expect(now[j], `${name}[${j}]`).toBe(old[j]);
      }
      weights.dispose();
      return { losses: result.losses, snapshot };
    };
    const [x, y] = [await run(), await run()];
    expect(x.losses).toHaveLength(4);
    expect(y.losses).toEqual(x.losses);
    for (const [name, data] of x.snapshot) expect(maxAbs(data, y.snapshot.get(name) as Float32Array), name).toBe(0);
  }, 120_000);
});

describe('worker count', () => {
  it('defaults to the machine\'s cores, or $NETADAPT_TRAIN_WORKERS, and refuses nonsense', () => {
    expect(defaultTrainingWorkers({})).toBeGreaterThanOrEqual(1);
    expect(defaultTrainingWorkers({ NETADAPT_TRAIN_WORKERS: '3' })).toBe(3);
    expect(() => defaultTrainingWorkers({ NETADAPT_TRAIN_WORKERS: 'many' })).toThrow(UserError);
    const { spec, dataset, config } = resumeFixture();
    expect(() => SupernetTrainer.create({ spec, dataset, config: { ...config, workers: -1 } })).toThrow(/workers must be a whole number/);
  });
});
