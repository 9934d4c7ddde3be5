import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import type { CompiledModel, LiteRt, Tensor as LiteRtTensor, TensorDetails } from '@litertjs/core';
import { UserError, ValidationError } from '../../errors.ts';
import { readTfliteModel } from '../tflite/reader.ts';

/**
 * A real TFLite interpreter on this computer: LiteRT.js (@litertjs/core), i.e. the TFLite runtime compiled to
 * WebAssembly with the XNNPACK CPU kernels. Used to check exported models against reference math and, later, as
 * the host profiler. Everything runs on the calling thread (single-threaded wasm build).
 */
export interface TfliteRuntime {
  /** Which wasm build was loaded (e.g. "litert_wasm_compat_internal.js") and what it reports about itself. */
  readonly info: RuntimeInfo;
  load(bytes: Uint8Array): Promise<LoadedModel>;
  /** The runtime's recent log lines (LiteRT/TFLite print to this instead of stderr; last 200 kept). */
  recentLog(): string[];
}

export interface RuntimeInfo {
  readonly wasmFile: string;
  readonly relaxedSimd: boolean;
  readonly threadCount: number;
  readonly accelerator: 'wasm';
}

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

export interface BenchmarkOptions {
  readonly warmup?: number;
  readonly runs?: number;
  /** Inputs to feed; seeded pseudo-random values in [-1, 1) when omitted. */
  readonly inputs?: readonly Float32Array[];
  /**
   * Back-to-back invocations timed together as one sample (default 1); a sample's time is their mean. Batching
   * keeps the timer and the event loop out of microsecond-scale layers.
   */
  readonly invokesPerSample?: number;
}

export interface BenchmarkResult {
  /**
   * Wall time of each timed sample in microseconds per inference (process.hrtime.bigint around `invokesPerSample`
   * inferences, divided by their number).
   */
  readonly timesUs: number[];
  /**
   * CPU time of this process (user + system, process.cpuUsage) during each sample, per inference. Unlike wall
   * time it does not count the time the thread waited for a core, so it is steadier on a busy machine; it costs
   * ~5 µs per sample, which is why samples should hold many inferences.
   */
  readonly cpuTimesUs: number[];
  readonly meanUs: number;
  readonly medianUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly stdUs: number;
  readonly warmup: number;
  readonly invokesPerSample: number;
}

export interface LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /**
   * Whether every operator runs in the XNNPACK delegate (false: some fall back to TFLite's reference kernels, which
   * the latency then includes).
   */
  readonly fullyAccelerated: boolean;
  /** Runs one inference. Inputs by position or by signature input name; outputs are copied out of wasm memory. */
  run(inputs: readonly Float32Array[] | Readonly<Record<string, Float32Array>>): Promise<Float32Array[]>;
  benchmark(options?: BenchmarkOptions): Promise<BenchmarkResult>;
  /** Frees the model's wasm memory. Further calls throw. Safe to call twice. */
  close(): void;
}

/** The runtime failed to load or run a model (unsupported op, bad file the interpreter rejected, ...). */
export class TfliteRuntimeError extends UserError {}

let runtimePromise: Promise<TfliteRuntime> | undefined;

/**
 * Loads the LiteRT wasm runtime once per process (LiteRT.js keeps a global instance) and returns it.
 * Concurrent callers share the same promise.
 */
export function loadTfliteRuntime(): Promise<TfliteRuntime> {
  runtimePromise ??= initRuntime().catch((error: unknown) => {
    runtimePromise = undefined;
    throw error;
  });
  return runtimePromise;
}

const LOG_LIMIT = 200;
const runtimeLog: { readonly seq: number; readonly text: string }[] = [];
let logSeq = 0;

/** Set NETADAPT_LITERT_LOG=1 to also see the runtime's own log on stderr. */
function logLine(text: string): void {
  runtimeLog.push({ seq: logSeq++, text });
  if (runtimeLog.length > LOG_LIMIT) runtimeLog.splice(0, runtimeLog.length - LOG_LIMIT);
  if (process.env['NETADAPT_LITERT_LOG'] === '1') process.stderr.write(`[litert] ${text}\n`);
}

/** Error lines logged since `mark` (the interpreter explains failures in its log, not in the exception). */
function errorsSince(mark: number): string[] {
  return runtimeLog.filter((e) => e.seq >= mark && /^ERROR\b/.test(e.text)).map((e) => e.text);
}

async function initRuntime(): Promise<TfliteRuntime> {
  const litert = await import('@litertjs/core');
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@litertjs/core')), '..', 'wasm');
  const relaxedSimd = await litert.supportsFeature('relaxedSimd');
  // Same choice loadLiteRt makes for a directory without threads/JSPI: the threaded build needs Web Workers and
  // JSPI needs WebAssembly.Suspending, neither of which Node 20 offers.
  const wasmFile = relaxedSimd ? 'litert_wasm_internal.js' : 'litert_wasm_compat_internal.js';
  const liteRt = await withBrowserWorkerShims(() => litert.loadLiteRt(join(wasmDir, wasmFile)));
  const info: RuntimeInfo = {
    wasmFile,
    relaxedSimd,
    threadCount: liteRt.liteRtWasm.getThreadCount(),
    accelerator: 'wasm',
  };
  return {
    info,
    load: (bytes) => loadModel(liteRt, litert.Tensor, bytes),
    recentLog: () => runtimeLog.map((e) => e.text),
  };
}

/**
 * LiteRT.js loads its emscripten glue the way a Web Worker would: it calls `importScripts(url)` and then reads
 * `self.ModuleFactory` (and `self.Module`, the emscripten settings). Node has neither, so for the duration of the
 * load we provide both: `importScripts` runs the (CommonJS-flavoured) glue script with `require`/`__filename`/
 * `__dirname` in scope, which makes emscripten take its Node path (reading the .wasm with fs), and `self.Module`
 * routes the runtime's print/printErr into our log. LiteRT then tries to create a WebGPU device for its default
 * environment and console.warns when there is none (always, in Node); that one warning is logged instead of
 * printed. Everything is restored afterwards so nothing else (tfjs) sees a fake worker environment; the glue only
 * touches `self` while loading.
 */
async function withBrowserWorkerShims<T>(load: () => Promise<T>): Promise<T> {
  const g = globalThis as Record<string, unknown>;
  const saved = { self: g['self'], importScripts: g['importScripts'], hadSelf: 'self' in g, warn: console.warn };
  const shimSelf: Record<string, unknown> = {
    Module: { print: logLine, printErr: logLine },
  };
  g['self'] = shimSelf;
  g['importScripts'] = (scriptPath: string): void => {
    const code = readFileSync(scriptPath, 'utf8');
    const wrapper = runInThisContext(
      `(function (require, module, exports, __filename, __dirname) {${code}\nreturn ModuleFactory;\n})`,
      { filename: scriptPath },
    ) as (...args: unknown[]) => unknown;
    const module = { exports: {} };
    shimSelf['ModuleFactory'] = wrapper(
      createRequire(scriptPath),
      module,
      module.exports,
      scriptPath,
      dirname(scriptPath),
    );
  };
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].startsWith('Failed to create default WebGPU device')) {
      logLine(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
    } else {
      saved.warn.apply(console, args);
    }
  };
  try {
    return await load();
  } finally {
    console.warn = saved.warn;
    if (saved.hadSelf) g['self'] = saved.self;
    else delete g['self'];
    if (saved.importScripts === undefined) delete g['importScripts'];
    else g['importScripts'] = saved.importScripts;
  }
}

type TensorClass = typeof LiteRtTensor;

async function loadModel(liteRt: LiteRt, Tensor: TensorClass, bytes: Uint8Array): Promise<LoadedModel> {
  // Our own bounds-checked parse first: a clear FileFormatError instead of whatever the interpreter makes of it.
  readTfliteModel(bytes, 'the model');
  let compiled: CompiledModel;
  const mark = logSeq;
  try {
    compiled = await liteRt.loadAndCompile(bytes, { accelerator: 'wasm', cpuOptions: { numThreads: 1 } });
  } catch (error) {
    throw new TfliteRuntimeError(`the TFLite runtime could not load the model: ${describe(error)}`, errorsSince(mark));
  }
  throwIfLoggedErrors(mark, 'could not prepare the model', () => compiled.delete());
  const inputDetails = compiled.getInputDetails();
  const inputs = inputDetails.map(toSpec);
  const outputs = compiled.getOutputDetails().map(toSpec);
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new ValidationError('this model was closed; load it again to run it');
  };

  const toTensors = (values: readonly Float32Array[]): LiteRtTensor[] => {
    const tensors: LiteRtTensor[] = [];
    try {
      values.forEach((data, i) => {
        const spec = inputs[i] as TensorSpec;
        const expected = spec.shape.reduce((p, d) => p * d, 1);
        if (data.length !== expected) {
          throw new ValidationError(
            `input ${i} (${spec.name}) needs ${expected} values for shape [${spec.shape.join(', ')}], got ${data.length}`,
          );
        }
        tensors.push(new Tensor(data, [...spec.shape]));
      });
    } catch (error) {
      tensors.forEach((t) => t.delete());
      throw error;
    }
    return tensors;
  };

  const orderInputs = (given: readonly Float32Array[] | Readonly<Record<string, Float32Array>>): Float32Array[] => {
    if (Array.isArray(given)) {
      if (given.length !== inputs.length) {
        throw new ValidationError(`the model has ${inputs.length} inputs, got ${given.length}`);
      }
      return [...(given as readonly Float32Array[])];
    }
    const byName = given as Readonly<Record<string, Float32Array>>;
    return inputs.map((spec) => {
      const value = byName[spec.name];
      if (!value) throw new ValidationError(`missing input "${spec.name}"`);
      return value;
    });
  };

  /** One inference on prepared input tensors; returns the output tensors (caller deletes them). */
  const invoke = async (tensors: LiteRtTensor[]): Promise<LiteRtTensor[]> => {
    const runMark = logSeq;
    let results: LiteRtTensor[];
    try {
      results = await compiled.run(tensors);
    } catch (error) {
      throw new TfliteRuntimeError(
        `the TFLite runtime failed to run the model: ${describe(error)}`,
        errorsSince(runMark),
      );
    }
    throwIfLoggedErrors(runMark, 'failed to run the model', () => results.forEach((t) => t.delete()));
    return results;
  };

  return {
    inputs,
    outputs,
    fullyAccelerated: compiled.isFullyAccelerated,
    async run(given) {
      assertOpen();
      const tensors = toTensors(orderInputs(given));
      try {
        const results = await invoke(tensors);
        try {
          return results.map((t) => Float32Array.from(t.toTypedArray() as Float32Array));
        } finally {
          results.forEach((t) => t.delete());
        }
      } finally {
        tensors.forEach((t) => t.delete());
      }
    },
    async benchmark(options = {}) {
      assertOpen();
      const warmup = options.warmup ?? 3;
      const runs = options.runs ?? 10;
      const perSample = options.invokesPerSample ?? 1;
      if (!Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(perSample) || perSample < 1) {
        throw new ValidationError(
          `benchmark needs warmup >= 0, runs >= 1 and invokesPerSample >= 1, got warmup=${warmup} runs=${runs} invokesPerSample=${perSample}`,
        );
      }
      const tensors = toTensors(options.inputs ? [...options.inputs] : inputs.map(pseudoRandomInput));
      try {
        const invokeOnce: () => Promise<void> | undefined =
          directInvoker(compiled, tensors) ?? (async () => (await invoke(tensors)).forEach((t) => t.delete()));
        const timesUs: number[] = [];
        const cpuTimesUs: number[] = [];
        for (let i = 0; i < warmup + runs; i++) {
          const runMark = logSeq;
          const cpuStart = process.cpuUsage();
          const start = process.hrtime.bigint();
          for (let j = 0; j < perSample; j++) {
            const pending = invokeOnce();
            if (pending) await pending;
          }
          const elapsed = process.hrtime.bigint() - start;
          const cpu = process.cpuUsage(cpuStart);
          throwIfLoggedErrors(runMark, 'failed to run the model', () => undefined);
          if (i >= warmup) {
            timesUs.push(Number(elapsed) / 1000 / perSample);
            cpuTimesUs.push((cpu.user + cpu.system) / perSample);
          }
        }
        return summarize(timesUs, cpuTimesUs, warmup, perSample);
      } finally {
        tensors.forEach((t) => t.delete());
      }
    },
    close() {
      if (closed) return;
      closed = true;
      compiled.delete();
    },
  };
}

/**
 * LiteRT.js does not turn interpreter failures into exceptions: when tensor allocation or a delegate's prepare
 * fails it logs "ERROR: ..." and run() resolves with whatever is in the output buffers. So any ERROR line logged
 * during a load or run means that result is garbage. (Attribution assumes one load/run at a time, which holds for
 * the single-threaded wasm build unless callers interleave awaits of different models.)
 */
function throwIfLoggedErrors(mark: number, what: string, cleanup: () => void): void {
  const errors = errorsSince(mark);
  if (errors.length === 0) return;
  cleanup();
  throw new TfliteRuntimeError(`the TFLite runtime ${what}: ${errors[0] ?? ''}`, errors);
}

function toSpec(details: TensorDetails): TensorSpec {
  return { name: details.name, shape: Array.from(details.shape), dtype: details.dtype };
}

/** Deterministic input values in [-1, 1) (mulberry-style integer hash of the index). */
function pseudoRandomInput(spec: TensorSpec): Float32Array {
  const size = spec.shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let t = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    t = Math.imul(t ^ (t >>> 15), t | 1) >>> 0;
    data[i] = (t >>> 8) / (1 << 23) - 1;
  }
  return data;
}

interface RawCompiledModel {
  run(signatureIndex: number, buffers: unknown[]): { delete(): void }[] | Promise<{ delete(): void }[]>;
}

/**
 * A synchronous invoker for timing: LiteRT.js's public run() wraps each inference in several awaits, input
 * compatibility checks and Tensor objects, which cost ~100 µs with a large spread on this machine, more than most
 * single layers take. The wasm CompiledModel underneath (a private field of @litertjs/core 2.x) runs one inference
 * synchronously on the already-prepared input buffers. Returns undefined when that field is not there (another
 * LiteRT.js version, or the JSPI build where run is asynchronous), and the caller falls back to the public run().
 */
function directInvoker(compiled: CompiledModel, tensors: readonly LiteRtTensor[]): (() => undefined) | undefined {
  const raw = (compiled as unknown as { liteRtCompiledModel?: RawCompiledModel }).liteRtCompiledModel;
  if (!raw || typeof raw.run !== 'function') return undefined;
  const buffers = tensors.map((t) => t.liteRtTensorBuffer);
  const probe = raw.run(0, buffers);
  if (!Array.isArray(probe)) {
    void probe.then((outs) => outs.forEach((o) => o.delete()));
    return undefined;
  }
  probe.forEach((o) => o.delete());
  return () => {
    const outs = raw.run(0, buffers) as { delete(): void }[];
    for (const o of outs) o.delete();
    return undefined;
  };
}

function summarize(timesUs: number[], cpuTimesUs: number[], warmup: number, invokesPerSample: number): BenchmarkResult {
  const sorted = [...timesUs].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = timesUs.reduce((s, t) => s + t, 0) / n;
  const median = n % 2 === 1 ? (sorted[(n - 1) / 2] ?? 0) : ((sorted[n / 2 - 1] ?? 0) + (sorted[n / 2] ?? 0)) / 2;
  const variance = timesUs.reduce((s, t) => s + (t - mean) ** 2, 0) / n;
  return {
    timesUs,
    cpuTimesUs,
    meanUs: mean,
    medianUs: median,
    minUs: sorted[0] ?? 0,
    maxUs: sorted[n - 1] ?? 0,
    stdUs: Math.sqrt(variance),
    warmup,
    invokesPerSample,
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'number') return `wasm exception ${error}`;
  return String(error);
}
