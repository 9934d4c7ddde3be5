/**
 * int8 end to end (issue 21), measured on the host (LiteRT wasm + XNNPACK, one thread):
 * - lut: int8 latency tables vs whole int8 sub-networks (lut validate, 20 random sub-networks, half calibrate the
 *   per-model constant, half are reported), next to the float tables of the same networks;
 * - speed: int8 vs float latency of whole networks, both models measured in the same interleaved batches, five times;
 * - search: a demo super-network, an MCD search to 50% of the int8 latency (int8 table, lazy profiling), a short
 *   final training, then the discovered network exported as int8 and as float and both scored in LiteRT on the test
 *   split; and top-1 agreement of int8 vs float with the trained weights (full network, held-out images).
 *
 *   nice -n 5 npx tsx bench/int8.ts [--only lut,speed,search] [--epochs 12] [--supernet-dir DIR] [--out FILE]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadNetwork, resolveNetwork, subnetKey } from '../core/arch/index.ts';
import { openDataset } from '../core/data/open.ts';
import { exportNetwork, NOMINAL_RANGES } from '../core/export/network.ts';
import { randomFoldedWeights } from '../core/export/random-weights.ts';
import { loadTfliteRuntime } from '../core/export/runtime/litert.ts';
import { LookupTableLatencyMetric } from '../core/metrics/index.ts';
import { trainDiscoveredNetwork } from '../core/supernet/training/final-training.ts';
import { DEFAULT_PARAMS, SearchOptimizer } from '../core/search/optimizer.ts';
import { SqliteRunStore } from '../core/search/run-store.ts';
import { median } from '../core/stats.ts';
import { openWorkspace } from '../core/store/workspace.ts';
import { checkpointExists } from '../core/supernet/checkpoint.ts';
import { createSupernetEvaluator, loadSupernetWeights } from '../core/supernet/evaluate.ts';
import { exportQuantized } from '../pipeline/quantized-export.ts';
import { exportAndScoreInt8 } from '../pipeline/steps/int8.ts';
import { demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { trainSupernet } from '../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { createHostProfiler } from '../latency/host/host-profiler.ts';
import { StoreLatencySource } from '../latency/lut/lazy-source.ts';
import { validateLatencyTable } from '../latency/lut/validate.ts';
import type { Measurement } from '../latency/profiler.ts';
import { LatencyStore } from '../latency/store/latency-store.ts';
import type { ModelDtype } from '../latency/store/runtime-options.ts';

const DEFAULT_OUT = fileURLToPath(new URL('./results/int8.json', import.meta.url));
const LUT_NETWORKS = ['mobilenet-v3-demo-32', 'mobilenet-v1-32', 'mobilenet-v3-large-32', 'fastdepth-64'];
const SPEED_NETWORKS = ['mobilenet-v3-demo-32', 'mobilenet-v1-32', 'mobilenet-v3-large-32', 'fastdepth-64'];
const DEMO = 'mobilenet-v3-demo-32';
const DATASET = 'synthetic?trainSize=6000&heldoutSize=1000&testSize=1000';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function lutPart(): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown>[] = [];
  for (const name of LUT_NETWORKS) {
    for (const dtype of ['int8', 'float32'] as const) {
      const workspace = openWorkspace(':memory:');
      try {
        const profiler = await createHostProfiler({ dtype });
        const result = await validateLatencyTable({ spec: loadNetwork(name), profiler, store: new LatencyStore(workspace), samples: 20, seed: 1 });
        const measured = result.pairs.map((p) => p.measuredUs);
        rows.push({
          network: name,
          dtype,
          medianRelativeError: result.medianRelativeError,
          p90RelativeError: result.p90RelativeError,
          validated: result.evaluated,
          overheadUs: result.overheadUs,
          medianMeasuredUs: median(measured),
          seconds: result.seconds,
        });
        console.log(`lut ${name} ${dtype}: median ${pct(result.medianRelativeError)}, p90 ${pct(result.p90RelativeError)} over ${result.evaluated} sub-networks (whole models ${median(measured).toFixed(0)} µs median, ${result.seconds.toFixed(0)} s)`);
      } finally {
        workspace.close();
      }
    }
  }
  const int8 = rows.filter((r) => r['dtype'] === 'int8');
  return {
    rows,
    goal: 'int8 table vs whole int8 sub-networks: median ≤ 5%, p90 ≤ 10% (as for float)',
    int8MetGoalIn: `${int8.filter((r) => (r['medianRelativeError'] as number) <= 0.05 && (r['p90RelativeError'] as number) <= 0.1).length} of ${int8.length} networks`,
  };
}

/** Whole networks, float and int8 (random weights, nominal ranges: latency does not depend on the values). */
async function speedPart(): Promise<Record<string, unknown>> {
  const profiler = await createHostProfiler();
  const rows: Record<string, unknown>[] = [];
  for (const name of SPEED_NETWORKS) {
    const network = resolveNetwork(loadNetwork(name));
    const weights = randomFoldedWeights(network, 1);
    const models = [
      { key: 'float32', bytes: exportNetwork(network, weights) },
      { key: 'int8', bytes: exportNetwork(network, weights, { quantization: { ranges: NOMINAL_RANGES } }) },
    ];
    const runs: Record<ModelDtype, number[]> = { float32: [], int8: [] };
    for (let repeat = 0; repeat < 5; repeat++) {
      await profiler.measure(repeat % 2 === 0 ? models : [...models].reverse(), {
        onResult: (key: string, m: Measurement) => runs[key as ModelDtype].push(m.meanUs),
      });
    }
    const ratios = runs.float32.map((f, i) => f / (runs.int8[i] as number));
    const row = { network: name, floatUs: runs.float32, int8Us: runs.int8, medianFloatUs: median(runs.float32), medianInt8Us: median(runs.int8), medianSpeedup: median(ratios), bytes: { float32: models[0]!.bytes.length, int8: models[1]!.bytes.length } };
    rows.push(row);
    console.log(`speed ${name}: float ${row.medianFloatUs.toFixed(1)} µs, int8 ${row.medianInt8Us.toFixed(1)} µs (medians of 5), float / int8 ${row.medianSpeedup.toFixed(2)}×`);
  }
  return { rows, method: 'host profiler (fastest window of interleaved samples), both models in each batch, 5 batches; ratio per batch, median' };
}

async function searchPart(options: { epochs: number; supernetDir: string }): Promise<Record<string, unknown>> {
  const backend = await initBackend();
  const spec = loadNetwork(DEMO);
  const dataset = await openDataset(DATASET);
  const checkpoint = join(options.supernetDir, `${DEMO}-e${options.epochs}`);
  const started = performance.now();
  if (!checkpointExists(checkpoint) || process.argv.includes('--retrain')) {
    console.log(`search: training the ${DEMO} super-network, ${options.epochs} epochs, on ${backend.description}`);
  }
  const { trainer } = await trainSupernet({ spec, dataset, config: demoTrainConfig(options.epochs), outDir: checkpoint, resume: checkpointExists(checkpoint) });
  trainer.dispose();
  const trainSeconds = (performance.now() - started) / 1000;

  // Agreement of int8 and float with trained weights: the full network on the held-out split.
  const weights = loadSupernetWeights(checkpoint, spec);
  const full = exportQuantized({ weights, dataset, calibrationImages: 256 });
  const runtime = await loadTfliteRuntime();
  const [f, q] = [await runtime.load(full.float), await runtime.load(full.int8)];
  const heldout = dataset.split('heldout');
  let agree = 0;
  const argmax = (v: Float32Array): number => v.indexOf(Math.max(...v));
  for (let i = 0; i < heldout.size; i++) {
    const image = heldout.get([i]).images;
    if (argmax((await f.run([image]))[0] as Float32Array) === argmax((await q.run([image]))[0] as Float32Array)) agree++;
  }
  f.close();
  q.close();
  console.log(`search: trained full network, int8 vs float top-1 agreement on ${heldout.size} held-out images: ${pct(agree / heldout.size)}`);

  // The search on the int8 latency table (profiled lazily on this host).
  const latencyPath = join(os.tmpdir(), `int8-bench-latency-${process.pid}.sqlite`);
  const latencyWorkspace = openWorkspace(latencyPath);
  const profiler = await createHostProfiler({ dtype: 'int8' });
  const source = new StoreLatencySource({ spec, store: new LatencyStore(latencyWorkspace), deviceId: profiler.deviceId, runtimeOptions: profiler.runtimeOptions, profiler });
  const metric = new LookupTableLatencyMetric(spec, source);
  const evaluator = createSupernetEvaluator({ weights, dataset, calibrationBatches: 3, limit: 500 });
  const runWorkspace = openWorkspace(':memory:');
  const searchStarted = performance.now();
  let result;
  try {
    result = await new SearchOptimizer({ spec, metric, store: new SqliteRunStore(runWorkspace), evaluator }).start({
      ...DEFAULT_PARAMS, algorithm: 'mcd', target: { kind: 'fraction', value: 0.5 }, samplesPerIteration: 8, layersPerSample: 3, reduction: 0.06, decay: 0.98, seed: 1,
    });
  } finally {
    evaluator.dispose();
    runWorkspace.close();
    latencyWorkspace.close();
    rmSync(latencyPath, { force: true });
  }
  weights.dispose();
  const searchSeconds = (performance.now() - searchStarted) / 1000;
  const subnet = result.best.config;
  console.log(`search: ${result.status}, ${result.iterations} iterations, int8 latency ${(result.best.resource * 1000).toFixed(0)} of ${(result.initialResource * 1000).toFixed(0)} µs (${pct(result.best.resource / result.initialResource)}), held-out ${pct(result.best.score)} with the shared weights (${searchSeconds.toFixed(0)} s)`);

  const outDir = join(options.supernetDir, 'int8-search');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const trained = await trainDiscoveredNetwork({ spec, subnet, dataset, mode: 'supernet', steps: 150, checkpoint, distill: true, outDir, config: { batchSize: 64 }, scoreBefore: false });
  const int8 = await exportAndScoreInt8({ checkpointDir: trained.weightsPath, spec, subnet, dataset, outDir, calibrationImages: 256 });
  console.log(`search: discovered network after ${trained.steps} final-training steps, test top-1 in LiteRT: int8 ${pct(int8.int8.score)}, float ${pct(int8.float.score)} (tfjs evaluator ${pct(trained.test?.score ?? Number.NaN)}); files ${int8.int8Bytes} vs ${int8.floatBytes} bytes`);

  // The discovered network's whole-model latency, int8 and float, interleaved.
  const network = resolveNetwork(spec, subnet);
  const hostFloat = await createHostProfiler();
  const latencies: Record<string, number[]> = { float32: [], int8: [] };
  const models = [{ key: 'float32', bytes: exportNetwork(network, randomFoldedWeights(network, 1)) }, { key: 'int8', bytes: exportNetwork(network, randomFoldedWeights(network, 1), { quantization: { ranges: NOMINAL_RANGES } }) }];
  for (let repeat = 0; repeat < 3; repeat++) await hostFloat.measure(models, { onResult: (key, m) => latencies[key]?.push(m.meanUs) });
  return {
    network: DEMO,
    dataset: DATASET,
    epochs: options.epochs,
    trainSeconds,
    trainedFullNetworkInt8FloatTop1Agreement: agree / heldout.size,
    heldoutImages: heldout.size,
    search: {
      status: result.status,
      iterations: result.iterations,
      samples: result.samplesEvaluated - 1,
      initialInt8LatencyUs: result.initialResource * 1000,
      discoveredInt8LatencyUs: result.best.resource * 1000,
      fraction: result.best.resource / result.initialResource,
      heldoutSharedWeights: result.best.score,
      seconds: searchSeconds,
      subnet: subnetKey(subnet),
      macs: network.macs,
      macsFraction: network.macs / resolveNetwork(spec).macs,
    },
    discovered: {
      finalTrainingSteps: trained.steps,
      tfjsTest: trained.test?.score,
      int8TestLiteRt: int8.int8.score,
      floatTestLiteRt: int8.float.score,
      int8Bytes: int8.int8Bytes,
      floatBytes: int8.floatBytes,
      wholeModelUs: { float32: median(latencies['float32'] ?? []), int8: median(latencies['int8'] ?? []) },
    },
  };
}

export async function runInt8Bench(argv: readonly string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = (flag('--only') ?? 'lut,speed,search').split(',');
  const out = flag('--out') ?? DEFAULT_OUT;
  const results: Record<string, unknown> = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, startedAt: new Date().toISOString() };
  const save = (): void => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  };
  if (only.includes('speed')) results['speed'] = await speedPart();
  save();
  if (only.includes('lut')) results['lut'] = await lutPart();
  save();
  if (only.includes('search')) {
    results['search'] = await searchPart({ epochs: Number(flag('--epochs') ?? 12), supernetDir: flag('--supernet-dir') ?? join(os.tmpdir(), 'netadapt-int8-bench') });
  }
  save();
  console.log(`results in ${out}`);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runInt8Bench();
