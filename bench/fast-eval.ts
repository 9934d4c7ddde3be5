/**
 * Sample evaluation speed: today's tfjs evaluator (evaluate.ts) against the ONNX Runtime evaluator in this thread
 * (onnx-evaluator.ts) and the fast evaluator (evaluation-pool.ts: ONNX Runtime in one worker per core, J samples of
 * an iteration side by side), same super-network weights, same sub-networks, same calibration and held-out images,
 * timed per search iteration of J sub-networks in alternation. Reports held-out images scored per second of wall
 * time (materialize + BN recalibration + scoring: what a search iteration pays), medians, ratios, and the largest
 * top-1 difference to the tfjs evaluator, and per iteration a busy-loop control (bench/parallel-control.ts: how much
 * parallel CPU the shared machine offered). Writes bench/results/fast-eval.json.
 *
 *   npx tsx bench/fast-eval.ts [--subnets 24] [--j 4] [--workers <cores>] [--limit 500] [--calibration 3] [--epochs 2] [--train 4000]
 *
 * The super-network is the demo network trained briefly with the demo recipe (ordered dropout) so that top-1 is
 * far from chance and differs between sub-networks; the demo's evaluator settings are the defaults (3 calibration
 * batches of 64, 500 held-out images).
 */
import os from 'node:os';
import { loadNetwork, resolveNetwork, type SubnetConfig } from '../core/arch/index.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { median } from '../core/stats.ts';
import { createSupernetEvaluator, type Evaluation, type SupernetEvaluator } from '../core/supernet/evaluate.ts';
import { createFastSupernetEvaluator, defaultEvaluationWorkers } from '../core/supernet/evaluation-pool.ts';
import { createOnnxEvaluator } from '../core/supernet/onnx-evaluator.ts';
import { pickSubnetsOverMacs } from '../core/supernet/ranking.ts';
import { DEMO_NETWORK, demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { SupernetTrainer } from '../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { parallelHeadroom } from './parallel-control.ts';
import { numberFlags, runAsScript, writeBenchResult } from './cli.ts';

export interface FastEvalBenchOptions {
  subnets?: number;
  limit?: number;
  calibrationBatches?: number;
  epochs?: number;
  trainSize?: number;
  /** Sub-networks per search iteration (J), scored as the search scores them. */
  samplesPerIteration?: number;
  /** Workers of the fast evaluator (default: the cores). */
  workers?: number;
  log?: (line: string) => void;
}

/** Scores the sub-networks as the search does: up to the evaluator's concurrency at once, in order. */
async function scoreAll(e: SupernetEvaluator & { concurrency?: number }, configs: (SubnetConfig | undefined)[]): Promise<Evaluation[]> {
  const out: Evaluation[] = new Array<Evaluation>(configs.length);
  let next = 0;
  const lane = async () => {
    while (next < configs.length) {
      const i = next++;
      out[i] = await e.evaluate(configs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(e.concurrency ?? 1, configs.length) }, lane));
  return out;
}

export async function runFastEvalBench(opts: FastEvalBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const load = os.loadavg()[0];
  const backend = await initBackend();
  const spec = loadNetwork(DEMO_NETWORK);
  const dataset = syntheticClassification({ trainSize: opts.trainSize ?? 4000, heldoutSize: 2000, testSize: 0, seed: 1 });
  const config = demoTrainConfig(opts.epochs ?? 2);
  const trainStart = performance.now();
  const trainer = SupernetTrainer.create({ spec, dataset, config });
  await trainer.run();
  log(`trained ${DEMO_NETWORK} for ${config.epochs} epochs in ${((performance.now() - trainStart) / 1000).toFixed(0)} s (${backend.description})`);
  const weights = trainer.emaWeights();
  const scoring = { weights, dataset, limit: opts.limit ?? 500, calibrationBatches: opts.calibrationBatches ?? 3 };
  const workers = opts.workers ?? defaultEvaluationWorkers();
  const evaluators: [string, SupernetEvaluator & { concurrency?: number }][] = [
    ['tfjs', createSupernetEvaluator(scoring)],
    ['onnx', await createOnnxEvaluator({ ...scoring, threads: 1 })],
    [`onnx-${workers}-workers`, await createFastSupernetEvaluator({ ...scoring, workers })],
  ];
  const names = evaluators.map(([name]) => name);
  const j = opts.samplesPerIteration ?? 4;
  const picked = [{ config: undefined, macs: resolveNetwork(spec).macs }, ...pickSubnetsOverMacs(spec, 'shrink', (opts.subnets ?? 24) - 1, config, 3)];
  // Warm-up: one sub-network per evaluator (and per pool worker): JIT, ORT's environment, tfjs kernels.
  for (const [, e] of evaluators) await Promise.all(Array.from({ length: e.concurrency ?? 1 }, () => e.evaluate(picked[1]?.config)));
  const headroom: number[] = [];
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  const top1 = new Map<string, number[]>(names.map((name) => [name, []]));
  // One "iteration" = J sub-networks, scored as the search does (up to `concurrency` at once), evaluators alternated.
  for (let from = 0; from < picked.length; from += j) {
    const group = picked.slice(from, from + j);
    const line: string[] = [];
    for (const [name, e] of evaluators) {
      const t0 = performance.now();
      const results = await scoreAll(e, group.map((p) => p.config));
      const ms = performance.now() - t0;
      times.get(name)?.push((ms * j) / group.length);
      top1.get(name)?.push(...results.map((r) => r.score));
      line.push(`${name} ${ms.toFixed(0)} ms`);
    }
    if (workers > 1) headroom.push((await parallelHeadroom(workers)).speedup);
    log(`  sub-networks ${from + 1}-${from + group.length} (${group.map((p) => (p.macs / 1e6).toFixed(2)).join(', ')}M MACs): ${line.join(', ')}`);
  }
  const images = scoring.limit;
  const rate = (name: string) => (j * images * 1000) / median(times.get(name) as number[]);
  const tfjsTop1 = top1.get('tfjs') as number[];
  const maxDiff = (name: string) => Math.max(...(top1.get(name) as number[]).map((v, i) => Math.abs(v - (tfjsTop1[i] as number))));
  const others = names.slice(1);
  const results = {
    network: DEMO_NETWORK,
    tfjsBackend: backend.description,
    cores: os.cpus().length,
    loadAverageAtStart: load,
    heldoutImagesPerSample: images,
    calibrationImagesPerSample: scoring.calibrationBatches * 64,
    subnetworks: picked.length,
    samplesPerIteration: j,
    evaluationWorkers: workers,
    trainEpochs: config.epochs,
    fullNetworkTop1: tfjsTop1[0],
    medianMsPerIteration: Object.fromEntries(names.map((name) => [name, median(times.get(name) as number[])])),
    heldoutImagesPerSec: Object.fromEntries(names.map((name) => [name, rate(name)])),
    speedupOverTfjs: Object.fromEntries(others.map((name) => [name, rate(name) / rate('tfjs')])),
    maxTop1DifferencePoints: Object.fromEntries(others.map((name) => [name, maxDiff(name) * 100])),
    top1: Object.fromEntries(top1),
    goal: 'fast evaluator ≥ 5× tfjs held-out images/s, top-1 within 0.2 points',
    // What the machine offered meanwhile: a CPU-bound loop on `workers` threads vs one, once per iteration.
    busyLoopControl: { threads: workers, speedups: headroom, median: headroom.length > 0 ? median(headroom) : undefined },
    measuredAt: new Date().toISOString(),
  };
  log(`held-out images/s (median of ${Math.ceil(picked.length / j)} iterations of ${j} sub-networks): ` +
    names.map((name) => `${name} ${rate(name).toFixed(0)}${name === 'tfjs' ? '' : ` (${(rate(name) / rate('tfjs')).toFixed(2)}×, top-1 Δ ≤ ${(maxDiff(name) * 100).toFixed(2)} points)`}`).join(', '));
  if (headroom.length > 0) log(`busy-loop control: ${workers} threads did ${median(headroom).toFixed(2)}× the work of one (median)`);
  for (const [, e] of evaluators) e.dispose();
  weights.dispose();
  trainer.dispose();
  writeBenchResult('fast-eval', results);
  return results;
}

if (runAsScript(import.meta.url)) {
  await runFastEvalBench(numberFlags({
    subnets: 'subnets',
    limit: 'limit',
    calibrationBatches: 'calibration',
    epochs: 'epochs',
    trainSize: 'train',
    samplesPerIteration: 'j',
    workers: 'workers',
  }));
}
