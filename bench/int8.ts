/**
 * int8 end to end (issue 21), measured on the host (LiteRT wasm + XNNPACK, one thread):
 * - lut: int8 latency tables vs whole int8 sub-networks (lut validate, 20 random sub-networks, half calibrate the
 *   per-model constant, half are reported), next to the float tables of the same networks;
 * - speed: int8 vs float latency of whole networks, both models measured in the same interleaved batches, five times;
 * - layers: the same for each layer of the demo network (which layers int8 makes faster or slower);
 * - search (through the pipeline): a demo super-network, an MCD search to 50% of the int8 latency (int8 table, lazy
 *   profiling), a short final training, then the discovered network exported as int8 and as float and both scored in
 *   LiteRT on the test split; and top-1 agreement of int8 vs float with the trained weights (full network, held-out);
 * - calibration: that agreement for min/max and percentile ranges, 256 and 1024 calibration images.
 *
 *   nice -n 5 npx tsx bench/int8.ts [--only lut,speed,layers,calibration,search] [--epochs 12] [--supernet-dir DIR] [--out FILE]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadNetwork, resolveNetwork, subnetKey } from '../core/arch/index.ts';
import { exportNetwork, NOMINAL_RANGES } from '../core/export/network.ts';
import { randomFoldedWeights } from '../core/export/random-weights.ts';
import { loadTfliteRuntime } from '../core/export/runtime/litert.ts';
import { median } from '../core/stats.ts';
import { openWorkspace } from '../core/store/workspace.ts';
import { loadSupernetWeights } from '../core/supernet/evaluate.ts';
import { parseSearchConfig } from '../pipeline/config.ts';
import type { Dataset } from '../core/data/dataset.ts';
import type { CalibrationOptions } from '../core/supernet/calibrate.ts';
import { openJobDataset } from '../pipeline/dataset.ts';
import { runSearchJob } from '../pipeline/job.ts';
import { exportQuantized } from '../pipeline/quantized-export.ts';
import { trainSupernetStep } from '../pipeline/steps/train-supernet.ts';
import { scoreTfliteModel } from '../pipeline/tflite-score.ts';
import { demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { layerSignature } from '../core/arch/signature.ts';
import { createHostProfiler } from '../latency/host/host-profiler.ts';
import { layerModel } from '../latency/lut/layer-models.ts';
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

/** The demo network's layer models, float and int8, interleaved in each batch (3 batches): where int8 wins or loses. */
async function layersPart(): Promise<Record<string, unknown>> {
  const profiler = await createHostProfiler();
  const layers = resolveNetwork(loadNetwork(DEMO)).layers.filter((layer) => layerSignature(layer) !== null);
  const models = layers.flatMap((layer) => [
    { key: `${layer.id}|float32`, bytes: layerModel(layer, 'float32').bytes },
    { key: `${layer.id}|int8`, bytes: layerModel(layer, 'int8').bytes },
  ]);
  const times = new Map<string, number[]>();
  for (let repeat = 0; repeat < 3; repeat++) {
    await profiler.measure(repeat % 2 === 0 ? models : [...models].reverse(), { onResult: (key, m) => times.set(key, [...(times.get(key) ?? []), m.meanUs]) });
  }
  const rows = layers.map((layer) => {
    const floatUs = median(times.get(`${layer.id}|float32`) ?? []);
    const int8Us = median(times.get(`${layer.id}|int8`) ?? []);
    return { layer: layer.id, op: layer.op, activation: layer.act, floatUs, int8Us, floatOverInt8: floatUs / int8Us };
  });
  const byActivation: Record<string, { layers: number; medianFloatOverInt8: number }> = {};
  for (const act of new Set(rows.map((r) => r.activation))) {
    const ratios = rows.filter((r) => r.activation === act).map((r) => r.floatOverInt8);
    byActivation[act] = { layers: ratios.length, medianFloatOverInt8: median(ratios) };
    console.log(`layers ${DEMO} act=${act}: ${ratios.length} layers, float / int8 median ${median(ratios).toFixed(2)}×`);
  }
  return { network: DEMO, rows, byActivation, method: 'single-layer table models (latency/lut/layer-models.ts), host profiler, 3 interleaved batches, medians' };
}

/** The demo super-network (trainSupernetStep, resumed when its checkpoint is there, a no-op when it is complete). */
async function trainedDemo(options: { epochs: number; supernetDir: string }) {
  const spec = loadNetwork(DEMO);
  const dataset = await openJobDataset(DATASET);
  const checkpoint = join(options.supernetDir, `${DEMO}-e${options.epochs}`);
  const trained = await trainSupernetStep({ spec, dataset, config: demoTrainConfig(options.epochs), outDir: checkpoint, resume: 'auto', evaluate: 'end', evalImages: 1000 });
  console.log(`super-network ${checkpoint}: ${trained.steps} steps, full network held-out ${pct(trained.heldout?.full.score ?? Number.NaN)} (${trained.seconds.toFixed(0)} s)`);
  return { spec, dataset, checkpoint, trained };
}

/** The trained full network exported as int8 with `calibration` and as float: top-1 agreement on held-out images, test top-1 of both in LiteRT. */
async function int8Agreement(checkpoint: string, dataset: Dataset, calibration: CalibrationOptions, calibrationImages: number) {
  const weights = loadSupernetWeights(checkpoint, loadNetwork(DEMO));
  let full;
  try {
    full = exportQuantized({ weights, dataset, calibrationImages, calibration });
  } finally {
    weights.dispose();
  }
  const runtime = await loadTfliteRuntime();
  const [f, q] = [await runtime.load(full.float), await runtime.load(full.int8)];
  const heldout = dataset.split('heldout');
  let agree = 0;
  const argmax = (v: Float32Array): number => v.indexOf(Math.max(...v));
  try {
    for (let i = 0; i < heldout.size; i++) {
      const image = heldout.get([i]).images;
      if (argmax((await f.run([image]))[0] as Float32Array) === argmax((await q.run([image]))[0] as Float32Array)) agree++;
    }
  } finally {
    f.close();
    q.close();
  }
  const test = { float: await scoreTfliteModel(full.float, dataset), int8: await scoreTfliteModel(full.int8, dataset) };
  return { int8FloatTop1AgreementHeldout: agree / heldout.size, heldoutImages: heldout.size, testInt8LiteRt: test.int8.score, testFloatLiteRt: test.float.score };
}

/** Calibration choices side by side on the trained full network: min/max and percentiles, 256 and 1024 images. */
async function calibrationPart(options: { epochs: number; supernetDir: string }): Promise<Record<string, unknown>> {
  const { dataset, checkpoint } = await trainedDemo(options);
  const choices: { calibration: CalibrationOptions; images: number }[] = [
    { calibration: { method: 'minmax' }, images: 256 },
    { calibration: { method: 'minmax' }, images: 1024 },
    { calibration: { method: 'percentile', percentile: 99.99 }, images: 256 },
    { calibration: { method: 'percentile', percentile: 99.9 }, images: 256 },
  ];
  const rows: Record<string, unknown>[] = [];
  for (const { calibration, images } of choices) {
    const row = { ...calibration, calibrationImages: images, ...(await int8Agreement(checkpoint, dataset, calibration, images)) };
    rows.push(row);
    console.log(`calibration ${calibration.method}${calibration.percentile ? ` ${calibration.percentile}` : ''}, ${images} images: int8 vs float top-1 agreement ${pct(row.int8FloatTop1AgreementHeldout)} of ${row.heldoutImages} held-out; test int8 ${pct(row.testInt8LiteRt)}, float ${pct(row.testFloatLiteRt)}`);
  }
  return { network: DEMO, dataset: DATASET, epochs: options.epochs, rows };
}

/**
 * Through the pipeline: the demo super-network, then the search job on the host's int8 latency table with the final
 * training and the int8 step (runSearchJob).
 */
async function searchPart(options: { epochs: number; supernetDir: string }): Promise<Record<string, unknown>> {
  const { spec, dataset, checkpoint, trained } = await trainedDemo(options);
  const agreement = await int8Agreement(checkpoint, dataset, {}, 256); // the default calibration, as the int8 step uses
  console.log(`search: trained full network, int8 vs float top-1 agreement on ${agreement.heldoutImages} held-out images ${pct(agreement.int8FloatTop1AgreementHeldout)}; test top-1 in LiteRT int8 ${pct(agreement.testInt8LiteRt)}, float ${pct(agreement.testFloatLiteRt)}`);

  const work = join(options.supernetDir, 'int8-search');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const config = parseSearchConfig({
    network: DEMO, dataset: DATASET, metric: 'latency-lut', latency: { device: 'host', dtype: 'int8', lazyProfiling: true },
    target: '50%', algorithm: 'mcd', J: 8, L: 3, reduction: '6%', decay: 0.98, seed: 1,
    workspace: join(work, 'netadapt.sqlite'), checkpoint, output: join(work, 'result'),
    evaluator: { kind: 'supernet', calibrationBatches: 3, limit: 500 },
    finalTraining: { mode: 'supernet', steps: 150, distill: true, batchSize: 64 }, int8: { calibrationImages: 256 },
  }, 'the int8 bench\'s search');
  const started = performance.now();
  const outcome = await runSearchJob({ config });
  const seconds = (performance.now() - started) / 1000;
  const { result, finalTraining } = outcome;
  const q8 = finalTraining?.int8;
  const subnet = result.best.config;
  console.log(`search: ${result.status}, ${result.iterations} iterations, int8 latency ${(result.best.resource * 1000).toFixed(0)} of ${(result.initialResource * 1000).toFixed(0)} µs (${pct(result.best.resource / result.initialResource)}), held-out ${pct(result.best.score)} with the shared weights`);
  console.log(`search: discovered network after ${finalTraining?.steps} final-training steps, test top-1 in LiteRT int8 ${pct(q8?.int8.score ?? Number.NaN)}, float ${pct(q8?.float.score ?? Number.NaN)} (tfjs ${pct(finalTraining?.test?.score ?? Number.NaN)}); ${q8?.int8Bytes} vs ${q8?.floatBytes} bytes (${seconds.toFixed(0)} s with the final training)`);

  // The discovered network's whole-model latency, int8 and float, interleaved.
  const network = resolveNetwork(spec, subnet);
  const profiler = await createHostProfiler();
  const latencies: Record<string, number[]> = { float32: [], int8: [] };
  const random = randomFoldedWeights(network, 1);
  const models = [{ key: 'float32', bytes: exportNetwork(network, random) }, { key: 'int8', bytes: exportNetwork(network, random, { quantization: { ranges: NOMINAL_RANGES } }) }];
  for (let repeat = 0; repeat < 3; repeat++) await profiler.measure(models, { onResult: (key, m) => latencies[key]?.push(m.meanUs) });
  const initial = resolveNetwork(spec);
  return {
    network: DEMO,
    dataset: DATASET,
    epochs: options.epochs,
    supernetHeldoutFull: trained.heldout?.full.score,
    trainedFullNetwork: agreement,
    search: {
      status: result.status,
      iterations: result.iterations,
      samples: result.samplesEvaluated - 1,
      initialInt8LatencyUs: result.initialResource * 1000,
      discoveredInt8LatencyUs: result.best.resource * 1000,
      fraction: result.best.resource / result.initialResource,
      heldoutSharedWeights: result.best.score,
      subnet: subnetKey(subnet),
      macs: network.macs,
      macsFraction: network.macs / initial.macs,
      secondsWithFinalTraining: seconds,
    },
    discovered: {
      finalTrainingSteps: finalTraining?.steps,
      tfjsTest: finalTraining?.test?.score,
      int8TestLiteRt: q8?.int8.score,
      floatTestLiteRt: q8?.float.score,
      int8Bytes: q8?.int8Bytes,
      floatBytes: q8?.floatBytes,
      wholeModelUs: { float32: median(latencies['float32'] ?? []), int8: median(latencies['int8'] ?? []) },
    },
  };
}

export async function runInt8Bench(argv: readonly string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = (flag('--only') ?? 'lut,speed,layers,calibration,search').split(',');
  const out = flag('--out') ?? DEFAULT_OUT;
  const results: Record<string, unknown> = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, startedAt: new Date().toISOString() };
  const save = (): void => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  };
  if (only.includes('speed')) results['speed'] = await speedPart();
  if (only.includes('layers')) results['layers'] = await layersPart();
  save();
  if (only.includes('lut')) results['lut'] = await lutPart();
  save();
  const trainedOptions = { epochs: Number(flag('--epochs') ?? 12), supernetDir: flag('--supernet-dir') ?? join(os.tmpdir(), 'netadapt-int8-bench') };
  if (only.includes('calibration')) results['calibration'] = await calibrationPart(trainedOptions);
  save();
  if (only.includes('search')) results['search'] = await searchPart(trainedOptions);
  save();
  console.log(`results in ${out}`);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runInt8Bench();
