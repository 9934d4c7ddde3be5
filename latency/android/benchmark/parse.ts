/**
 * Parser for the log of TFLite's `benchmark_model` (tensorflow/lite/tools/benchmark/benchmark_model.cc).
 * The tool prints one "Running benchmark for at least …" header and one stats line
 * (tsl Stat::OutputToStream) per phase — first the warm-up runs, then the timed runs — and finally
 * "Inference timings in us: Init: …, First inference: …, Warmup (avg): …, Inference (avg): …".
 * Stats lines look like `count=50 first=1234 curr=1000 min=990 max=1300 avg=1010.5 std=20`,
 * `count=5 curr=1000(all same)`, `count=1 curr=1000` or `count=0`; `avg` is a C++ double and may be in
 * scientific notation; newer versions may append `p5=… median=… p95=…`.
 */
import { UserError } from '../../../core/errors.ts';

export interface BenchmarkStats {
  count: number;
  /** Absent only in the pre-2019 format, which did not print `first=`. */
  firstUs?: number;
  currUs: number;
  minUs: number;
  maxUs: number;
  avgUs: number;
  stdUs: number;
  p5?: number;
  median?: number;
  p95?: number;
}

export interface EmptyStats {
  count: 0;
}

/** A delegate the tool reported on: created (coverage unknown) or applied to all, part or none of the graph. */
export interface DelegateReport {
  /** As the tool names it: 'XNNPACK', 'GPU', 'NNAPI', ... */
  name: string;
  coverage: 'complete' | 'partial' | 'none' | 'unknown';
}

export interface BenchmarkMeasurement extends BenchmarkStats {
  /** The model path of the `Graph: [...]` parameter line, when the log has one. */
  graph?: string;
  /** Delegates the log reports (empty when it says nothing about them). */
  delegates: DelegateReport[];
  /** The warm-up phase's stats, when the output had them. */
  warmup?: BenchmarkStats | EmptyStats;
  initUs?: number;
  firstInferenceUs?: number;
  warmupAvgUs?: number;
  inferenceAvgUs?: number;
}

/** benchmark_model's output could not be understood; the message quotes the output's first lines. */
export class BenchmarkOutputError extends UserError {
  constructor(
    reason: string,
    readonly output: string,
  ) {
    const head = firstLines(output);
    super(
      `could not read benchmark_model output: ${reason}\n` +
        (head.length > 0 ? `output began with:\n${head.map((l) => `  | ${l}`).join('\n')}` : 'the output was empty'),
      head,
    );
  }
}

const QUOTED_HEAD_LINES = 6;
const QUOTED_TAIL_LINES = 4;
const QUOTED_LINE_LENGTH = 200;

/** The output's first lines, and its last lines when it is longer (where a crash usually shows). */
function firstLines(output: string): string[] {
  const lines = output.split(/\r\n|\r|\n/).filter((line) => line.trim() !== '');
  const quoted =
    lines.length <= QUOTED_HEAD_LINES + QUOTED_TAIL_LINES
      ? lines
      : [...lines.slice(0, QUOTED_HEAD_LINES), `… (${lines.length - QUOTED_HEAD_LINES - QUOTED_TAIL_LINES} more lines) …`, ...lines.slice(-QUOTED_TAIL_LINES)];
  return quoted.map((line) => {
    // Control characters would garble a terminal; show them escaped.
    const printable = [...line].map(escapeControl).join('');
    return printable.length > QUOTED_LINE_LENGTH ? `${printable.slice(0, QUOTED_LINE_LENGTH)}…` : printable;
  });
}

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  return (code < 0x20 && char !== '\t') || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : char;
}

const NUMBER = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?';
const STAT_KEYS = new Set(['count', 'first', 'curr', 'min', 'max', 'avg', 'std', 'p5', 'median', 'p95']);
const PHASE_HEADER = /Running benchmark for at least \d+ iterations/;
// An average over zero runs prints as nan.
const TIMING_VALUE = `(${NUMBER}|-?nan|-?inf)`;
const TIMINGS = new RegExp(
  `Inference timings in us: Init: ${TIMING_VALUE}, First inference: ${TIMING_VALUE}, Warmup \\(avg\\): ${TIMING_VALUE}, Inference \\(avg\\): ${TIMING_VALUE}`,
);

function parseNumber(text: string, key: string, line: string, output: string): number {
  if (!new RegExp(`^${NUMBER}$`).test(text)) {
    throw new BenchmarkOutputError(`"${key}=${text}" is not a number in line "${line.slice(0, 200)}"`, output);
  }
  return Number(text);
}

/** Parse one stats line (with or without an `INFO: ` prefix). */
export function parseStatLine(line: string, output = line): BenchmarkStats | EmptyStats {
  const start = line.search(/(^|\s)(count|curr)=/);
  if (start === -1) throw new BenchmarkOutputError('not a stats line', output);
  const values = new Map<string, number>();
  let allSame = false;
  const tokens = line.slice(start).replaceAll('(all same)', '(all_same)').trim().split(/\s+/);
  for (const token of tokens) {
    const match = /^([a-z0-9]+)=(.*)$/.exec(token);
    if (!match) throw new BenchmarkOutputError(`unexpected "${token.slice(0, 60)}" in stats line`, output);
    const [, key = '', rawValue = ''] = match;
    if (!STAT_KEYS.has(key)) continue;
    let value = rawValue;
    if (key === 'curr' && value.endsWith('(all_same)')) {
      allSame = true;
      value = value.slice(0, -'(all_same)'.length);
    }
    if (values.has(key)) throw new BenchmarkOutputError(`"${key}" appears twice in a stats line`, output);
    values.set(key, parseNumber(value, key, line, output));
  }
  const count = values.get('count');
  if (count === undefined || !Number.isInteger(count) || count < 0) {
    throw new BenchmarkOutputError('stats line without a valid count', output);
  }
  if (count === 0) return { count: 0 };
  const curr = values.get('curr');
  if (curr === undefined) throw new BenchmarkOutputError(`stats line without curr=: "${line.slice(0, 200)}"`, output);
  const hasSpread = values.has('min') || values.has('max') || values.has('avg') || values.has('std');
  let stats: BenchmarkStats;
  if (!hasSpread) {
    // Every run took the same time: the tool prints only count and curr.
    if (count > 1 && !allSame) throw new BenchmarkOutputError(`stats line without min/max/avg: "${line.slice(0, 200)}"`, output);
    stats = { count, firstUs: curr, currUs: curr, minUs: curr, maxUs: curr, avgUs: curr, stdUs: 0 };
  } else {
    const required = (key: string): number => {
      const value = values.get(key);
      if (value === undefined) throw new BenchmarkOutputError(`stats line without ${key}=: "${line.slice(0, 200)}"`, output);
      return value;
    };
    stats = {
      count,
      currUs: curr,
      minUs: required('min'),
      maxUs: required('max'),
      avgUs: required('avg'),
      stdUs: required('std'),
    };
    const first = values.get('first');
    if (first !== undefined) stats.firstUs = first;
  }
  for (const key of ['p5', 'median', 'p95'] as const) {
    const value = values.get(key);
    if (value !== undefined) stats[key] = value;
  }
  checkConsistent(stats, line, output);
  return stats;
}

function checkConsistent(stats: BenchmarkStats, line: string, output: string): void {
  const numbers = [stats.currUs, stats.minUs, stats.maxUs, stats.avgUs, stats.stdUs, stats.firstUs ?? 0];
  // avg is printed with 6 significant digits, so it may sit just outside [min, max].
  const slack = Math.max(1e-5 * Math.abs(stats.maxUs), 1e-9);
  const ok =
    numbers.every(Number.isFinite) &&
    stats.minUs >= 0 &&
    stats.stdUs >= 0 &&
    stats.minUs <= stats.maxUs &&
    stats.avgUs >= stats.minUs - slack &&
    stats.avgUs <= stats.maxUs + slack &&
    stats.currUs >= stats.minUs &&
    stats.currUs <= stats.maxUs &&
    (stats.firstUs === undefined || (stats.firstUs >= stats.minUs && stats.firstUs <= stats.maxUs));
  if (!ok) throw new BenchmarkOutputError(`inconsistent statistics in "${line.slice(0, 200)}"`, output);
}

/** Parse a whole benchmark_model log and return the timed (non-warm-up) run's statistics. */
export function parseBenchmarkOutput(output: string): BenchmarkMeasurement {
  const lines = output.split(/\r\n|\r|\n/).map((line) => line.replace(/^\s*(INFO|WARN|WARNING):\s*/, ''));
  const statLines: { line: string; phase: number }[] = [];
  let headers = 0;
  let timings: RegExpExecArray | null = null;
  for (const line of lines) {
    if (PHASE_HEADER.test(line)) headers++;
    else if (/(^|\s)count=/.test(line)) statLines.push({ line, phase: headers });
    else timings ??= TIMINGS.exec(line);
  }
  const errorLine = lines.find((line) => /^\s*ERROR:/.test(line));
  if (statLines.length === 0) {
    throw new BenchmarkOutputError(errorLine ? `the tool reported "${errorLine.trim().slice(0, 200)}"` : 'no statistics line (count=…) found', output);
  }
  let warmupLine: string | undefined;
  let inferenceLine: string | undefined;
  if (headers > 0) {
    warmupLine = statLines.find((s) => s.phase === 1)?.line;
    inferenceLine = statLines.find((s) => s.phase === 2)?.line;
    if (inferenceLine === undefined) {
      throw new BenchmarkOutputError(
        errorLine ? `the timed runs did not finish: "${errorLine.trim().slice(0, 200)}"` : 'the output ends before the timed runs finished (only warm-up statistics)',
        output,
      );
    }
  } else if (statLines.length === 1) {
    inferenceLine = statLines[0]?.line;
  } else {
    warmupLine = statLines[0]?.line;
    inferenceLine = statLines[statLines.length - 1]?.line;
  }
  const inference = parseStatLine(inferenceLine ?? '', output);
  if (inference.count === 0) throw new BenchmarkOutputError('the timed phase made no runs (count=0)', output);
  const result: BenchmarkMeasurement = { ...(inference as BenchmarkStats), delegates: delegateReports(lines) };
  const graph = lines.map((line) => /^Graph: \[(.*)\]\s*$/.exec(line)?.[1]).find((path) => path !== undefined);
  if (graph !== undefined) result.graph = graph;
  if (warmupLine !== undefined) result.warmup = parseStatLine(warmupLine, output);
  if (timings) {
    const [, init = '', first = '', warmupAvg = '', inferenceAvg = ''] = timings;
    const finite = (text: string): number | undefined => (Number.isFinite(Number(text)) ? Number(text) : undefined);
    const fields = { initUs: finite(init), firstInferenceUs: finite(first), warmupAvgUs: finite(warmupAvg), inferenceAvgUs: finite(inferenceAvg) };
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) result[key as keyof typeof fields] = value;
    }
  }
  return result;
}

const APPLIED = /Explicitly applied (\w+) delegate, and the model graph will be (completely|partially) executed/;
const NOT_EXECUTED = /Though (\w+) delegate is explicitly applied, the model graph will not be executed/;
const CREATED = /Created TensorFlow Lite (XNNPACK )?delegate for (\w+)/;

/** The delegate lines of a log; an "Explicitly applied" line overrides the "Created" line of the same delegate. */
function delegateReports(lines: readonly string[]): DelegateReport[] {
  const reports = new Map<string, DelegateReport>();
  for (const line of lines) {
    const applied = APPLIED.exec(line);
    const notExecuted = NOT_EXECUTED.exec(line);
    const created = CREATED.exec(line);
    if (applied?.[1]) reports.set(applied[1].toUpperCase(), { name: applied[1].toUpperCase(), coverage: applied[2] === 'completely' ? 'complete' : 'partial' });
    else if (notExecuted?.[1]) reports.set(notExecuted[1].toUpperCase(), { name: notExecuted[1].toUpperCase(), coverage: 'none' });
    else if (created) {
      const name = created[1] ? 'XNNPACK' : (created[2] ?? '').toUpperCase();
      if (!reports.has(name)) reports.set(name, { name, coverage: 'unknown' });
    }
  }
  return [...reports.values()];
}
