/**
 * Gathers the outcome of every model run of a batch into per-model results, and accounts for every model: each
 * one ends up measured, failed (with the reason) or not run (the device went away first) — never lost.
 *
 * A run's output is accepted only when it is complete and is the run that was asked for: it must end with a
 * newline (else the process was killed mid-write), exit with status 0, parse, report the timed-run count that
 * was requested (--num_runs), name the model file that was sent (its `Graph:` line) and show the requested
 * delegate at work.
 */
import { median, relativeStd } from '../../../core/stats.ts';
import type { Section } from './batch-script.ts';
import { checkDelegate } from './delegates.ts';
import type { Delegate } from './delegates.ts';
import { BenchmarkOutputError, parseBenchmarkOutput } from './parse.ts';
import type { BenchmarkMeasurement } from './parse.ts';
import type { TimeLimits } from './time-limits.ts';

export type FailureReason = 'bad-output' | 'exit-status' | 'cut-off' | 'timeout' | 'wrong-model' | 'delegate' | 'not-reported';

export interface ModelFailure {
  key: string;
  reason: FailureReason;
  message: string;
  exitCode?: number;
  /** The tail of what the device printed for this model. */
  output?: string;
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
  /** e.g. 'partially-delegated'. */
  flags: string[];
}

export interface ProgressEvent {
  key: string;
  repeat: number;
  /** Model runs finished so far (all keys, all repeats) and how many there are. */
  completed: number;
  total: number;
  measurement?: BenchmarkMeasurement;
  /** Flags of this run's measurement (delegate coverage). */
  flags?: string[];
  failure?: ModelFailure;
}

export interface BatchResult {
  results: ModelLatency[];
  failures: ModelFailure[];
  /** Keys of the models that never ran (the device was lost first); neither measured nor failed. */
  notRun: string[];
  /** Shell sessions used for the benchmark runs. */
  shellSessions: number;
  cpuMask: string;
}

export interface PreparedModel {
  key: string;
  sha256: string;
  token: string;
  bytes: Buffer;
  macs?: number;
}

export interface CollectorOptions {
  maxRelativeStd?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RunExpectations {
  numRuns: number;
  warmupRuns: number;
  delegate: Delegate;
  /** The path the tool was given for a model (what its Graph: line must say). */
  graphOf(token: string): string;
}

const OUTPUT_TAIL_LINES = 12;

export function tail(output: string): string {
  return output.split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}

export class ResultCollector {
  private readonly byToken = new Map<string, PreparedModel[]>();
  private readonly measurements = new Map<string, BenchmarkMeasurement[]>();
  private readonly flags = new Map<string, Set<string>>();
  private readonly failuresByToken = new Map<string, Omit<ModelFailure, 'key'>[]>();
  private readonly repeatIndex = new Map<string, number>();
  completed = 0;
  readonly total: number;

  constructor(
    private readonly models: readonly PreparedModel[],
    repeats: number,
    private readonly expectations: RunExpectations,
    private readonly limits: TimeLimits,
    private readonly options: CollectorOptions,
  ) {
    for (const model of models) this.byToken.set(model.token, [...(this.byToken.get(model.token) ?? []), model]);
    this.total = this.byToken.size * repeats;
  }

  macsOf(token: string): number | undefined {
    return this.byToken.get(token)?.[0]?.macs;
  }

  keysOf(token: string): string[] {
    return (this.byToken.get(token) ?? []).map((m) => m.key);
  }

  /** One finished model run, judged by its output. */
  section(section: Section): void {
    if (!this.byToken.has(section.token)) return;
    const judged = this.judge(section);
    if ('failure' in judged) this.record(section.token, undefined, judged.failure, []);
    else this.record(section.token, judged.measurement, undefined, judged.flags);
  }

  /** A model run that produced no section of its own (it hung, or the script never reached it). */
  failRun(token: string, reason: FailureReason, message: string, output?: string): void {
    if (!this.byToken.has(token)) return;
    this.record(token, undefined, { reason, message, ...(output ? { output: tail(output) } : {}) }, []);
  }

  private judge(section: Section): { measurement: BenchmarkMeasurement; flags: string[] } | { failure: Omit<ModelFailure, 'key'> } {
    const output = tail(section.output);
    const fail = (reason: FailureReason, message: string) => ({ failure: { reason, message, output, ...(section.exitCode !== 0 ? { exitCode: section.exitCode } : {}) } });
    if (section.cutOff) {
      return fail('cut-off', `benchmark_model's output ended in the middle of a line (the process was killed while writing, exit status ${section.exitCode}); the output is incomplete`);
    }
    if (section.exitCode !== 0) {
      const errorLine = section.output.split('\n').find((line) => /ERROR|not found|Permission denied/.test(line));
      return fail('exit-status', `benchmark_model exited with status ${section.exitCode}${errorLine ? `: ${errorLine.trim()}` : ''}`);
    }
    let measurement: BenchmarkMeasurement;
    try {
      measurement = parseBenchmarkOutput(section.output);
    } catch (error) {
      if (!(error instanceof BenchmarkOutputError)) throw error;
      return fail('bad-output', error.message);
    }
    const { numRuns, warmupRuns, delegate } = this.expectations;
    if (measurement.count !== numRuns) {
      return fail('bad-output', `benchmark_model made ${measurement.count} timed runs, ${numRuns} were asked for (--num_runs; a run longer than the tool's --max_secs stops early)`);
    }
    if (warmupRuns > 0 && measurement.warmup !== undefined && measurement.warmup.count !== warmupRuns) {
      return fail('bad-output', `benchmark_model made ${measurement.warmup.count} warm-up runs, ${warmupRuns} were asked for (--warmup_runs)`);
    }
    const expectedGraph = this.expectations.graphOf(section.token);
    if (measurement.graph !== undefined && measurement.graph !== expectedGraph) {
      return fail('wrong-model', `benchmark_model measured ${measurement.graph}, not the model that was sent (${expectedGraph})`);
    }
    const check = checkDelegate(delegate, measurement.delegates, section.output);
    if (check.problem) return fail('delegate', check.problem);
    return { measurement, flags: check.flags };
  }

  private record(token: string, measurement: BenchmarkMeasurement | undefined, failure: Omit<ModelFailure, 'key'> | undefined, flags: string[]): void {
    const keys = this.byToken.get(token) ?? [];
    const repeat = this.repeatIndex.get(token) ?? 0;
    this.repeatIndex.set(token, repeat + 1);
    this.completed++;
    if (measurement) {
      this.measurements.set(token, [...(this.measurements.get(token) ?? []), measurement]);
      this.flags.set(token, new Set([...(this.flags.get(token) ?? []), ...flags]));
      this.limits.observe(token, keys[0]?.macs, measurement.avgUs);
    }
    if (failure) this.failuresByToken.set(token, [...(this.failuresByToken.get(token) ?? []), failure]);
    for (const model of keys) {
      this.options.onProgress?.({
        key: model.key,
        repeat,
        completed: this.completed,
        total: this.total,
        ...(measurement ? { measurement, flags } : {}),
        ...(failure ? { failure: { ...failure, key: model.key } } : {}),
      });
    }
  }

  result(shellSessions: number, cpuMask: string): BatchResult {
    const maxRelativeStd = this.options.maxRelativeStd ?? 0.1;
    const results: ModelLatency[] = [];
    const failures: ModelFailure[] = [];
    const notRun: string[] = [];
    for (const model of this.models) {
      const measured = this.measurements.get(model.token) ?? [];
      const failed = this.failuresByToken.get(model.token) ?? [];
      if (measured.length === 0) {
        if (failed[0]) failures.push({ ...failed[0], key: model.key });
        else notRun.push(model.key);
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
        flags: [...(this.flags.get(model.token) ?? [])].sort(),
      });
    }
    return { results, failures, notRun, shellSessions, cpuMask };
  }
}
