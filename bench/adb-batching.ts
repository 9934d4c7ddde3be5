/**
 * How much does batching save when measuring many models on a phone over adb? Starts the emulated device in its
 * own process (as a phone has its own CPU) and a private Debian adb server, then measures entries/min (new models
 * measured per minute, push included) for
 *   - batched: one sync connection (stat the tool, list the model folder, pipelined pushes of the missing
 *     models), then one shell session running every model (device-side for loop), and
 *   - one round trip per model, as a tool without batching does it: per model one push (its own sync
 *     connection) and one shell session,
 * over the same N models with the LUT builder's default benchmark_model flags, median of several trials each.
 * Every trial starts with an empty model folder on the device (removed untimed), so both modes push every model.
 * Nothing is slowed down artificially. Without --real-inference the emulated benchmark_model answers with
 * size-derived timings at once (this isolates adb/protocol/host cost per model); with it, the device really
 * loads each model once and runs warm-up + timed runs on the host TFLite runtime (LiteRT wasm).
 * Run: npx tsx bench/adb-batching.ts [--real-inference]
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BenchmarkRunner, MODEL_DIR } from '../latency/android/benchmark/runner.ts';
import type { BatchResult, MeasureOptions, ModelLatency, ModelToMeasure } from '../latency/android/benchmark/runner.ts';
import { median } from '../core/stats.ts';
import { adbBinary, PrivateAdbServer } from '../test/latency/android/adb-harness.ts';
import { startDeviceProcess } from '../test/latency/android/emulated/adbd-process.ts';
import { fakeTfliteModel } from '../test/latency/fake-models.ts';
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import { exportLayer } from '../core/export/network.ts';
import { randomFoldedWeights } from '../core/export/random-weights.ts';

export interface AdbBatchingBenchOptions {
  models?: number;
  /**
   * Measure exported layers of zoo networks with real inference (LiteRT wasm behind the emulated
   * benchmark_model) instead of no-inference stand-in models.
   */
  realInference?: boolean;
  /** Timed trials per mode (default 5, at least 3). */
  trials?: number;
  /** benchmark_model flags (default: the LUT builder's, 5 warm-up and 30 timed runs). */
  warmupRuns?: number;
  numRuns?: number;
  /** Where to write the JSON (default bench/results/adb-batching[-real-inference].json); null to skip writing. */
  outputPath?: string | null;
}

export interface AdbBatchingModeResult {
  trialSeconds: number[];
  medianSeconds: number;
  entriesPerMinute: number;
  /** Median wall time per model, in milliseconds. */
  msPerModel: number;
  shellSessionsPerTrial: number;
  modelsMeasuredPerTrial: number;
}

/** Where the time per model goes, each part measured on its own (medians, milliseconds). */
export interface AdbBatchingBreakdown {
  /** One `shell:` session running `true`: open, exit-status marker, close. */
  shellRoundTripMs: number;
  /** Pushing one model over its own sync connection (what the one-by-one mode pays per model), mean over models. */
  pushOwnConnectionMsPerModel: number;
  /** Pushing all models over one sync connection, pipelined, divided by the model count. */
  pushPipelinedMsPerModel: number;
  /**
   * benchmark_model's own time per model as it reports it: Init + warm-up runs + timed runs. With the
   * size-derived stand-in these are invented numbers that no one waits for (the stand-in answers at once).
   */
  deviceBenchmarkMsPerModel: number;
  /** Of which inference (warm-up + timed runs). */
  deviceInferenceMsPerModel: number;
}

export interface AdbBatchingBenchResult {
  what: string;
  adbVersion: string;
  modelCount: number;
  trialsPerMode: number;
  benchmarkModelSettings: Pick<MeasureOptions, 'threads' | 'cpuMask' | 'warmupRuns' | 'numRuns' | 'repeats' | 'cooldownMs'>;
  deviceExecution: string;
  pushIncluded: boolean;
  batched: AdbBatchingModeResult;
  oneRoundTripPerModel: AdbBatchingModeResult;
  breakdown: AdbBatchingBreakdown;
  /** batched entries/min divided by one-round-trip entries/min. */
  speedup: number;
  goalSpeedup: number;
  meetsGoal: boolean;
  measuredAt: string;
}

const execFileAsync = promisify(execFile);
const GOAL_SPEEDUP = 3;
const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');
/** The LUT builder's defaults (netadapt lut build --warmup 5 --runs 30, one thread). */
const LUT_DEFAULT_WARMUP_RUNS = 5;
const LUT_DEFAULT_NUM_RUNS = 30;

/** Distinct single-layer .tflite models from the zoo networks, as a latency table would measure. */
function zooLayerModels(count: number): ModelToMeasure[] {
  const models: ModelToMeasure[] = [];
  const seen = new Set<string>();
  for (const name of ['mobilenet-v1-32', 'mobilenet-v2-32', 'mobilenet-v3-large-32', 'fastdepth-64']) {
    const network = resolveNetwork(loadNetwork(name));
    const weights = randomFoldedWeights(network, 1);
    for (const [index, layer] of network.layers.entries()) {
      if (models.length >= count) return models;
      const bytes = exportLayer(layer, weights);
      const id = Buffer.from(bytes).toString('base64');
      if (seen.has(id)) continue;
      seen.add(id);
      models.push({ key: `${name}/${index}`, bytes });
    }
  }
  return models;
}

function standInModels(count: number): ModelToMeasure[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `layer${i}`,
    bytes: fakeTfliteModel(2_000 + ((i * 7919) % 60_000), `bench-model-${i}`),
  }));
}

/** benchmark_model's own time for one run: Init + warm-up + timed runs, and the inference part alone. */
function deviceTimesMs(result: ModelLatency): { totalMs: number; inferenceMs: number } {
  const measurement = result.measurements[0];
  if (!measurement) return { totalMs: 0, inferenceMs: 0 };
  const warmup = measurement.warmup && measurement.warmup.count > 0 && 'avgUs' in measurement.warmup
    ? measurement.warmup.count * measurement.warmup.avgUs
    : 0;
  const inferenceUs = warmup + measurement.count * measurement.avgUs;
  return { totalMs: ((measurement.initUs ?? 0) + inferenceUs) / 1e3, inferenceMs: inferenceUs / 1e3 };
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

export async function runAdbBatchingBench(options: AdbBatchingBenchOptions = {}): Promise<AdbBatchingBenchResult> {
  if (!adbBinary) throw new Error('the adb binary is needed for this benchmark (apt-get install adb)');
  const realInference = options.realInference ?? false;
  const modelCount = options.models ?? (realInference ? 40 : 60);
  const trials = Math.max(3, options.trials ?? 5);
  const device = await startDeviceProcess({ realInference });
  const server = await PrivateAdbServer.start();
  try {
    await server.connect(device.serial);
    const { bridge } = server;
    const serial = device.serial;
    const runner = new BenchmarkRunner(bridge);
    const models = realInference ? zooLayerModels(modelCount) : standInModels(modelCount);
    const settings = {
      threads: 1,
      cpuMask: '80',
      warmupRuns: options.warmupRuns ?? LUT_DEFAULT_WARMUP_RUNS,
      numRuns: options.numRuns ?? LUT_DEFAULT_NUM_RUNS,
      repeats: 1,
      cooldownMs: 0,
    };
    const clearDevice = async (): Promise<void> => {
      const { exitCode } = await bridge.shell(serial, `rm -rf ${MODEL_DIR}`);
      if (exitCode !== 0) throw new Error(`could not clear ${MODEL_DIR} on the emulated device`);
    };
    const timeOnce = async (
      measure: () => Promise<BatchResult>,
      expected = models.length,
    ): Promise<{ seconds: number; result: BatchResult }> => {
      await clearDevice();
      const started = process.hrtime.bigint();
      const result = await measure();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.failures.length > 0) throw new Error(`benchmark runs failed: ${result.failures[0]?.message}`);
      if (result.results.length !== expected) throw new Error(`only ${result.results.length} of ${expected} models were measured`);
      return { seconds, result };
    };
    const summarize = (seconds: number[], last: BatchResult): AdbBatchingModeResult => {
      const medianSeconds = median(seconds);
      return {
        trialSeconds: seconds.map((value) => round(value, 4)),
        medianSeconds: round(medianSeconds, 4),
        entriesPerMinute: Math.round((models.length / medianSeconds) * 60),
        msPerModel: round((medianSeconds * 1e3) / models.length),
        shellSessionsPerTrial: last.shellSessions,
        modelsMeasuredPerTrial: last.results.length,
      };
    };

    // Untimed warm-up of both paths (JIT, adb server, the device's runtime), then the modes' trials
    // alternate (A B A B …) so a change in machine load affects both alike.
    await timeOnce(() => runner.measureBatch(serial, models.slice(0, 5), settings), 5);
    await timeOnce(() => runner.measureOneByOne(serial, models.slice(0, 5), settings), 5);
    const batchedSeconds: number[] = [];
    const singleSeconds: number[] = [];
    let lastBatched: BatchResult | undefined;
    let lastSingle: BatchResult | undefined;
    for (let trial = 0; trial < trials; trial++) {
      const batchedTrial = await timeOnce(() => runner.measureBatch(serial, models, settings));
      batchedSeconds.push(batchedTrial.seconds);
      lastBatched = batchedTrial.result;
      const singleTrial = await timeOnce(() => runner.measureOneByOne(serial, models, settings));
      singleSeconds.push(singleTrial.seconds);
      lastSingle = singleTrial.result;
    }
    if (!lastBatched || !lastSingle) throw new Error('no trials ran');
    const batched = summarize(batchedSeconds, lastBatched);
    const oneRoundTripPerModel = summarize(singleSeconds, lastSingle);
    const breakdown = await measureBreakdown(bridge, serial, models, lastBatched, clearDevice);
    const speedup = round(batched.entriesPerMinute / oneRoundTripPerModel.entriesPerMinute, 2);
    const { stdout } = await execFileAsync(server.adb, ['version']);
    const result: AdbBatchingBenchResult = {
      what:
        'new models measured per minute (push included) through a real adb server and an emulated adbd: one sync connection with ' +
        'pipelined pushes + one shell session for the batch, vs one push and one shell session per model',
      adbVersion: stdout.split('\n').find((line) => line.startsWith('Version'))?.trim() ?? stdout.split('\n')[0] ?? '',
      modelCount: models.length,
      trialsPerMode: trials,
      benchmarkModelSettings: settings,
      deviceExecution: realInference
        ? 'emulated device in its own process; benchmark_model loads each exported zoo-network layer once and runs warm-up + timed runs on LiteRT (wasm): real load and inference time is included'
        : 'emulated device in its own process with the size-derived stand-in: no inference time on the device, so this isolates adb/protocol/host cost per model',
      pushIncluded: true,
      batched,
      oneRoundTripPerModel,
      breakdown,
      speedup,
      goalSpeedup: GOAL_SPEEDUP,
      meetsGoal: speedup >= GOAL_SPEEDUP,
      measuredAt: new Date().toISOString(),
    };
    const defaultName = realInference ? 'adb-batching-real-inference.json' : 'adb-batching.json';
    const outputPath = options.outputPath === undefined ? join(RESULTS_DIR, defaultName) : options.outputPath;
    if (outputPath !== null) {
      await mkdir(dirname(outputPath), { recursive: true });
      await writeFile(outputPath, `${JSON.stringify(result, null, 2)}\n`);
    }
    console.log(
      `adb batching${realInference ? ' (real inference)' : ' (no inference)'}: ${models.length} new models, ` +
        `warmup ${settings.warmupRuns} + ${settings.numRuns} runs, median of ${trials} trials\n` +
        `  batched (1 sync + 1 shell):    ${batched.entriesPerMinute} entries/min (${batched.msPerModel} ms/model)\n` +
        `  one push + one shell per model: ${oneRoundTripPerModel.entriesPerMinute} entries/min (${oneRoundTripPerModel.msPerModel} ms/model)\n` +
        `  speedup ${speedup}x (goal ≥ ${GOAL_SPEEDUP}x: ${result.meetsGoal ? 'met' : 'NOT met'})\n` +
        `  per model: shell round trip ${breakdown.shellRoundTripMs} ms, push on own connection ${breakdown.pushOwnConnectionMsPerModel} ms, ` +
        `pipelined push ${breakdown.pushPipelinedMsPerModel} ms, benchmark_model ${breakdown.deviceBenchmarkMsPerModel} ms ` +
        `(inference ${breakdown.deviceInferenceMsPerModel} ms${realInference ? '' : ', reported by the stand-in, not spent'})`,
    );
    return result;
  } finally {
    await server.stop();
    await device.stop();
  }
}

async function measureBreakdown(
  bridge: PrivateAdbServer['bridge'],
  serial: string,
  models: readonly ModelToMeasure[],
  batched: BatchResult,
  clearDevice: () => Promise<void>,
): Promise<AdbBatchingBreakdown> {
  const timeMs = async (work: () => Promise<unknown>): Promise<number> => {
    const started = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const shellTimes: number[] = [];
  for (let i = 0; i < 20; i++) shellTimes.push(await timeMs(() => bridge.shell(serial, 'true')));
  const items = models.map((model, index) => ({ source: model.bytes ?? new Uint8Array(), remotePath: `${MODEL_DIR}/breakdown-${index}.tflite` }));
  // Alternate the two ways of pushing (after one untimed round) so warm-up and load changes hit both alike.
  const ownConnection: number[] = [];
  const pipelined: number[] = [];
  for (let round = 0; round < 4; round++) {
    await clearDevice();
    const pipelinedMs = (await timeMs(() => bridge.pushAll(serial, items))) / items.length;
    await clearDevice();
    const ownMs: number[] = [];
    for (const item of items) ownMs.push(await timeMs(() => bridge.push(serial, item.source, item.remotePath)));
    if (round === 0) continue;
    pipelined.push(pipelinedMs);
    ownConnection.push(ownMs.reduce((sum, value) => sum + value, 0) / items.length);
  }
  await clearDevice();
  const device = batched.results.map(deviceTimesMs);
  return {
    shellRoundTripMs: round(median(shellTimes)),
    pushOwnConnectionMsPerModel: round(median(ownConnection)),
    pushPipelinedMsPerModel: round(median(pipelined)),
    deviceBenchmarkMsPerModel: round(median(device.map((d) => d.totalMs))),
    deviceInferenceMsPerModel: round(median(device.map((d) => d.inferenceMs))),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAdbBatchingBench();
  if (process.argv.includes('--real-inference')) await runAdbBatchingBench({ realInference: true });
}
