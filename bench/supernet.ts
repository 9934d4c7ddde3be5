/**
 * Super-network benchmarks (medians of timed steps after warm-up, fastest available backend):
 * (a) ordered-dropout training step time / plain full-network step time, same batch (goal ≤ 1.25);
 * (b) sub-networks trained per second: OD (N distinct sub-networks per pass of N images) vs a sandwich rule with
 *     4 separate forward-backward passes per step (goal ≥ 3×);
 * (d) evaluation images/s of a materialized ~50%-MAC sub-network vs the masked full super-network (goal ≥ 1.8×);
 * plus training images/s of zoo networks. Writes bench/results/supernet.json.
 *
 * `npx tsx bench/supernet.ts [--network NAME] [--batch N] [--steps N] [--quick]`; only (d), repeated: `--only-d [--repeat N]`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadNetwork, randomSubnet, resolveNetwork, searchSpace, type NetworkSpec, type SubnetConfig } from '../core/arch/index.ts';
import { Rng } from '../core/random.ts';
import { maskedForward } from '../core/supernet/forward.ts';
import { classificationLoss } from '../core/supernet/losses.ts';
import { materialize } from '../core/supernet/materialize.ts';
import { Optimizer } from '../core/supernet/optimizer.ts';
import { planBatch } from '../core/supernet/plan.ts';
import { sampleBatchSubnets } from '../core/supernet/sampling.ts';
import { SupernetWeights } from '../core/supernet/weights.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { median } from '../core/stats.ts';

export interface SupernetBenchOptions {
  network?: string;
  batch?: number;
  /** Timed repetitions per measurement (after 2 warm-up runs). */
  steps?: number;
  /** Zoo networks whose training throughput is reported. */
  zoo?: string[];
  write?: boolean;
  log?: (line: string) => void;
}

function timeIt(fn: () => void, reps: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Median ms of each function, timed in alternation (a, b, a, b, …) so a load spike does not hit only one side. */
function timeInterleaved(a: () => void, b: () => void, reps: number, warmup = 2): [number, number] {
  for (let i = 0; i < warmup; i++) {
    a();
    b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < reps; i++) {
    for (const [fn, times] of [[a, ta], [b, tb]] as const) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
  }
  return [median(ta), median(tb)];
}

function images(spec: NetworkSpec, n: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const data = new Float32Array(n * spec.input.height * spec.input.width * spec.input.channels);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor4d(data, [n, spec.input.height, spec.input.width, spec.input.channels]);
}

/** One full training step (forward, backward, optimizer, like the trainer) on `subnets` (undefined = full network). */
function trainStep(
  spec: NetworkSpec,
  weights: SupernetWeights,
  optimizer: Optimizer,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  subnets: SubnetConfig[] | undefined,
): void {
  const plan = planBatch(spec, x.shape[0], subnets);
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => classificationLoss(maskedForward(weights, x, { training: true, plan }) as tf.Tensor2D, labels, 0.1),
      weights.trainable(),
    );
    optimizer.apply(grads, 1e-4);
    value.dataSync();
  });
  plan.dispose();
}

/** A random sub-network with about `fraction` of the full network's MACs. */
function subnetNearMacs(spec: NetworkSpec, fraction: number, seed: number): { config: SubnetConfig; macsFraction: number } {
  const space = searchSpace(spec);
  const full = resolveNetwork(spec).macs;
  const rng = new Rng(seed);
  let best: { config: SubnetConfig; macsFraction: number } | undefined;
  for (let i = 0; i < 400; i++) {
    const config = randomSubnet(space, rng);
    const f = resolveNetwork(spec, config).macs / full;
    if (!best || Math.abs(f - fraction) < Math.abs(best.macsFraction - fraction)) best = { config, macsFraction: f };
  }
  return best as { config: SubnetConfig; macsFraction: number };
}

/** (d) Inference: materialized ~50%-MAC sub-network vs the masked full super-network running that sub-network. */
function evaluationSpeed(spec: NetworkSpec, weights: SupernetWeights, reps: number, log: (line: string) => void) {
  const evalN = 128;
  const xe = images(spec, evalN, 3);
  const target = subnetNearMacs(spec, 0.5, 4);
  const slim = materialize(weights, target.config);
  const plan = planBatch(spec, evalN, new Array<SubnetConfig>(evalN).fill(target.config));
  const [maskedMs, slimMs] = timeInterleaved(
    () => tf.tidy(() => void maskedForward(weights, xe, { training: false, plan }).dataSync()),
    () => tf.tidy(() => void slim.predict(xe).dataSync()),
    reps,
  );
  const materializeMs = timeIt(() => materialize(weights, target.config).dispose(), reps);
  plan.dispose();
  slim.dispose();
  xe.dispose();
  log(`(d) evaluation: masked super-network ${(evalN / (maskedMs / 1000)).toFixed(0)} img/s, materialized ${(target.macsFraction * 100).toFixed(0)}%-MAC ` +
    `sub-network ${(evalN / (slimMs / 1000)).toFixed(0)} img/s -> ${(maskedMs / slimMs).toFixed(2)}× (goal ≥ 1.8×); materialize ${materializeMs.toFixed(1)} ms`);
  return { evalN, target, maskedMs, slimMs, materializeMs };
}

export async function runSupernetBench(opts: SupernetBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const backend = await initBackend();
  const networkName = opts.network ?? 'mobilenet-v3-large-32';
  const n = opts.batch ?? 32;
  const reps = opts.steps ?? 5;
  const spec = loadNetwork(networkName);
  const space = searchSpace(spec);
  const classes = resolveNetwork(spec).output.channels;
  log(`supernet bench: ${networkName}, batch ${n}, ${reps} timed reps, backend ${backend.description}, ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}`);

  const weights = SupernetWeights.init(spec, 1);
  const optimizer = new Optimizer({ name: 'rmsprop', momentum: 0.9, rmsDecay: 0.9, rmsEpsilon: 1e-3, weightDecay: 1e-5 },
    weights.layout.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: weights.get(p.name), decay: p.decay })));
  const x = images(spec, n, 2);
  const labels = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i % classes), 'int32');
  let step = 0;

  // (a) OD step vs plain full-network step, same batch.
  const plainMs = timeIt(() => trainStep(spec, weights, optimizer, x, labels, undefined), reps);
  const odMs = timeIt(() => trainStep(spec, weights, optimizer, x, labels, sampleBatchSubnets(space, n, 1, step++)), reps);
  const odPerImageKernelsMs = timeIt(
    () => trainStep(spec, weights, optimizer, x, labels, sampleBatchSubnets(space, n, 1, step++, { kernels: 'per-image' })), reps);
  const planMs = timeIt(() => planBatch(spec, n, sampleBatchSubnets(space, n, 1, step++)).dispose(), reps);
  log(`(a) plain full-network step ${plainMs.toFixed(0)} ms, OD step ${odMs.toFixed(0)} ms -> ratio ${(odMs / plainMs).toFixed(2)} (goal ≤ 1.25); ` +
    `OD with per-image kernels ${odPerImageKernelsMs.toFixed(0)} ms; of which mask planning ${planMs.toFixed(1)} ms`);

  // (b) Sandwich rule: 4 sub-networks (full, smallest, 2 random), each its own forward-backward pass on the batch.
  const sandwichMs = timeIt(() => {
    const configs = sampleBatchSubnets(space, 4, 2, step++);
    for (const config of configs) trainStep(spec, weights, optimizer, x, labels, new Array<SubnetConfig>(n).fill(config));
  }, Math.max(2, Math.ceil(reps / 2)), 1);
  const odSubnetsPerSec = n / (odMs / 1000);
  const sandwichSubnetsPerSec = 4 / (sandwichMs / 1000);
  log(`(b) sub-networks trained per second: OD ${odSubnetsPerSec.toFixed(1)} (${n} per step), sandwich ${sandwichSubnetsPerSec.toFixed(2)} ` +
    `(4 passes per step, ${sandwichMs.toFixed(0)} ms) -> ${(odSubnetsPerSec / sandwichSubnetsPerSec).toFixed(1)}× (goal ≥ 3×)`);

  const { evalN, target, maskedMs, slimMs, materializeMs } = evaluationSpeed(spec, weights, reps, log);
  tf.dispose([x, labels]);
  optimizer.dispose();
  weights.dispose();

  // Training throughput of zoo networks (OD step, batch n).
  const zoo: Record<string, { imagesPerSec: number; stepMs: number; macs: number; params: number }> = {};
  for (const name of opts.zoo ?? ['mobilenet-v3-large-32', 'netadaptv2-latency-32']) {
    const s = loadNetwork(name);
    const sp = searchSpace(s);
    const w = SupernetWeights.init(s, 1);
    const o = new Optimizer({ name: 'rmsprop', momentum: 0.9, rmsDecay: 0.9, rmsEpsilon: 1e-3, weightDecay: 1e-5 },
      w.layout.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: w.get(p.name), decay: p.decay })));
    const xs = images(s, n, 5);
    const k = resolveNetwork(s).output.channels;
    const ys = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i % k), 'int32');
    const ms = timeIt(() => trainStep(s, w, o, xs, ys, sampleBatchSubnets(sp, n, 1, step++)), Math.max(2, Math.ceil(reps / 2)), 1);
    const full = resolveNetwork(s);
    zoo[name] = { imagesPerSec: n / (ms / 1000), stepMs: ms, macs: full.macs, params: full.params };
    log(`    ${name}: OD training ${(n / (ms / 1000)).toFixed(0)} img/s (${ms.toFixed(0)} ms per step of ${n}), ${(full.macs / 1e6).toFixed(1)}M MACs`);
    tf.dispose([xs, ys]);
    o.dispose();
    w.dispose();
  }

  const results = {
    network: networkName,
    backend: backend.description,
    cores: os.cpus().length,
    loadAverageAtStart: os.loadavg()[0],
    batchImages: n,
    timedRepetitions: reps,
    a_odStepMs: odMs,
    a_plainFullNetworkStepMs: plainMs,
    a_odOverPlainStepTimeRatio: odMs / plainMs,
    a_goalMaxRatio: 1.25,
    a_odPerImageKernelsStepMs: odPerImageKernelsMs,
    a_maskPlanningMsPerStep: planMs,
    b_odSubnetsTrainedPerSec: odSubnetsPerSec,
    b_sandwich4PassesSubnetsTrainedPerSec: sandwichSubnetsPerSec,
    b_sandwich4PassesStepMs: sandwichMs,
    b_odOverSandwichSpeedup: odSubnetsPerSec / sandwichSubnetsPerSec,
    b_goalMinSpeedup: 3,
    d_evalBatchImages: evalN,
    d_subnetMacsFractionOfFull: target.macsFraction,
    d_maskedSupernetImagesPerSec: evalN / (maskedMs / 1000),
    d_materializedSubnetImagesPerSec: evalN / (slimMs / 1000),
    d_materializedOverMaskedSpeedup: maskedMs / slimMs,
    d_goalMinSpeedup: 1.8,
    d_materializeMs: materializeMs,
    zooOdTrainingThroughput: zoo,
  };
  if (opts.write ?? true) {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'supernet.json'), `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${path.join(dir, 'supernet.json')}`);
  }
  return results;
}

export interface RankingOptions {
  network?: string;
  trainSize?: number;
  epochs?: number;
  batch?: number;
  subnets?: number;
  heldout?: number;
  seed?: number;
  /** false: train the full network only (diagnostic; results go to supernet-ranking-plain.json). */
  orderedDropout?: boolean;
  log?: (line: string) => void;
  write?: boolean;
}

/**
 * Trains a super-network on synthetic 32×32 classification, then scores the full network and random sub-networks
 * spread over the MAC range (BN recalibrated, held-out top-1); reports the Spearman correlation of accuracy with MACs.
 */
export async function runSupernetRanking(opts: RankingOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const backend = await initBackend();
  const { syntheticClassification, DEFAULT_DIFFICULTY } = await import('../core/data/synthetic-classification.ts');
  const { rankSubnetworks } = await import('../core/supernet/ranking.ts');
  const [{ SupernetTrainer }, { DEMO_NETWORK, DEMO_TRAIN_CONFIG, demoTrainConfig }] = await Promise.all([
    import('../core/supernet/training/supernet-trainer.ts'),
    import('../core/supernet/training/recipes.ts'),
  ]);
  const { createSupernetEvaluator } = await import('../core/supernet/evaluate.ts');
  const networkName = opts.network ?? DEMO_NETWORK;
  const spec = loadNetwork(networkName);
  const classes = resolveNetwork(spec).output.channels;
  const dataset = syntheticClassification({ size: spec.input.height, classes, trainSize: opts.trainSize ?? 8000, heldoutSize: opts.heldout ?? 1000, testSize: 0, seed: 1 });
  const started = performance.now();
  const trainer = SupernetTrainer.create({ spec, dataset, config: { ...demoTrainConfig(opts.epochs ?? DEMO_TRAIN_CONFIG.epochs), batchSize: opts.batch ?? DEMO_TRAIN_CONFIG.batchSize, seed: opts.seed ?? 1, orderedDropout: opts.orderedDropout ?? true } });
  log(`ranking run: ${networkName}, ${dataset.split('train').size} training images × ${trainer.config.epochs} epochs, batch ${trainer.config.batchSize}, backend ${backend.description}, load ${os.loadavg()[0]?.toFixed(1)}`);
  let lastLog = 0;
  await trainer.run({
    onEvent: (e) => {
      if (e.type === 'epoch') log(`  epoch ${e.epoch + 1}: mean loss ${e.loss.toFixed(4)}, ${e.imagesPerSec.toFixed(0)} img/s`);
      if (e.type === 'step' && performance.now() - lastLog > 30000) {
        lastLog = performance.now();
        log(`  step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} ${e.imagesPerSec.toFixed(0)} img/s ETA ${e.etaSec.toFixed(0)} s`);
      }
    },
  });
  const trainSec = (performance.now() - started) / 1000;
  const weights = trainer.emaWeights();
  const evaluator = createSupernetEvaluator({ weights, dataset });
  const full = await evaluator.evaluate();
  const evalStart = performance.now();
  const rankings = [];
  for (const population of ['training', 'uniform', 'shrink'] as const) {
    const ranking = await rankSubnetworks(evaluator, spec, population, { count: opts.subnets ?? 8, seed: opts.seed ?? 7, train: trainer.config });
    rankings.push(ranking);
    for (const s of ranking.subnets) {
      log(`  ${population} sub-network ${(s.macs / 1e6).toFixed(2)}M MACs (${(s.macsFraction * 100).toFixed(0)}%): held-out top-1 ${(s.score * 100).toFixed(1)}%`);
    }
    log(`  Spearman(top-1, MACs) over ${ranking.subnets.length} ${population} sub-networks = ${ranking.spearmanScoreVsMacs.toFixed(2)}`);
  }
  const evalMsPerSubnet = (performance.now() - evalStart) / rankings.reduce((n, r) => n + r.subnets.length, 0);
  log(`full network held-out top-1 ${(full.score * 100).toFixed(1)}% (chance ${(100 / classes).toFixed(1)}%); ` +
    `training ${trainSec.toFixed(0)} s, ${evalMsPerSubnet.toFixed(0)} ms per sub-network evaluation`);
  evaluator.dispose();
  weights.dispose();
  trainer.dispose();
  const results = {
    network: networkName,
    backend: backend.description,
    loadAverageAtStart: os.loadavg()[0],
    trainImages: dataset.split('train').size,
    heldoutImages: dataset.split('heldout').size,
    epochs: trainer.config.epochs,
    trainConfig: trainer.config,
    trainSeconds: trainSec,
    trainMinutes: trainSec / 60,
    trainImagesPerSec: (trainer.totalSteps * trainer.config.batchSize) / trainSec,
    fullNetworkHeldoutTop1: full.score,
    chanceTop1: 1 / classes,
    syntheticDifficulty: DEFAULT_DIFFICULTY,
    rankings: rankings.map((r) => ({
      population: r.population,
      spearmanTop1VsMacs: r.spearmanScoreVsMacs,
      subnetworks: r.subnets.map((x) => ({ macs: x.macs, macsFraction: x.macsFraction, top1: x.score, subnet: x.config })),
    })),
    evalMsPerSubnetwork: evalMsPerSubnet,
    finalTrainLoss: trainer.losses[trainer.losses.length - 1],
  };
  if (opts.write ?? true) {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, trainer.config.orderedDropout ? 'supernet-ranking.json' : 'supernet-ranking-plain.json'), `${JSON.stringify(results, null, 2)}\n`);
  }
  return results;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quick = args.includes('--quick');
  if (args.includes('--ranking')) {
    await runSupernetRanking({
      ...(arg('network') ? { network: arg('network') as string } : {}),
      ...(arg('epochs') ? { epochs: Number(arg('epochs')) } : {}),
      ...(arg('train') ? { trainSize: Number(arg('train')) } : {}),
      ...(arg('batch') ? { batch: Number(arg('batch')) } : {}),
      ...(args.includes('--plain') ? { orderedDropout: false } : {}),
    });
  } else if (args.includes('--only-d')) {
    // Just (d), repeated: `--only-d [--repeat N]` prints one (d) line per repetition and the median ratio.
    await initBackend();
    const spec = loadNetwork(arg('network') ?? 'mobilenet-v3-large-32');
    const weights = SupernetWeights.init(spec, 1);
    const ratios: number[] = [];
    for (let r = 0; r < Number(arg('repeat') ?? 4); r++) {
      const d = evaluationSpeed(spec, weights, arg('steps') ? Number(arg('steps')) : 5, (line) => console.log(line));
      ratios.push(d.maskedMs / d.slimMs);
    }
    console.log(`(d) median ratio over ${ratios.length} runs: ${median(ratios).toFixed(2)}× (${ratios.map((v) => v.toFixed(2)).join(', ')})`);
    weights.dispose();
  } else await runSupernetBench({
    ...(arg('network') ? { network: arg('network') as string } : {}),
    ...(arg('batch') ? { batch: Number(arg('batch')) } : {}),
    steps: arg('steps') ? Number(arg('steps')) : quick ? 3 : 5,
  });
}
