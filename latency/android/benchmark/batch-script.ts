/**
 * The device-side script that benchmarks many models in one shell session, and the host-side splitter
 * that cuts its output back into one section per model run:
 *
 *   for m in TOKEN1 TOKEN2 …; do echo "__NETADAPT_BEGIN ${m}__"; taskset MASK benchmark_model --graph=DIR/${m}.tflite …;
 *   echo "__NETADAPT_END ${m} rc=$?__"; sleep S; done
 *
 * Tokens are content ids (hex prefixes of the model's sha256), so no user-supplied text reaches the shell.
 */
import { ValidationError } from '../../../core/errors.ts';
import { shellQuote } from '../device/shell-quote.ts';
import { delegateFlags, DELEGATES } from './delegates.ts';
import type { Delegate } from './delegates.ts';

export interface BenchmarkInvocation {
  toolPath: string;
  modelDir: string;
  threads: number;
  /** Hex taskset mask, or undefined to run unpinned. */
  cpuMask: string | undefined;
  warmupRuns: number;
  numRuns: number;
  cooldownMs: number;
  delegate: Delegate;
}

const TOKEN_PATTERN = /^[0-9a-f]{8,64}$/;

function checkInvocation(invocation: BenchmarkInvocation): void {
  const counts = { threads: invocation.threads, warmupRuns: invocation.warmupRuns, numRuns: invocation.numRuns };
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0 || value > 100_000) throw new ValidationError(`${name} must be an integer 0..100000, got ${value}`);
  }
  if (invocation.threads < 1) throw new ValidationError('threads must be at least 1');
  if (invocation.numRuns < 1) throw new ValidationError('numRuns must be at least 1');
  if (!Number.isFinite(invocation.cooldownMs) || invocation.cooldownMs < 0 || invocation.cooldownMs > 600_000) {
    throw new ValidationError(`cooldownMs must be 0..600000, got ${invocation.cooldownMs}`);
  }
  if (!DELEGATES.includes(invocation.delegate)) throw new ValidationError(`delegate must be one of ${DELEGATES.join(', ')}, got ${JSON.stringify(invocation.delegate)}`);
  if (invocation.cpuMask !== undefined && !/^[0-9a-f]+$/.test(invocation.cpuMask)) {
    throw new ValidationError(`cpu mask must be lower-case hex, got ${JSON.stringify(invocation.cpuMask)}`);
  }
}

/** The benchmark_model command line for one model file (`graph` is already a shell word). */
function benchmarkCommand(invocation: BenchmarkInvocation, graphWord: string): string {
  const pin = invocation.cpuMask === undefined ? '' : `taskset ${invocation.cpuMask} `;
  return (
    `${pin}${shellQuote(invocation.toolPath)} --graph=${graphWord} --num_threads=${invocation.threads} ` +
    `--warmup_runs=${invocation.warmupRuns} --warmup_min_secs=0 --num_runs=${invocation.numRuns} --min_secs=0 ` +
    delegateFlags(invocation.delegate).join(' ')
  );
}

function cooldown(invocation: BenchmarkInvocation): string {
  return invocation.cooldownMs > 0 ? `; sleep ${(invocation.cooldownMs / 1000).toFixed(3)}` : '';
}

/** The path benchmark_model is given for a model (and prints back in its `Graph: [...]` line). */
export function modelPath(invocation: Pick<BenchmarkInvocation, 'modelDir'>, token: string): string {
  return `${invocation.modelDir}/${modelFileName(token)}`;
}

/**
 * Ends the processes of a model run that outlived its session (a hung benchmark_model). The bracket keeps the
 * pattern from matching the command line of the shell that runs pkill itself.
 */
export function killModelCommand(invocation: Pick<BenchmarkInvocation, 'modelDir'>, token: string): string {
  const path = modelPath(invocation, token);
  const slash = path.lastIndexOf('/');
  return `pkill -9 -f ${shellQuote(`${path.slice(0, slash)}[/]${path.slice(slash + 1)}`)}; true`;
}

export function modelFileName(token: string): string {
  if (!TOKEN_PATTERN.test(token)) throw new ValidationError(`not a model content id: ${JSON.stringify(token)}`);
  return `${token}.tflite`;
}

/** One shell session running every token in order (tokens may repeat, e.g. interleaved repeats). */
export function buildBatchScript(tokens: readonly string[], invocation: BenchmarkInvocation): string {
  checkInvocation(invocation);
  if (tokens.length === 0) throw new ValidationError('no models to benchmark');
  for (const token of tokens) modelFileName(token);
  const graph = `${shellQuote(`${invocation.modelDir}/`)}"\${m}".tflite`;
  return (
    `for m in ${tokens.join(' ')}; do echo "__NETADAPT_BEGIN \${m}__"; ${benchmarkCommand(invocation, graph)}; ` +
    `echo "__NETADAPT_END \${m} rc=$?__"${cooldown(invocation)}; done`
  );
}

/** The command for a single model (one adb round trip per model). */
export function buildSingleCommand(token: string, invocation: BenchmarkInvocation): string {
  checkInvocation(invocation);
  return `${benchmarkCommand(invocation, shellQuote(`${invocation.modelDir}/${modelFileName(token)}`))}${cooldown(invocation)}`;
}

/** Split the batch script's output into sections the moment each one ends. */
export interface Section {
  token: string;
  /** Index of this section among all sections of the session (0-based). */
  index: number;
  output: string;
  exitCode: number;
  /**
   * The tool's output did not end with a newline: the end marker was printed on its last line, so the process
   * was killed (or crashed) while writing and the output is incomplete.
   */
  cutOff: boolean;
}

const BEGIN = /__NETADAPT_BEGIN ([0-9a-f]+)__$/;
const END = /__NETADAPT_END ([0-9a-f]+) rc=(\d+)__$/;

export class SectionSplitter {
  private current: { token: string; lines: string[] } | undefined;
  private sectionCount = 0;
  /** Lines outside any section (should stay empty; kept to explain failures). */
  readonly strayLines: string[] = [];

  constructor(
    private readonly onSection: (section: Section) => void,
    private readonly onBegin: (token: string) => void = () => undefined,
  ) {}

  /** Feed one output line (without its line ending). */
  line(line: string): void {
    const begin = BEGIN.exec(line);
    if (begin) {
      const before = line.slice(0, begin.index);
      if (before !== '') (this.current?.lines ?? this.strayLines).push(before);
      if (this.current) this.strayLines.push(...this.current.lines);
      this.current = { token: begin[1] ?? '', lines: [] };
      this.onBegin(this.current.token);
      return;
    }
    const end = END.exec(line);
    if (end && this.current && end[1] === this.current.token) {
      const before = line.slice(0, end.index);
      const { token, lines } = this.current;
      if (before !== '') lines.push(before);
      this.current = undefined;
      this.onSection({ token, index: this.sectionCount++, output: lines.join('\n'), exitCode: Number(end[2]), cutOff: before !== '' });
      return;
    }
    if (this.current) this.current.lines.push(line);
    else this.strayLines.push(line);
  }

  /** The section that began but never ended (the connection dropped during it). */
  get unfinished(): { token: string; output: string } | undefined {
    return this.current ? { token: this.current.token, output: this.current.lines.join('\n') } : undefined;
  }

  get completedSections(): number {
    return this.sectionCount;
  }
}
