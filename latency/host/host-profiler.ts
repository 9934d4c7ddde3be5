/**
 * The host profiler: measures the same .tflite files the phone would run, with the TFLite runtime on this computer
 * (LiteRT wasm, XNNPACK, one thread). Users without a phone, and CI, exercise the whole latency-table path with it.
 *
 * How models are measured (issue #5, host LUT accuracy): single layers of a small network take 0.5–20 µs, while one
 * call through LiteRT.js's public API costs ~100 µs of JavaScript with a large spread. So inferences are invoked
 * directly on the wasm model (litert.ts directInvoker), back to back, and timed in samples of `invokesPerSample`
 * inferences, chosen so that one sample lasts about `sampleUs`. The models of a batch are loaded together and
 * measured round-robin over `rounds` rounds (measureChunk); an entry is the fastest sample's time per inference
 * (fastestWindow).
 */
import { cpus, hostname, platform, arch } from 'node:os';
import { loadTfliteRuntime, type LoadedModel } from '../../core/export/runtime/litert.ts';
import { stableId } from '../../core/hash.ts';
import { summarizeTimes, type Measurement, type MeasureCallbacks, type ModelToMeasure, type Profiler } from '../profiler.ts';
import { canonicalRuntimeOptions, withModelDtype, type ModelDtype } from '../store/runtime-options.ts';
import { median } from '../../core/stats.ts';
import { ValidationError } from '../../core/errors.ts';

export interface HostProfilerOptions {
  warmupRuns?: number;
  /** Timed samples per model, spread over the rounds. */
  numRuns?: number;
  /** Rounds over which a batch's samples are spread, round-robin over its models (default 10). */
  repeats?: number;
  /** Target duration of one timed sample in µs (default 400); fast models get more inferences per sample. */
  sampleUs?: number;
  /** The models the table holds (default float32; int8 tables are keyed apart, see withModelDtype). */
  dtype?: ModelDtype;
  /** Runtime options a phone takes; the host accepts only what it does (see HOST_CAPABILITIES) and refuses the rest. */
  threads?: number;
  cpuMask?: string;
  delegate?: string;
  pinFrequency?: boolean | number;
}

/** What the host profiler can measure with: LiteRT's wasm build runs XNNPACK on one thread, not pinned to cores. */
export const HOST_CAPABILITIES = { delegates: ['xnnpack'], threads: [1], cpuMask: false, pinFrequency: false } as const;

/** Refuses, with a message that says why, the runtime options the host runtime cannot honour. */
export function checkHostOptions(options: HostProfilerOptions): void {
  const refused: string[] = [];
  if (options.delegate !== undefined && options.delegate !== 'xnnpack') refused.push(`the ${options.delegate} delegate (it has XNNPACK only)`);
  if (options.threads !== undefined && options.threads !== 1) refused.push(`${options.threads} threads (LiteRT's wasm build runs one)`);
  if (options.cpuMask !== undefined) refused.push(`a CPU mask (${options.cpuMask}): the host does not pin cores`);
  if (options.pinFrequency !== undefined && options.pinFrequency !== false) refused.push('frequency pinning');
  if (refused.length > 0) {
    throw new ValidationError(`the host profiler (LiteRT wasm on this computer) cannot measure with ${refused.join(', ')}`, [
      'measure these options on a phone: --device <adb serial>',
      'on the host: --delegate xnnpack, --threads 1, no --cpu-mask',
    ]);
  }
}

/**
 * What an entry means. Bump it whenever the measurement method changes, so a table measured the old way is a
 * different table (it is part of the runtime options, hence of every entry's key) and never reused silently.
 */
export const HOST_MEASUREMENT_METHOD = 'fastest-window-interleaved-v3';

const MAX_INVOKES_PER_SAMPLE = 2000;
/**
 * Models loaded at once and measured round-robin, bounded in number and in file bytes (XNNPACK keeps a packed
 * copy of the weights too) so that a big batch does not exhaust the wasm heap.
 */
const CHUNK_SIZE = 400;
const CHUNK_BYTES = 64 * 1024 * 1024;
const MIN_SPAN_MS = 2500;
const MAX_ROUND_FACTOR = 4;

export async function createHostProfiler(options: HostProfilerOptions = {}): Promise<Profiler> {
  checkHostOptions(options);
  const runtime = await loadTfliteRuntime();
  const warmupRuns = options.warmupRuns ?? 5;
  const numRuns = options.numRuns ?? 30;
  const rounds = Math.max(1, options.repeats ?? 10);
  const sampleUs = Math.max(1, options.sampleUs ?? 400);
  const cpu = cpus()[0];
  const fingerprint = {
    kind: 'host',
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpuModel: cpu?.model ?? 'unknown',
    cpuCount: cpus().length,
    node: process.version,
    runtime: `litert-wasm:${runtime.info.wasmFile}`,
    threads: 1,
  };
  const runtimeOptions = withModelDtype(
    canonicalRuntimeOptions({
      threads: 1,
      mask: 'all',
      warmup: warmupRuns,
      runs: numRuns,
      rounds,
      sampleUs,
      method: HOST_MEASUREMENT_METHOD,
      delegate: 'xnnpack',
    }),
    options.dtype ?? 'float32',
  );
  return {
    deviceId: `host-${stableId(fingerprint)}`,
    label: `host (${fingerprint.cpuModel.trim()}, ${fingerprint.hostname})`,
    fingerprint,
    runtimeOptions,
    async measure(models: readonly ModelToMeasure[], callbacks: MeasureCallbacks): Promise<void> {
      for (const chunk of chunksOf(models)) {
        if (callbacks.signal?.aborted) return;
        await measureChunk(chunk, callbacks, { warmupRuns, numRuns, rounds, sampleUs });
      }
    },
  };
}

function chunksOf(models: readonly ModelToMeasure[]): ModelToMeasure[][] {
  const chunks: ModelToMeasure[][] = [];
  let current: ModelToMeasure[] = [];
  let bytes = 0;
  for (const model of models) {
    if (current.length > 0 && (current.length >= CHUNK_SIZE || bytes + model.bytes.length > CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(model);
    bytes += model.bytes.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

interface Plan {
  warmupRuns: number;
  numRuns: number;
  rounds: number;
  sampleUs: number;
}

interface Loaded {
  key: string;
  model: LoadedModel;
  invokesPerSample: number;
  timesUs: number[];
}

/**
 * Loads a chunk of models, warms each up (also XNNPACK's first-run weight packing) and sizes its samples, then
 * measures them round-robin: in each of `rounds` rounds every model runs numRuns / rounds samples. A slow phase of
 * the machine (another process on the other core, lasting seconds) thus hits every model of the chunk alike and
 * never all samples of one model.
 */
async function measureChunk(models: readonly ModelToMeasure[], callbacks: MeasureCallbacks, plan: Plan): Promise<void> {
  const loaded: Loaded[] = [];
  const fail = (key: string, error: unknown): void => {
    if (!callbacks.onFailure) throw error;
    callbacks.onFailure(key, error as Error);
  };
  try {
    for (const { key, bytes } of models) {
      if (callbacks.signal?.aborted) return;
      let model: LoadedModel | undefined;
      try {
        model = await (await loadTfliteRuntime()).load(bytes);
        const probe = await model.benchmark({ warmup: Math.max(1, plan.warmupRuns), runs: 3 });
        const invokesPerSample = Math.min(MAX_INVOKES_PER_SAMPLE, Math.max(1, Math.round(plan.sampleUs / Math.max(probe.minUs, 0.01))));
        loaded.push({ key, model, invokesPerSample, timesUs: [] });
      } catch (error) {
        model?.close();
        fail(key, error);
      }
    }
    const perRound = Math.max(1, Math.ceil(plan.numRuns / plan.rounds));
    const failed = new Set<string>();
    const started = Date.now();
    // A small chunk would finish its rounds within a single slow phase of the machine: it gets extra rounds until
    // it spans MIN_SPAN_MS (at most MAX_ROUND_FACTOR times the planned rounds).
    const enoughRounds = (round: number): boolean =>
      round >= plan.rounds && (Date.now() - started >= MIN_SPAN_MS || round >= plan.rounds * MAX_ROUND_FACTOR);
    for (let round = 0; !enoughRounds(round); round++) {
      for (const entry of round % 2 === 0 ? loaded : [...loaded].reverse()) {
        if (callbacks.signal?.aborted) return;
        if (failed.has(entry.key)) continue;
        try {
          const result = await entry.model.benchmark({ warmup: 1, runs: perRound, invokesPerSample: entry.invokesPerSample });
          entry.timesUs.push(...result.timesUs);
        } catch (error) {
          failed.add(entry.key);
          fail(entry.key, error);
        }
      }
    }
    for (const entry of loaded) if (!failed.has(entry.key)) callbacks.onResult(entry.key, fastestWindow(entry.timesUs, perRound));
  } finally {
    for (const entry of loaded) entry.model.close();
  }
}

/**
 * An entry's value (meanUs) is the mean time per inference of its fastest sample window, not the mean of
 * all samples. On a shared machine most samples are slowed by other processes (cache and memory-bandwidth
 * contention, not only preemption: CPU time is just as noisy as wall time); the fastest of ~30 windows of many
 * inferences is the model's undisturbed cost and varies ~4 % between repeats, against ~14 % for the mean or the
 * median (measured on the 2-core CI box at load average 7; see the issue #5 report). Median, std and flags are
 * those of all samples (summarizeTimes).
 */
export function fastestWindow(timesUs: readonly number[], samplesPerRound = timesUs.length): Measurement {
  const all = summarizeTimes(timesUs);
  const fastest = Math.min(...timesUs);
  const roundMinima: number[] = [];
  for (let i = 0; i < timesUs.length; i += samplesPerRound) roundMinima.push(Math.min(...timesUs.slice(i, i + samplesPerRound)));
  const flags = new Set(all.flags);
  // The fastest windows of the rounds disagree: the machine was busy throughout some rounds.
  if (roundMinima.length > 1 && (median(roundMinima) - fastest) / fastest > 0.25) flags.add('unstable-repeats');
  return { ...all, count: timesUs.length, meanUs: fastest, minUs: fastest, flags: [...flags].sort() };
}
