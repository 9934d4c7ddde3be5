/**
 * BenchmarkRunner: measures the latency of many .tflite models on a phone with TFLite's benchmark_model.
 * Models are pushed once (named by content hash, skipped when already there), then run in one shell
 * session per batch (a device-side for loop with begin/end delimiters), or one session per model for
 * comparison. Per-model failures are reported without losing the other models' results.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FileFormatError, UserError, ValidationError } from '../../../core/errors.ts';
import type { DeviceBridge, PushItem, RemoteEntry, RemoteFileStat } from '../device/bridge.ts';
import { DeviceDisconnectedError } from '../device/errors.ts';
import { readDeviceFingerprint, BENCHMARK_TOOL_PATH } from '../device/fingerprint.ts';
import { normalizeCpuMask } from '../device/cpu-mask.ts';
import { buildBatchScript, buildSingleCommand, modelFileName, SectionSplitter } from './batch-script.ts';
import type { BenchmarkInvocation, Section } from './batch-script.ts';
import { BenchmarkOutputError, parseBenchmarkOutput } from './parse.ts';
import type { BenchmarkMeasurement } from './parse.ts';
import { median, relativeStd } from '../../../core/stats.ts';

export const MODEL_DIR = '/data/local/tmp/netadapt';
export const TOOL_DOWNLOAD_HINT =
  "download TensorFlow Lite's prebuilt nightly benchmark_model for android_aarch64 " +
  '(linked from the TensorFlow Lite performance measurement docs, https://www.tensorflow.org/lite/performance/measurement)';

export interface ModelToMeasure {
  key: string;
  bytes?: Uint8Array;
  localPath?: string;
}

export interface MeasureOptions {
  threads?: number;
  /** Hex taskset mask; default: the device's fastest cluster (read once per serial from its fingerprint). */
  cpuMask?: string;
  warmupRuns?: number;
  numRuns?: number;
  /** Device-side sleep after each model run, to let the SoC cool down. */
  cooldownMs?: number;
  /** Times each model is benchmarked (interleaved across models); the latency is the median. */
  repeats?: number;
  /** Flag a result as unstable above this relative standard deviation (default 0.1). */
  maxRelativeStd?: number;
  /** Longest shell session, in characters (old devices accept 4 KiB service names). */
  maxScriptLength?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ModelLatency {
  key: string;
  sha256: string;
  /** Median over repeats of each repeat's average inference time, in microseconds. */
  latencyUs: number;
  /** Average inference time of each successful repeat. */
  repeatsUs: number[];
  /** Relative std across repeats. */
  repeatRelativeStd: number;
  /** Median over repeats of benchmark_model's own std/avg. */
  runRelativeStd: number;
  /** True when either relative std exceeds maxRelativeStd. */
  unstable: boolean;
  failedRepeats: number;
  measurements: BenchmarkMeasurement[];
}

export type FailureReason = 'bad-output' | 'exit-status' | 'disconnected';

export interface ModelFailure {
  key: string;
  reason: FailureReason;
  message: string;
  exitCode?: number;
  /** The tail of what the device printed for this model. */
  output?: string;
}

export interface ProgressEvent {
  key: string;
  repeat: number;
  /** Model runs finished so far (all keys, all repeats) and how many there are. */
  completed: number;
  total: number;
  measurement?: BenchmarkMeasurement;
  failure?: ModelFailure;
}

export interface BatchResult {
  results: ModelLatency[];
  failures: ModelFailure[];
  /** Shell sessions used for the benchmark runs. */
  shellSessions: number;
  cpuMask: string;
}

export interface ToolStatus {
  path: string;
  installed: boolean;
  executable: boolean;
  size?: number;
}

/** benchmark_model is missing or not executable on the device. */
export class BenchmarkToolMissingError extends UserError {}

/** The device disconnected mid-batch; `partial` holds every model that finished before. */
export class BatchInterruptedError extends DeviceDisconnectedError {
  constructor(
    message: string,
    readonly partial: BatchResult,
    partialOutput: string,
  ) {
    super(message, partialOutput, [
      `${partial.results.length} model(s) finished before the disconnect and are kept`,
      'reconnect the phone and run again: finished models need not be measured again',
    ]);
  }
}

interface PreparedModel {
  key: string;
  sha256: string;
  token: string;
  bytes: Buffer;
}

const TOKEN_LENGTH = 32;
const DEFAULT_MAX_SCRIPT_LENGTH = 3500;
const OUTPUT_TAIL_LINES = 12;

export class BenchmarkRunner {
  private readonly defaultMasks = new Map<string, string>();

  constructor(
    private readonly bridge: DeviceBridge,
    private readonly toolPath = BENCHMARK_TOOL_PATH,
    private readonly modelDir = MODEL_DIR,
  ) {}

  async checkTool(serial: string): Promise<ToolStatus> {
    return this.toolStatus(await this.bridge.stat(serial, this.toolPath));
  }

  private toolStatus(stat: RemoteFileStat | undefined): ToolStatus {
    if (!stat || stat.isDirectory) return { path: this.toolPath, installed: false, executable: false };
    return { path: this.toolPath, installed: true, executable: (stat.permissions & 0o111) !== 0, size: stat.size };
  }

  /** Throws BenchmarkToolMissingError, explaining how to install the tool, unless it is ready. */
  async requireTool(serial: string): Promise<void> {
    this.assertToolReady(serial, await this.checkTool(serial));
  }

  private assertToolReady(serial: string, status: ToolStatus): void {
    if (status.installed && status.executable) return;
    const problem = status.installed ? 'is not executable' : 'is not installed';
    throw new BenchmarkToolMissingError(
      `benchmark_model ${problem} on ${serial} (${this.toolPath}); install it with: netadapt device setup --serial ${serial} --benchmark-binary PATH`,
      [TOOL_DOWNLOAD_HINT, `then run: netadapt device setup --serial ${serial} --benchmark-binary PATH`],
    );
  }

  /** Push a local benchmark_model binary with mode 0755; returns its sha256. */
  async installTool(serial: string, localPath: string): Promise<string> {
    let bytes: Buffer;
    try {
      bytes = await readFile(localPath);
    } catch (error) {
      throw new FileFormatError(`cannot read the benchmark binary ${localPath}: ${(error as Error).message}`, [TOOL_DOWNLOAD_HINT]);
    }
    if (bytes.length < 4 || bytes.readUInt32BE(0) !== 0x7f454c46) {
      throw new FileFormatError(`${localPath} is not an Android executable (no ELF header)`, [TOOL_DOWNLOAD_HINT]);
    }
    await this.bridge.push(serial, bytes, this.toolPath, 0o755);
    const status = await this.checkTool(serial);
    if (!status.executable || status.size !== bytes.length) {
      throw new BenchmarkToolMissingError(`benchmark_model was pushed to ${serial} but is not an executable of the expected size`);
    }
    return createHash('sha256').update(bytes).digest('hex');
  }

  /** Benchmark all models in as few shell sessions as the script length allows. */
  async measureBatch(serial: string, models: readonly ModelToMeasure[], options: MeasureOptions = {}): Promise<BatchResult> {
    const { prepared, invocation, repeats } = await this.prepare(serial, models, options);
    const order = interleave(prepared, repeats);
    const sessions = splitIntoSessions(order, invocation, options.maxScriptLength ?? DEFAULT_MAX_SCRIPT_LENGTH);
    const collector = new ResultCollector(prepared, repeats, options);
    let shellSessions = 0;
    for (const tokens of sessions) {
      const splitter = new SectionSplitter((section) => collector.section(section));
      shellSessions++;
      try {
        await this.bridge.shell(serial, buildBatchScript(tokens, invocation), {
          timeoutMs: sessionTimeout(tokens.length, invocation),
          onOutputLine: (line) => splitter.line(line),
        });
      } catch (error) {
        if (!(error instanceof DeviceDisconnectedError)) throw error;
        const unfinished = splitter.unfinished;
        collector.disconnected(unfinished?.token, unfinished?.output);
        const partial = collector.result(shellSessions, invocation.cpuMask ?? '', true);
        throw new BatchInterruptedError(
          `device ${serial} disconnected during the benchmark batch after ${collector.completed} of ${collector.total} model runs`,
          partial,
          error.partialOutput,
        );
      }
      collector.sessionEnded(tokens, splitter.completedSections, splitter.strayLines);
    }
    return collector.result(shellSessions, invocation.cpuMask ?? '');
  }

  /**
   * The same measurements the way a tool without batching does them, for comparison: after one check that
   * the tool is there, every model run is one push (its own sync connection, no "is it there already?"
   * check) and one shell session.
   */
  async measureOneByOne(serial: string, models: readonly ModelToMeasure[], options: MeasureOptions = {}): Promise<BatchResult> {
    const { prepared, invocation, repeats } = await this.prepare(serial, models, options, { push: false });
    const byToken = new Map(prepared.map((model) => [model.token, model]));
    const collector = new ResultCollector(prepared, repeats, options);
    let shellSessions = 0;
    for (const token of interleave(prepared, repeats)) {
      shellSessions++;
      let stdout: string;
      let exitCode: number;
      try {
        const bytes = byToken.get(token)?.bytes ?? Buffer.alloc(0);
        await this.bridge.push(serial, bytes, `${this.modelDir}/${modelFileName(token)}`, 0o644);
        ({ stdout, exitCode } = await this.bridge.shell(serial, buildSingleCommand(token, invocation), {
          timeoutMs: sessionTimeout(1, invocation),
        }));
      } catch (error) {
        if (!(error instanceof DeviceDisconnectedError)) throw error;
        collector.disconnected(token, error.partialOutput);
        throw new BatchInterruptedError(
          `device ${serial} disconnected after ${collector.completed} of ${collector.total} model runs`,
          collector.result(shellSessions, invocation.cpuMask ?? '', true),
          error.partialOutput,
        );
      }
      collector.section({ token, index: collector.completed, output: stdout, exitCode });
    }
    return collector.result(shellSessions, invocation.cpuMask ?? '');
  }

  private async prepare(
    serial: string,
    models: readonly ModelToMeasure[],
    options: MeasureOptions,
    how: { push: boolean } = { push: true },
  ): Promise<{ prepared: PreparedModel[]; invocation: BenchmarkInvocation; repeats: number }> {
    const repeats = options.repeats ?? 1;
    if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) throw new ValidationError(`repeats must be 1..100, got ${repeats}`);
    const threads = options.threads ?? 1;
    const prepared = await loadModels(models);
    const invocation: BenchmarkInvocation = {
      toolPath: this.toolPath,
      modelDir: this.modelDir,
      threads,
      cpuMask: options.cpuMask === undefined ? undefined : normalizeCpuMask(options.cpuMask),
      warmupRuns: options.warmupRuns ?? 5,
      numRuns: options.numRuns ?? 30,
      cooldownMs: options.cooldownMs ?? 0,
    };
    // Validate the invocation before touching the device.
    if (prepared.length > 0) buildSingleCommand(prepared[0]?.token ?? '', invocation);
    // One sync connection checks the tool, lists the models already there and pushes the missing ones.
    await this.bridge.withSync(serial, async (sync) => {
      this.assertToolReady(serial, this.toolStatus(await sync.stat(this.toolPath)));
      if (how.push) await sync.pushAll(this.missingModels(prepared, await sync.list(this.modelDir)));
    });
    invocation.cpuMask ??= await this.defaultMask(serial, threads);
    return { prepared, invocation, repeats };
  }

  private async defaultMask(serial: string, threads: number): Promise<string> {
    const cacheKey = `${serial}/${threads}`;
    let mask = this.defaultMasks.get(cacheKey);
    if (mask === undefined) {
      mask = (await readDeviceFingerprint(this.bridge, serial, { threads })).cpuMask;
      this.defaultMasks.set(cacheKey, mask);
    }
    return mask;
  }

  /** The models the device does not have yet (same content-hash name and size = already there), as pushes. */
  private missingModels(models: readonly PreparedModel[], onDevice: readonly RemoteEntry[]): PushItem[] {
    const present = new Map(onDevice.map((entry) => [entry.name, entry.size]));
    const unique = new Map(models.map((model) => [model.token, model]));
    return [...unique.values()]
      .filter((model) => present.get(modelFileName(model.token)) !== model.bytes.length)
      .map((model) => ({ source: model.bytes, remotePath: `${this.modelDir}/${modelFileName(model.token)}`, mode: 0o644 }));
  }
}

async function loadModels(models: readonly ModelToMeasure[]): Promise<PreparedModel[]> {
  const seen = new Set<string>();
  const prepared: PreparedModel[] = [];
  for (const model of models) {
    if (typeof model.key !== 'string' || model.key === '') throw new ValidationError('every model needs a non-empty key');
    if (seen.has(model.key)) throw new ValidationError(`duplicate model key ${JSON.stringify(model.key)}`);
    seen.add(model.key);
    let bytes: Buffer;
    if (model.bytes !== undefined) bytes = Buffer.from(model.bytes);
    else if (model.localPath !== undefined) {
      try {
        bytes = await readFile(model.localPath);
      } catch (error) {
        throw new FileFormatError(`cannot read model ${model.key} from ${model.localPath}: ${(error as Error).message}`);
      }
    } else throw new ValidationError(`model ${JSON.stringify(model.key)} has neither bytes nor localPath`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    prepared.push({ key: model.key, sha256, token: sha256.slice(0, TOKEN_LENGTH), bytes });
  }
  return prepared;
}

/** Each distinct model file once per repeat, repeats interleaved (a b c a b c) so drift hits all models alike. */
function interleave(models: readonly PreparedModel[], repeats: number): string[] {
  const tokens = [...new Set(models.map((model) => model.token))];
  const order: string[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) order.push(...tokens);
  return order;
}

function splitIntoSessions(order: readonly string[], invocation: BenchmarkInvocation, maxLength: number): string[][] {
  const sessions: string[][] = [];
  let current: string[] = [];
  for (const token of order) {
    const candidate = [...current, token];
    if (current.length > 0 && buildBatchScript(candidate, invocation).length > maxLength) {
      sessions.push(current);
      current = [token];
    } else current = candidate;
  }
  if (current.length > 0) sessions.push(current);
  return sessions;
}

function sessionTimeout(runs: number, invocation: BenchmarkInvocation): number {
  // Generous: a large model can take seconds per inference on a slow core.
  return 60_000 + runs * (30_000 + (invocation.warmupRuns + invocation.numRuns) * 2_000 + invocation.cooldownMs);
}

function tail(output: string): string {
  return output.split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}

/** Gathers per-section outcomes into per-key results. */
class ResultCollector {
  private readonly byToken = new Map<string, PreparedModel[]>();
  private readonly measurements = new Map<string, BenchmarkMeasurement[]>();
  private readonly failuresByToken = new Map<string, ModelFailure[]>();
  private readonly repeatIndex = new Map<string, number>();
  completed = 0;
  readonly total: number;

  constructor(
    private readonly models: readonly PreparedModel[],
    private readonly repeats: number,
    private readonly options: MeasureOptions,
  ) {
    for (const model of models) this.byToken.set(model.token, [...(this.byToken.get(model.token) ?? []), model]);
    this.total = this.byToken.size * repeats;
  }

  section(section: Section): void {
    const keys = this.byToken.get(section.token);
    if (!keys) return;
    const repeat = this.repeatIndex.get(section.token) ?? 0;
    this.repeatIndex.set(section.token, repeat + 1);
    this.completed++;
    let measurement: BenchmarkMeasurement | undefined;
    let failure: Omit<ModelFailure, 'key'> | undefined;
    if (section.exitCode !== 0) {
      const errorLine = section.output.split('\n').find((line) => /ERROR|not found|Permission denied/.test(line));
      failure = {
        reason: 'exit-status',
        exitCode: section.exitCode,
        message: `benchmark_model exited with status ${section.exitCode}${errorLine ? `: ${errorLine.trim()}` : ''}`,
        output: tail(section.output),
      };
    } else {
      try {
        measurement = parseBenchmarkOutput(section.output);
      } catch (error) {
        if (!(error instanceof BenchmarkOutputError)) throw error;
        failure = { reason: 'bad-output', message: error.message, output: tail(section.output) };
      }
    }
    if (measurement) this.measurements.set(section.token, [...(this.measurements.get(section.token) ?? []), measurement]);
    if (failure) this.failuresByToken.set(section.token, [...(this.failuresByToken.get(section.token) ?? []), ...keys.map((m) => ({ ...failure, key: m.key }))]);
    for (const model of keys) {
      this.options.onProgress?.({
        key: model.key,
        repeat,
        completed: this.completed,
        total: this.total,
        ...(measurement ? { measurement } : {}),
        ...(failure ? { failure: { ...failure, key: model.key } } : {}),
      });
    }
  }

  /** Sections the script should have printed but did not (e.g. the loop was cut short). */
  sessionEnded(tokens: readonly string[], completedSections: number, strayLines: readonly string[]): void {
    for (const token of tokens.slice(completedSections)) {
      this.section({ token, index: -1, output: strayLines.join('\n'), exitCode: 255 });
    }
  }

  disconnected(token: string | undefined, output: string | undefined): void {
    if (token === undefined) return;
    const keys = this.byToken.get(token) ?? [];
    this.failuresByToken.set(token, [
      ...(this.failuresByToken.get(token) ?? []),
      ...keys.map((model) => ({
        key: model.key,
        reason: 'disconnected' as const,
        message: 'the device disconnected while this model was running',
        ...(output ? { output: tail(output) } : {}),
      })),
    ]);
  }

  /** With `interrupted`, models that never ran are reported as 'disconnected' failures. */
  result(shellSessions: number, cpuMask: string, interrupted = false): BatchResult {
    const maxRelativeStd = this.options.maxRelativeStd ?? 0.1;
    const results: ModelLatency[] = [];
    const failures: ModelFailure[] = [];
    for (const model of this.models) {
      const measured = this.measurements.get(model.token) ?? [];
      const failed = (this.failuresByToken.get(model.token) ?? []).filter((failure) => failure.key === model.key);
      if (measured.length === 0) {
        if (failed[0]) failures.push(failed[0]);
        else if (interrupted) {
          failures.push({ key: model.key, reason: 'disconnected', message: 'not measured: the device disconnected before this model ran' });
        }
        continue;
      }
      const repeatsUs = measured.map((m) => m.avgUs);
      const repeatRelativeStd = relativeStd(repeatsUs);
      const runRelativeStd = median(measured.map((m) => (m.avgUs > 0 ? m.stdUs / m.avgUs : 0)));
      results.push({
        key: model.key,
        sha256: model.sha256,
        latencyUs: median(repeatsUs),
        repeatsUs,
        repeatRelativeStd,
        runRelativeStd,
        unstable: repeatRelativeStd > maxRelativeStd || runRelativeStd > maxRelativeStd,
        failedRepeats: failed.length,
        measurements: measured,
      });
    }
    return { results, failures, shellSessions, cpuMask };
  }
}
