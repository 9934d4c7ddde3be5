import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { searchSpace } from '../../../../core/arch/index.ts';
import { UserError } from '../../../../core/errors.ts';
import { sampleBatchSubnets } from '../../../../core/supernet/sampling.ts';
import { subnetSliceMasks } from '../../../../core/supernet/slice-masks.ts';
import { closeGradientEngines, defaultTrainingWorkers, gradientEngine, resolveTrainingWorkers } from '../../../../core/supernet/training/gradient-workers.ts';
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
  /** Relative difference of two gradients (largest |Δ| over the largest |value|). */
  const relative = (a: Float32Array, b: Float32Array) => maxAbs(a, b) / Math.max(1e-12, ...Array.from(b, Math.abs));

  it('equal the whole batch\'s gradient in one thread: synchronized BN groups, a layer only one shard runs', async () => {
    const { spec } = resumeFixture();
    const space = searchSpace(spec);
    const weights = randomizedWeights(spec, 4);
    const whole = wholeShard(8);
    // Three BN groups spread over both shards; a removable layer removed for every image of shard 0 only.
    whole.bnGroups = [5, 2, 5, 9, 2, 2, 9, 5];
    const removable = space.layers.findIndex((l) => l.minLevel === 0);
    expect(removable).toBeGreaterThanOrEqual(0);
    whole.subnets = (whole.subnets ?? []).map((c, i) => (i < 4 ? { ...c, levels: c.levels.map((v, j) => (j === removable ? 0 : v)) } : c));
    const total = trainableSizes(weights).reduce((a, b) => a + b, 0);
    const alone = new Float32Array(total);
    const one = shardGradients(weights, whole, alone);
    const engine = await gradientEngine(weights, 2);
    const parallel = await engine.compute(weights, whole);
    expect(Math.abs(parallel.loss - one.loss)).toBeLessThan(1e-5 * Math.abs(one.loss));
    expect(relative(parallel.grads, alone)).toBeLessThan(1e-5);
    // The moving statistics: the whole batch's, of image 0's group.
    expect(parallel.stats.map((x) => x.id)).toEqual(one.stats.map((x) => x.id));
    for (const [i, st] of parallel.stats.entries()) expect(relative(st.variance, one.stats[i]?.variance as Float32Array)).toBeLessThan(1e-5);
    // Run twice: bit for bit the same (the shards' sums are added in shard order).
    const again = await engine.compute(weights, whole);
    expect(maxAbs(again.grads, parallel.grads.slice())).toBe(0);
    // The same engine with other weights: the workers follow the weights of each call.
    const other = randomizedWeights(spec, 9);
    const otherAlone = new Float32Array(total);
    shardGradients(other, whole, otherAlone);
    expect(relative((await engine.compute(other, whole)).grads, otherAlone)).toBeLessThan(1e-5);
    weights.dispose();
    other.dispose();
  }, 120_000);

  it('distill from a teacher whose weights the workers receive once', async () => {
    const { spec } = resumeFixture();
    const weights = randomizedWeights(spec, 4);
    const teacher = randomizedWeights(spec, 5);
    const whole: GradientShard = { ...wholeShard(8), teacher: { alpha: 0.5, temperature: 2 } };
    delete whole.imageWeights;
    const total = trainableSizes(weights).reduce((a, b) => a + b, 0);
    const alone = new Float32Array(total);
    const one = shardGradients(weights, whole, alone, teacher);
    const engine = await gradientEngine(weights, 2);
    const parallel = await engine.compute(weights, whole, teacher);
    expect(Math.abs(parallel.loss - one.loss)).toBeLessThan(1e-5 * Math.abs(one.loss));
    expect(relative(parallel.grads, alone)).toBeLessThan(1e-5);
    weights.dispose();
    teacher.dispose();
  }, 120_000);

  it('a shard that fails fails the step with its message instead of leaving the others waiting', async () => {
    const { spec } = resumeFixture();
    const weights = randomizedWeights(spec, 4);
    const engine = await gradientEngine(weights, 2);
    const whole = wholeShard(8);
    // Labels out of range fail nothing in tfjs; a wrong image count fails the worker's shard before its first BN.
    const broken = { ...whole, images: whole.images.slice(0, whole.images.length - 5) };
    await expect(engine.compute(weights, broken)).rejects.toThrow();
    expect(engine.broken).toBe(true);
    // The next engine for this network is a new one.
    const next = await gradientEngine(weights, 2);
    expect(next).not.toBe(engine);
    expect(Number.isFinite((await next.compute(weights, whole)).loss)).toBe(true);
    weights.dispose();
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
    // One worker: the same training up to the order of float additions.
    const single = SupernetTrainer.create({ spec, dataset, config: { ...config, epochs: 1, workers: 1 } });
    await single.run();
    single.losses.forEach((loss, i) => expect(Math.abs(loss - (straight.losses[i] as number))).toBeLessThan(1e-4));
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
  it('defaults to 1, or $NETADAPT_TRAIN_WORKERS (also for a config\'s 0); refuses nonsense', () => {
    expect(defaultTrainingWorkers({})).toBe(1);
    // A config's 0 and no setting both follow the environment's default (3 here: neither 1 nor a core count).
    vi.stubEnv('NETADAPT_TRAIN_WORKERS', '3');
    try {
      expect(resolveTrainingWorkers(0)).toBe(3);
      expect(resolveTrainingWorkers(undefined)).toBe(3);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(resolveTrainingWorkers(2)).toBe(2);
    expect(defaultTrainingWorkers({ NETADAPT_TRAIN_WORKERS: '3' })).toBe(3);
    expect(() => defaultTrainingWorkers({ NETADAPT_TRAIN_WORKERS: 'many' })).toThrow(UserError);
    const { spec, dataset, config } = resumeFixture();
    expect(() => SupernetTrainer.create({ spec, dataset, config: { ...config, workers: -1 } })).toThrow(/workers must be a whole number/);
  });
});
