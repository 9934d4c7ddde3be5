/**
 * Sample evaluation speed: today's tfjs evaluator (evaluate.ts) against the ONNX Runtime evaluator
 * (onnx-evaluator.ts), same super-network weights, same sub-networks, same calibration and held-out images, timed in
 * alternation (tfjs, onnx, onnx×2 threads per sub-network). Reports held-out images scored per second of wall time
 * (materialize + BN recalibration + scoring; what a search iteration pays per sample), medians, ratios, and the
 * largest top-1 difference between the two evaluators. Writes bench/results/fast-eval.json.
 *
 *   npx tsx bench/fast-eval.ts [--subnets 12] [--limit 500] [--calibration 3] [--epochs 2] [--train 4000]
 *
 * The super-network is the demo network trained briefly with the demo recipe (ordered dropout) so that top-1 is
 * far from chance and differs between sub-networks; the demo's evaluator settings are the defaults (3 calibration
 * batches of 64, 500 held-out images).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { median } from '../core/stats.ts';
import { createSupernetEvaluator, type SupernetEvaluator } from '../core/supernet/evaluate.ts';
import { createOnnxEvaluator } from '../core/supernet/onnx-evaluator.ts';
import { pickSubnetsOverMacs } from '../core/supernet/ranking.ts';
import { DEMO_NETWORK, demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { SupernetTrainer } from '../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../core/tensor/backend.ts';

export interface FastEvalBenchOptions {
  subnets?: number;
  limit?: number;
  calibrationBatches?: number;
  epochs?: number;
  trainSize?: number;
  log?: (line: string) => void;
}

export async function runFastEvalBench(opts: FastEvalBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((line: string) => console.log(line));
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
  const evaluators: [string, SupernetEvaluator][] = [
    ['tfjs', createSupernetEvaluator(scoring)],
    ['onnx', await createOnnxEvaluator({ ...scoring, threads: 1 })],
    ['onnx-2-threads', await createOnnxEvaluator({ ...scoring, threads: 2 })],
  ];
  const picked = [{ config: undefined, macs: resolveNetwork(spec).macs }, ...pickSubnetsOverMacs(spec, 'shrink', (opts.subnets ?? 12) - 1, config, 3)];
  // Warm-up: the first sub-network once per evaluator (JIT, ORT's environment, tfjs kernels).
  for (const [, e] of evaluators) await e.evaluate(picked[1]?.config);
  const times = new Map<string, number[]>(evaluators.map(([name]) => [name, []]));
  const top1 = new Map<string, number[]>(evaluators.map(([name]) => [name, []]));
  for (const p of picked) {
    const line: string[] = [];
    for (const [name, e] of evaluators) {
      const t0 = performance.now();
      const result = await e.evaluate(p.config);
      const ms = performance.now() - t0;
      times.get(name)?.push(ms);
      top1.get(name)?.push(result.score);
      line.push(`${name} ${(result.score * 100).toFixed(1)}% ${ms.toFixed(0)} ms`);
    }
    log(`  ${(p.macs / 1e6).toFixed(2)}M MACs: ${line.join(', ')}`);
  }
  const images = scoring.limit;
  const rate = (name: string) => (images * 1000) / median(times.get(name) as number[]);
  const tfjsTop1 = top1.get('tfjs') as number[];
  const maxDiff = (name: string) => Math.max(...(top1.get(name) as number[]).map((v, i) => Math.abs(v - (tfjsTop1[i] as number))));
  const results = {
    network: DEMO_NETWORK,
    tfjsBackend: backend.description,
    cores: os.cpus().length,
    loadAverageAtStart: os.loadavg()[0],
    heldoutImagesPerSample: images,
    calibrationImagesPerSample: scoring.calibrationBatches * 64,
    subnetworks: picked.length,
    trainEpochs: config.epochs,
    fullNetworkTop1: tfjsTop1[0],
    medianMsPerSample: Object.fromEntries(evaluators.map(([name]) => [name, median(times.get(name) as number[])])),
    heldoutImagesPerSec: Object.fromEntries(evaluators.map(([name]) => [name, rate(name)])),
    speedupOverTfjs: { onnx: rate('onnx') / rate('tfjs'), 'onnx-2-threads': rate('onnx-2-threads') / rate('tfjs') },
    maxTop1DifferencePoints: { onnx: maxDiff('onnx') * 100, 'onnx-2-threads': maxDiff('onnx-2-threads') * 100 },
    top1: Object.fromEntries(top1),
    goal: 'onnx ≥ 5× tfjs images/s, top-1 within 0.2 points',
    measuredAt: new Date().toISOString(),
  };
  log(`held-out images/s (median over ${picked.length} sub-networks): tfjs ${rate('tfjs').toFixed(0)}, onnx ${rate('onnx').toFixed(0)} ` +
    `(${results.speedupOverTfjs.onnx.toFixed(2)}×), onnx 2 threads ${rate('onnx-2-threads').toFixed(0)} (${results.speedupOverTfjs['onnx-2-threads'].toFixed(2)}×); ` +
    `largest top-1 difference ${results.maxTop1DifferencePoints.onnx.toFixed(2)} / ${results.maxTop1DifferencePoints['onnx-2-threads'].toFixed(2)} points`);
  for (const [, e] of evaluators) e.dispose();
  weights.dispose();
  trainer.dispose();
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'fast-eval.json');
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}`);
  return results;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const num = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  await runFastEvalBench({
    ...(num('subnets') !== undefined ? { subnets: num('subnets') as number } : {}),
    ...(num('limit') !== undefined ? { limit: num('limit') as number } : {}),
    ...(num('calibration') !== undefined ? { calibrationBatches: num('calibration') as number } : {}),
    ...(num('epochs') !== undefined ? { epochs: num('epochs') as number } : {}),
    ...(num('train') !== undefined ? { trainSize: num('train') as number } : {}),
  });
}
