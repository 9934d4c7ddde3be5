/**
 * How much does batching benchmark runs into one adb shell session save? Starts the emulated device and a
 * private adb server, then measures entries/min (models measured per minute) for
 *   - batched: one shell session running every model (device-side for loop), and
 *   - one round trip per model: one shell session per model,
 * over the same N models, median of a few trials each. Nothing is slowed down artificially: the emulated
 * benchmark_model answers as fast as its executeModel hook (by default a size-derived stand-in that does
 * no real inference), so the numbers measure what the adb protocol and host code cost per model.
 * Run: npx tsx bench/adb-batching.ts [--real-inference]
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BenchmarkRunner } from '../profiler-android/benchmark/runner.ts';
import type { BatchResult, MeasureOptions, ModelToMeasure } from '../profiler-android/benchmark/runner.ts';
import { median } from '../core/stats.ts';
import { adbBinary, AdbTestEnvironment, PrivateAdbServer } from '../test/profiler-android/adb-harness.ts';
import type { ExecuteModel } from '../test/profiler-android/emulated-adbd.ts';
import { startDeviceProcess } from '../test/profiler-android/emulated-adbd-process.ts';
import { fakeTfliteModel } from '../test/profiler-android/fake-models.ts';
import { liteRtExecuteModel } from '../test/profiler-android/runtime-execute-model.ts';
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
  trials?: number;
  /**
   * Plug a real runtime in here to include inference time (default: the emulator's size-derived stand-in).
   * With a hook the device runs inside this process; without one it runs in its own process.
   */
  executeModel?: ExecuteModel;
  /** Where to write the JSON (default bench/results/adb-batching.json); null to skip writing. */
  outputPath?: string | null;
}

export interface AdbBatchingModeResult {
  trialSeconds: number[];
  medianSeconds: number;
  entriesPerMinute: number;
  shellSessionsPerTrial: number;
  modelsMeasuredPerTrial: number;
}

export interface AdbBatchingBenchResult {
  what: string;
  adbVersion: string;
  modelCount: number;
  trialsPerMode: number;
  benchmarkModelSettings: Pick<MeasureOptions, 'threads' | 'cpuMask' | 'warmupRuns' | 'numRuns' | 'repeats' | 'cooldownMs'>;
  deviceExecution: string;
  batched: AdbBatchingModeResult;
  oneRoundTripPerModel: AdbBatchingModeResult;
  /** batched entries/min divided by one-round-trip entries/min. */
  speedup: number;
  goalSpeedup: number;
  meetsGoal: boolean;
  measuredAt: string;
}

const execFileAsync = promisify(execFile);
const GOAL_SPEEDUP = 3;
const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Distinct single-layer .tflite models from the zoo networks, as a latency table would measure. */
function zooLayerModels(count: number): ModelToMeasure[] {
  const models: ModelToMeasure[] = [];
  for (const name of ['mobilenet-v1-32', 'mobilenet-v2-32', 'mobilenet-v3-large-32', 'fastdepth-64']) {
    const network = resolveNetwork(loadNetwork(name));
    const weights = randomFoldedWeights(network, 1);
    for (const [index, layer] of network.layers.entries()) {
      if (models.length >= count) return models;
      models.push({ key: `${name}/${index}`, bytes: exportLayer(layer, weights) });
    }
  }
  return models;
}

export async function runAdbBatchingBench(options: AdbBatchingBenchOptions = {}): Promise<AdbBatchingBenchResult> {
  if (!adbBinary) throw new Error('the adb binary is needed for this benchmark (apt-get install adb)');
  const modelCount = options.models ?? 60;
  const trials = options.trials ?? 7;
  const executeModel = options.executeModel ?? (options.realInference ? await liteRtExecuteModel() : undefined);
  const env = executeModel ? await AdbTestEnvironment.start({ executeModel }) : await startSeparateProcessEnvironment();
  try {
    const runner = new BenchmarkRunner(env.bridge);
    const models: ModelToMeasure[] = options.realInference
      ? zooLayerModels(modelCount)
      : Array.from({ length: modelCount }, (_, i) => ({
          key: `layer${i}`,
          bytes: fakeTfliteModel(2_000 + ((i * 7919) % 60_000), `bench-model-${i}`),
        }));
    const settings = { threads: 1, cpuMask: '80', warmupRuns: 2, numRuns: 10, repeats: 1, cooldownMs: 0 };
    // Push every model once up front, so both modes only pay for checking that they are there.
    await runner.measureBatch(env.serial, models, settings);

    const summarize = (seconds: number[], last: BatchResult): AdbBatchingModeResult => {
      const medianSeconds = median(seconds);
      return {
        trialSeconds: seconds.map((value) => Number(value.toFixed(4))),
        medianSeconds: Number(medianSeconds.toFixed(4)),
        entriesPerMinute: Math.round((models.length / medianSeconds) * 60),
        shellSessionsPerTrial: last.shellSessions,
        modelsMeasuredPerTrial: last.results.length,
      };
    };
    const timeOnce = async (measure: () => Promise<BatchResult>): Promise<{ seconds: number; result: BatchResult }> => {
      const started = process.hrtime.bigint();
      const result = await measure();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.failures.length > 0) throw new Error(`benchmark runs failed: ${result.failures[0]?.message}`);
      return { seconds, result };
    };
    // One untimed warm-up of the one-by-one path, then the modes' trials alternate (A B A B …) so a change
    // in machine load affects both alike.
    await runner.measureOneByOne(env.serial, models.slice(0, 5), settings);
    const batchedSeconds: number[] = [];
    const singleSeconds: number[] = [];
    let lastBatched: BatchResult | undefined;
    let lastSingle: BatchResult | undefined;
    for (let trial = 0; trial < trials; trial++) {
      const batchedTrial = await timeOnce(() => runner.measureBatch(env.serial, models, settings));
      batchedSeconds.push(batchedTrial.seconds);
      lastBatched = batchedTrial.result;
      const singleTrial = await timeOnce(() => runner.measureOneByOne(env.serial, models, settings));
      singleSeconds.push(singleTrial.seconds);
      lastSingle = singleTrial.result;
    }
    if (!lastBatched || !lastSingle) throw new Error('trials must be at least 1');
    const batched = summarize(batchedSeconds, lastBatched);
    const oneRoundTripPerModel = summarize(singleSeconds, lastSingle);
    const speedup = Number((batched.entriesPerMinute / oneRoundTripPerModel.entriesPerMinute).toFixed(2));
    const { stdout } = await execFileAsync(env.adb, ['version']);
    const result: AdbBatchingBenchResult = {
      what: 'models measured per minute through a real adb server and an emulated adbd, batched shell session vs one shell session per model',
      adbVersion: stdout.split('\n').find((line) => line.startsWith('Version'))?.trim() ?? stdout.split('\n')[0] ?? '',
      modelCount: models.length,
      trialsPerMode: trials,
      benchmarkModelSettings: settings,
      deviceExecution: executeModel
        ? `emulated device in the benchmark process running ${options.realInference ? 'exported zoo-network layers on LiteRT (wasm)' : 'an injected executeModel runtime'}; real inference time is included`
        : 'emulated device in its own process with the size-derived stand-in: no inference time on the device, so this isolates adb/protocol/host overhead per model',
      batched,
      oneRoundTripPerModel,
      speedup,
      goalSpeedup: GOAL_SPEEDUP,
      meetsGoal: speedup >= GOAL_SPEEDUP,
      measuredAt: new Date().toISOString(),
    };
    const defaultName = options.realInference ? 'adb-batching-real-inference.json' : 'adb-batching.json';
    const outputPath = options.outputPath === undefined ? join(RESULTS_DIR, defaultName) : options.outputPath;
    if (outputPath !== null) {
      await mkdir(dirname(outputPath), { recursive: true });
      await writeFile(outputPath, `${JSON.stringify(result, null, 2)}\n`);
    }
    console.log(
      `adb batching${options.realInference ? ' (real inference)' : ''}: ${models.length} models, median of ${trials} trials\n` +
        `  batched (1 shell session):     ${batched.entriesPerMinute} entries/min (${batched.medianSeconds}s)\n` +
        `  one round trip per model:      ${oneRoundTripPerModel.entriesPerMinute} entries/min (${oneRoundTripPerModel.medianSeconds}s)\n` +
        `  speedup ${speedup}x (goal ≥ ${GOAL_SPEEDUP}x: ${result.meetsGoal ? 'met' : 'NOT met'})`,
    );
    return result;
  } finally {
    await env.stop();
  }
}

async function startSeparateProcessEnvironment(): Promise<{
  bridge: PrivateAdbServer['bridge'];
  serial: string;
  adb: string;
  stop(): Promise<void>;
}> {
  const device = await startDeviceProcess();
  const server = await PrivateAdbServer.start();
  await server.connect(device.serial);
  return {
    bridge: server.bridge,
    serial: device.serial,
    adb: server.adb,
    stop: async () => {
      await server.stop();
      await device.stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAdbBatchingBench();
  if (process.argv.includes('--real-inference')) await runAdbBatchingBench({ realInference: true, models: 40 });
}
