/**
 * What `/data/local/tmp/benchmark_model` does on the emulated device: parse its flags, load the pushed
 * model, time it through the pluggable `executeModel` hook and print TFLite's benchmark_model log format
 * (tensorflow/lite/tools/benchmark/benchmark_model.cc + tsl Stat::OutputToStream).
 */
import { createHash } from 'node:crypto';
import { formatCppDouble } from './cpp-format.ts';
import type { ProcessTable } from './processes.ts';

export type EmulatedDelegate = 'xnnpack' | 'cpu' | 'gpu' | 'nnapi';

export interface ExecuteModelOptions {
  runs: number;
  threads: number;
  /** CPU indices the process is pinned to, or null when not pinned. */
  affinity: readonly number[] | null;
  /** Which kernels run the model (from --use_xnnpack / --use_gpu / --use_nnapi). */
  delegate?: EmulatedDelegate;
}

/** Runs a .tflite model `runs` times and returns each run's wall time in microseconds. */
export type ExecuteModel = (model: Uint8Array, options: ExecuteModelOptions) => Promise<number[]>;

/**
 * Stand-in until the host TFLite runtime exists: a time derived from the model size, with a small
 * deterministic per-run jitter seeded by the model bytes (a colder first run, like a real phone).
 */
/** How much faster (< 1) or slower each delegate runs the stand-in models than XNNPACK. */
const DELEGATE_SPEED: Record<EmulatedDelegate, number> = { xnnpack: 1, cpu: 2.5, gpu: 0.45, nnapi: 0.7 };

export const sizeDerivedExecuteModel: ExecuteModel = async (model, { runs, delegate }) => {
  const seed = createHash('sha256').update(model).digest();
  const baseUs = (40 + model.length / 50) * DELEGATE_SPEED[delegate ?? 'xnnpack'] + (delegate === 'gpu' ? 120 : 0);
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const byte = seed[run % seed.length] ?? 0;
    const jitter = 1 + ((byte / 255) * 2 - 1) * 0.015;
    times.push(Math.max(1, Math.round(baseUs * jitter * (run === 0 ? 1.3 : 1))));
  }
  return times;
};

/** A model loaded once by one benchmark_model process (its "Init"), then run phase after phase. */
export interface LoadedBenchmarkModel {
  /** Runs the model `runs` times; each run's wall time in microseconds. */
  execute(runs: number): Promise<number[]>;
  close(): void;
}

/**
 * Loads a model the way the real tool does once per invocation: when this hook is set, the emulated
 * benchmark_model loads the model once, times that load as its Init, and runs warm-up and timed runs on
 * the loaded model (executeModel is then not used).
 */
export type OpenModel = (model: Uint8Array, options: Omit<ExecuteModelOptions, 'runs'>) => Promise<LoadedBenchmarkModel>;

/** Faults of the emulated tool, set by tests through EmulatedAdbDevice. */
export interface BenchmarkFaults {
  /** Runs on a model whose path matches print their start and then nothing, until killed (a hung benchmark). */
  hang?: (graph: string) => boolean;
  /**
   * Every `every`-th run (counted over the device's life) is killed while writing: its output stops in the middle
   * of its last line, without the final newline, and it exits with `exitCode`.
   */
  cut?: { every: number; exitCode: number; runs: number };
}

export interface BenchmarkToolIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Buffer | undefined;
  executeModel: ExecuteModel;
  openModel?: OpenModel | undefined;
  affinity: readonly number[] | null;
  garbageOutput: boolean;
  signal: AbortSignal;
  /** Which accelerator delegates this phone has (default: none). */
  delegates?: { gpu: boolean; nnapi: boolean };
  processes?: ProcessTable;
  faults?: BenchmarkFaults;
}

const MAX_RUNS_PER_PHASE = 100_000;

interface Flags {
  graph?: string;
  num_runs: number;
  min_secs: number;
  max_secs: number;
  num_threads: number;
  warmup_runs: number;
  warmup_min_secs: number;
}

export async function runFakeBenchmarkModel(args: readonly string[], io: BenchmarkToolIo): Promise<number> {
  const proc = io.processes?.start(['/data/local/tmp/benchmark_model', ...args]);
  const cut = io.faults?.cut;
  const cutThisRun = cut !== undefined && ++cut.runs % cut.every === 0;
  let written = '';
  const write = cutThisRun ? (text: string): void => void (written += text) : io.stderr;
  try {
    const status = await runTool(args, { ...io, stderr: write }, proc?.killed);
    if (!cutThisRun) return status;
    // Killed while writing: the last line stops half way and the final newline never comes.
    const body = written.replace(/\n$/, '');
    const lastLine = body.lastIndexOf('\n') + 1;
    io.stderr(body.slice(0, lastLine + Math.max(1, Math.floor((body.length - lastLine) / 2))));
    return cut.exitCode;
  } finally {
    proc?.exit();
  }
}

const BOOLEAN_FLAGS = ['use_xnnpack', 'use_gpu', 'use_nnapi'] as const;

async function runTool(args: readonly string[], io: BenchmarkToolIo, killed: Promise<number> | undefined): Promise<number> {
  const log = (line: string): void => io.stderr(`${line}\n`);
  const flags: Flags = { num_runs: 50, min_secs: 1, max_secs: 150, num_threads: -1, warmup_runs: 1, warmup_min_secs: 0.5 };
  const switches: Partial<Record<(typeof BOOLEAN_FLAGS)[number], boolean>> = {};
  const unconsumed: string[] = [];
  for (const arg of args) {
    const match = /^--([a-z_]+)=(.*)$/s.exec(arg);
    const name = match?.[1];
    const value = match?.[2] ?? '';
    if (name === 'graph') flags.graph = value;
    else if ((BOOLEAN_FLAGS as readonly string[]).includes(name ?? '')) {
      if (!['true', 'false', '1', '0'].includes(value)) {
        log(`ERROR: Couldn't parse value for --${name}: ${value}`);
        return 1;
      }
      switches[name as (typeof BOOLEAN_FLAGS)[number]] = value === 'true' || value === '1';
    }
    else if (name !== undefined && name in flags && name !== 'graph') {
      const number = Number(value);
      if (value === '' || !Number.isFinite(number)) {
        log(`ERROR: Couldn't parse value for --${name}: ${value}`);
        return 1;
      }
      (flags as unknown as Record<string, number>)[name] = number;
    } else unconsumed.push(arg);
  }
  log('INFO: STARTING!');
  if (unconsumed.length > 0) log(`WARN: Unconsumed cmdline flags: ${unconsumed.join(' ')}`);
  log('INFO: Log parameter values verbosely: [0]');
  log(`INFO: Min num runs: [${flags.num_runs}]`);
  log(`INFO: Min runs duration (seconds): [${formatCppDouble(flags.min_secs)}]`);
  log(`INFO: Num threads: [${flags.num_threads}]`);
  log(`INFO: Min warmup runs: [${flags.warmup_runs}]`);
  log(`INFO: Min warmup runs duration (seconds): [${formatCppDouble(flags.warmup_min_secs)}]`);
  if (flags.graph === undefined) {
    log('ERROR: Please specify the name of your TF Lite input file with --graph');
    return 1;
  }
  log(`INFO: Graph: [${flags.graph}]`);
  const threads = flags.num_threads > 0 ? flags.num_threads : 1;
  log(`INFO: #threads used for CPU inference: [${threads}]`);
  const model = io.readFile(flags.graph);
  if (model === undefined || model.length < 8 || model.subarray(4, 8).toString('latin1') !== 'TFL3') {
    log(`ERROR: Could not open or parse model file ${flags.graph}`);
    log('ERROR: Benchmarking failed.');
    return 1;
  }
  log(`INFO: Loaded model ${flags.graph}`);
  if (io.garbageOutput) {
    io.stdout(garbageFor(model));
    return 0;
  }
  if (io.faults?.hang?.(flags.graph) && killed) {
    log('INFO: The input model file size (MB): 0.01');
    return 128 + (await killed);
  }
  const delegate = applyDelegate(switches, io.delegates ?? { gpu: false, nnapi: false }, log);
  if (delegate === undefined) return 1;
  log(`INFO: The input model file size (MB): ${formatCppDouble(model.length / 1e6)}`);
  const options = { threads, affinity: io.affinity, delegate };
  let initUs: number;
  let execute: (runs: number) => Promise<number[]>;
  let close = (): void => undefined;
  if (io.openModel) {
    const started = process.hrtime.bigint();
    const loaded = await io.openModel(model, options);
    initUs = Number(process.hrtime.bigint() - started) / 1e3;
    execute = (runs) => loaded.execute(runs);
    close = () => loaded.close();
  } else {
    initUs = 150 + Math.round(model.length / 400);
    execute = (runs) => io.executeModel(model, { ...options, runs });
  }
  let warmup: Stat;
  let regular: Stat;
  try {
    log(`INFO: Initialized session in ${formatCppDouble(initUs / 1e3)}ms.`);
    warmup = await runPhase(execute, flags.warmup_runs, flags.warmup_min_secs, flags.max_secs, io, log);
    regular = await runPhase(execute, flags.num_runs, flags.min_secs, flags.max_secs, io, log);
  } finally {
    close();
  }
  log(
    `INFO: Inference timings in us: Init: ${Math.round(initUs)}, First inference: ${warmup.first}, ` +
      `Warmup (avg): ${formatCppDouble(warmup.avg)}, Inference (avg): ${formatCppDouble(regular.avg)}`,
  );
  log(
    'INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the ' +
      'actual memory footprint of the model at runtime. Take the information at your discretion.',
  );
  const initMb = model.length / 1e6 + 0.5;
  log(`INFO: Memory footprint delta from the start of the tool (MB): init=${formatCppDouble(initMb)} overall=${formatCppDouble(initMb * 1.2)}`);
  return 0;
}

async function runPhase(
  execute: (runs: number) => Promise<number[]>,
  minRuns: number,
  minSecs: number,
  maxSecs: number,
  io: BenchmarkToolIo,
  log: (line: string) => void,
): Promise<Stat> {
  log(
    `INFO: Running benchmark for at least ${minRuns} iterations and at least ${formatCppDouble(minSecs)} seconds ` +
      `but terminate if exceeding ${formatCppDouble(maxSecs)} seconds.`,
  );
  const stat = new Stat();
  // The tool's loop: keep running while (run < min_runs || elapsed < min_secs) and elapsed <= max_secs.
  // Elapsed time is the sum of the measured run times (the hook's clock), not host wall time.
  let elapsedUs = 0;
  while ((stat.count < minRuns || elapsedUs < minSecs * 1e6) && elapsedUs <= maxSecs * 1e6 && stat.count < MAX_RUNS_PER_PHASE) {
    if (io.signal.aborted) throw new Error('benchmark interrupted');
    const byCount = Math.max(0, minRuns - stat.count);
    const byTime = stat.count > 0 && elapsedUs < minSecs * 1e6 ? Math.ceil((minSecs * 1e6 - elapsedUs) / stat.avg) : 0;
    const runs = Math.min(Math.max(byCount, byTime, 1), MAX_RUNS_PER_PHASE - stat.count);
    for (const timeUs of await execute(runs)) {
      stat.update(Math.round(timeUs));
      elapsedUs += timeUs;
    }
  }
  log(`INFO: ${stat.toString()}\n`);
  return stat;
}

/** tsl::Stat<int64_t>: integer samples, double average, integer (truncated) population std. */
class Stat {
  count = 0;
  first = 0;
  newest = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private sum = 0;
  private squaredSum = 0;

  update(value: number): void {
    if (this.count === 0) this.first = value;
    this.newest = value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    this.sum += value;
    this.squaredSum += value * value;
    this.count++;
  }

  get avg(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  private get allSame(): boolean {
    return this.count === 0 || this.min === this.max;
  }

  get std(): number {
    return this.allSame ? 0 : Math.trunc(Math.sqrt(Math.max(0, this.squaredSum / this.count - this.avg * this.avg)));
  }

  toString(): string {
    if (this.count === 0) return 'count=0';
    if (this.allSame) return `count=${this.count} curr=${this.newest}${this.count > 1 ? '(all same)' : ''}`;
    return (
      `count=${this.count} first=${this.first} curr=${this.newest} min=${this.min} max=${this.max} ` +
      `avg=${formatCppDouble(this.avg)} std=${this.std}`
    );
  }
}

function garbageFor(model: Uint8Array): string {
  const digest = createHash('sha256').update(model).digest('base64');
  return `Segmentation fault\n\u0000\u0001${digest}\ncount=?? avg=NaNus\n`;
}

/**
 * Creates the delegate the flags ask for and prints what the real tool prints (tensorflow/lite/tools/delegates):
 * "Created TensorFlow Lite ... delegate for ..." and, once the graph is prepared, "Explicitly applied ...". A GPU
 * the phone lacks fails the run; an NNAPI without drivers falls back to the CPU with a warning, as the real tool
 * does. Returns the kernels the model runs on, or undefined when the run fails.
 */
function applyDelegate(
  switches: Partial<Record<(typeof BOOLEAN_FLAGS)[number], boolean>>,
  available: { gpu: boolean; nnapi: boolean },
  log: (line: string) => void,
): EmulatedDelegate | undefined {
  const applied = (name: string): void => log(`INFO: Explicitly applied ${name} delegate, and the model graph will be completely executed by the delegate.`);
  if (switches.use_gpu) {
    if (!available.gpu) {
      log('ERROR: Failed to create GPU delegate: no OpenCL or OpenGL ES 3.1 device');
      log('ERROR: Failed to apply GPU delegate.');
      log('ERROR: Benchmarking failed.');
      return undefined;
    }
    log('INFO: Created TensorFlow Lite delegate for GPU.');
    applied('GPU');
    return 'gpu';
  }
  if (switches.use_nnapi) {
    if (available.nnapi) {
      log('INFO: Created TensorFlow Lite delegate for NNAPI.');
      applied('NNAPI');
      return 'nnapi';
    }
    log('WARN: NNAPI acceleration is unsupported on this platform.');
  }
  // Recent tools apply XNNPACK by default unless --use_xnnpack=false.
  if (switches.use_xnnpack !== false && !(switches.use_nnapi && available.nnapi)) {
    log('INFO: Created TensorFlow Lite XNNPACK delegate for CPU.');
    applied('XNNPACK');
    return 'xnnpack';
  }
  return 'cpu';
}
