/**
 * BenchmarkRunner: measures the latency of many .tflite models on a phone with TFLite's benchmark_model.
 * Models are pushed once (named by content hash, skipped when already there), then run in one shell session per
 * batch (a device-side for loop with begin/end markers, see batch-script.ts), or one session per model for
 * comparison. Every model run has its own time limit (time-limits.ts): a run over it is closed, its leftover
 * process killed and the model failed alone, and the batch goes on; a phone that stops answering altogether is
 * reported as frozen. Every model of a batch comes back measured, failed (with the reason) or not run.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FileFormatError, UserError, ValidationError } from '../../../core/errors.ts';
import type { DeviceBridge, PushItem, RemoteEntry, RemoteFileStat } from '../device/bridge.ts';
import { DeviceDisconnectedError, DeviceTimeoutError } from '../device/errors.ts';
import { readDeviceFingerprint, BENCHMARK_TOOL_PATH } from '../device/fingerprint.ts';
import { normalizeCpuMask } from '../device/cpu-mask.ts';
import { buildBatchScript, buildSingleCommand, killModelCommand, modelFileName, modelPath } from './batch-script.ts';
import type { BenchmarkInvocation } from './batch-script.ts';
import { interleave, loadModels, takeSession, withoutDone } from './batch-plan.ts';
import type { ModelToMeasure } from './batch-plan.ts';
import type { Delegate } from './delegates.ts';
import { ResultCollector } from './result-collector.ts';
import type { BatchResult, PreparedModel, ProgressEvent } from './result-collector.ts';
import { TimeLimits } from './time-limits.ts';
import { runWatchedSession } from './watched-session.ts';
import type { WaitingEvent } from './watched-session.ts';

export type { ModelToMeasure } from './batch-plan.ts';
export type { BatchResult, FailureReason, ModelFailure, ModelLatency, ProgressEvent } from './result-collector.ts';
export type { WaitingEvent } from './watched-session.ts';

export const MODEL_DIR = '/data/local/tmp/netadapt';
export const TOOL_DOWNLOAD_HINT =
  "download TensorFlow Lite's prebuilt nightly benchmark_model for android_aarch64 " +
  '(linked from the TensorFlow Lite performance measurement docs, https://www.tensorflow.org/lite/performance/measurement)';

export interface MeasureOptions {
  threads?: number;
  /** Hex taskset mask; default: the device's fastest cluster (read once per serial from its fingerprint). */
  cpuMask?: string;
  delegate?: Delegate;
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
  /** A fixed time limit per model run (ms) instead of one derived from its cost. */
  modelTimeoutMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Called every few seconds while a model run takes long, with the keys of that model. */
  onWaiting?: (event: WaitingEvent & { keys: string[] }) => void;
}

export interface ToolStatus {
  path: string;
  installed: boolean;
  executable: boolean;
  size?: number;
}

/** benchmark_model is missing or not executable on the device. */
export class BenchmarkToolMissingError extends UserError {}

/** The device was lost mid-batch (disconnected, or frozen); `partial` holds every model that finished before. */
export class BatchInterruptedError extends DeviceDisconnectedError {
  constructor(
    message: string,
    readonly partial: BatchResult,
    partialOutput: string,
    readonly frozen = false,
  ) {
    super(message, partialOutput, [
      `${partial.results.length} model(s) finished before and are kept`,
      'reconnect the phone and run again: finished models need not be measured again',
    ]);
  }
}

const DEFAULT_MAX_SCRIPT_LENGTH = 3500;
/** Silence allowed outside a model run: starting the shell, the end marker, the cool-down between runs. */
const GAP_LIMIT_MS = 15_000;
/** A trivial command on a phone that is alive answers well within this. */
const PROBE_TIMEOUT_MS = 10_000;
/** A session that goes silent between runs of a responsive phone is retried this many times. */
const STALL_RETRIES = 1;

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
    const limits = new TimeLimits(invocation, options.modelTimeoutMs === undefined ? {} : { fixedMs: options.modelTimeoutMs });
    const collector = this.collector(prepared, repeats, invocation, limits, options);
    const queue = interleave(prepared, repeats);
    const maxLength = options.maxScriptLength ?? DEFAULT_MAX_SCRIPT_LENGTH;
    let shellSessions = 0;
    let stalls = 0;
    const interrupted = (message: string, output: string, frozen = false): BatchInterruptedError =>
      new BatchInterruptedError(message, collector.result(shellSessions, invocation.cpuMask ?? ''), output, frozen);
    while (queue.length > 0) {
      const tokens = takeSession(queue, invocation, maxLength);
      const done: string[] = [];
      shellSessions++;
      const outcome = await runWatchedSession(this.bridge, serial, buildBatchScript(tokens, invocation), {
        limitMs: (token) => limits.limitMs(token, collector.macsOf(token)),
        gapLimitMs: GAP_LIMIT_MS + invocation.cooldownMs,
        onSection: (section) => {
          done.push(section.token);
          collector.section(section);
        },
        onWaiting: (event) => options.onWaiting?.({ ...event, keys: collector.keysOf(event.token) }),
      });
      const left = withoutDone(tokens, done);
      if (outcome.kind === 'completed') {
        for (const token of left) collector.failRun(token, 'not-reported', 'the batch script ended without a result for this model', outcome.strayOutput);
        continue;
      }
      if (outcome.kind === 'disconnected') {
        throw interrupted(`device ${serial} disconnected during the benchmark batch after ${collector.completed} of ${collector.total} model runs`, outcome.error.partialOutput);
      }
      const silentSec = Math.round((outcome.kind === 'model-timeout' ? outcome.elapsedMs : outcome.silentMs) / 1000);
      if (!(await this.responsive(serial))) {
        throw interrupted(
          `device ${serial} stopped answering: no output for ${silentSec} s and no answer to a test command within ${PROBE_TIMEOUT_MS / 1000} s ` +
            `(frozen?) after ${collector.completed} of ${collector.total} model runs`,
          outcome.kind === 'model-timeout' ? outcome.output : '',
          true,
        );
      }
      if (outcome.kind === 'model-timeout') {
        await this.killLeftover(serial, invocation, outcome.token);
        collector.failRun(
          outcome.token,
          'timeout',
          `benchmark_model gave no result within its time limit of ${Math.round(outcome.limitMs / 1000)} s (the phone still answers: the model hangs); ` +
            'set a longer limit with --model-timeout if the model is just slow',
          outcome.output,
        );
        queue.unshift(...withoutDone(left, [outcome.token]));
      } else if (++stalls <= STALL_RETRIES) queue.unshift(...left);
      else for (const token of left) collector.failRun(token, 'not-reported', `the batch script went silent for ${silentSec} s before running this model`);
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
    const limits = new TimeLimits(invocation, options.modelTimeoutMs === undefined ? {} : { fixedMs: options.modelTimeoutMs });
    const byToken = new Map(prepared.map((model) => [model.token, model]));
    const collector = this.collector(prepared, repeats, invocation, limits, options);
    let shellSessions = 0;
    for (const token of interleave(prepared, repeats)) {
      shellSessions++;
      let stdout: string;
      let exitCode: number;
      try {
        const bytes = byToken.get(token)?.bytes ?? Buffer.alloc(0);
        await this.bridge.push(serial, bytes, modelPath(invocation, token), 0o644);
        ({ stdout, exitCode } = await this.bridge.shell(serial, buildSingleCommand(token, invocation), {
          timeoutMs: limits.limitMs(token, collector.macsOf(token)) + GAP_LIMIT_MS,
        }));
      } catch (error) {
        if (error instanceof DeviceTimeoutError) {
          collector.failRun(token, 'timeout', 'benchmark_model gave no result within its time limit', error.partialOutput);
          continue;
        }
        if (!(error instanceof DeviceDisconnectedError)) throw error;
        throw new BatchInterruptedError(
          `device ${serial} disconnected after ${collector.completed} of ${collector.total} model runs`,
          collector.result(shellSessions, invocation.cpuMask ?? ''),
          error.partialOutput,
        );
      }
      collector.section({ token, index: collector.completed, output: stdout.replace(/\n$/, ''), exitCode, cutOff: stdout !== '' && !stdout.endsWith('\n') });
    }
    return collector.result(shellSessions, invocation.cpuMask ?? '');
  }

  private collector(prepared: PreparedModel[], repeats: number, invocation: BenchmarkInvocation, limits: TimeLimits, options: MeasureOptions): ResultCollector {
    return new ResultCollector(
      prepared,
      repeats,
      { numRuns: invocation.numRuns, warmupRuns: invocation.warmupRuns, delegate: invocation.delegate, graphOf: (token) => modelPath(invocation, token) },
      limits,
      {
        ...(options.maxRelativeStd !== undefined ? { maxRelativeStd: options.maxRelativeStd } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
  }

  /** Whether the phone still runs a trivial command (a hung model) or not (a frozen phone). */
  private async responsive(serial: string): Promise<boolean> {
    try {
      const { stdout } = await this.bridge.shell(serial, 'echo __NETADAPT_ALIVE__', { timeoutMs: PROBE_TIMEOUT_MS });
      return stdout.includes('__NETADAPT_ALIVE__');
    } catch (error) {
      if (error instanceof DeviceTimeoutError) return false;
      throw error;
    }
  }

  /** A hung benchmark_model may outlive its closed session (and keep a core busy): end it. */
  private async killLeftover(serial: string, invocation: BenchmarkInvocation, token: string): Promise<void> {
    try {
      await this.bridge.shell(serial, killModelCommand(invocation, token), { timeoutMs: PROBE_TIMEOUT_MS });
    } catch (error) {
      if (!(error instanceof DeviceTimeoutError)) throw error;
    }
  }

  private async prepare(
    serial: string,
    models: readonly ModelToMeasure[],
    options: MeasureOptions,
    how: { push: boolean } = { push: true },
  ): Promise<{ prepared: PreparedModel[]; invocation: BenchmarkInvocation; repeats: number }> {
    const repeats = options.repeats ?? 1;
    if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) throw new ValidationError(`repeats must be 1..100, got ${repeats}`);
    const timeout = options.modelTimeoutMs;
    if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 1000)) throw new ValidationError(`the model time limit must be at least 1 s, got ${timeout} ms`);
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
      delegate: options.delegate ?? 'xnnpack',
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
      .map((model) => ({ source: model.bytes, remotePath: modelPath({ modelDir: this.modelDir }, model.token), mode: 0o644 }));
  }
}
