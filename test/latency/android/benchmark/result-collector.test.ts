import { describe, expect, it } from 'vitest';
import { SectionSplitter } from '../../../../latency/android/benchmark/batch-script.ts';
import type { Section } from '../../../../latency/android/benchmark/batch-script.ts';
import type { Delegate } from '../../../../latency/android/benchmark/delegates.ts';
import { ResultCollector } from '../../../../latency/android/benchmark/result-collector.ts';
import { TimeLimits } from '../../../../latency/android/benchmark/time-limits.ts';

const TOKEN = 'ab'.repeat(16);
const GRAPH = `/data/local/tmp/netadapt/${TOKEN}.tflite`;

/** A log as benchmark_model prints it for `--num_runs=runs --warmup_runs=2`. */
function log({ runs = 30, graph = GRAPH, delegateLines = ['INFO: Created TensorFlow Lite XNNPACK delegate for CPU.'] } = {}): string {
  return [
    'INFO: STARTING!',
    `INFO: Graph: [${graph}]`,
    ...delegateLines,
    'INFO: Running benchmark for at least 2 iterations and at least 0 seconds but terminate if exceeding 150 seconds.',
    'INFO: count=2 first=110 curr=100 min=100 max=110 avg=105 std=5',
    `INFO: Running benchmark for at least ${runs} iterations and at least 0 seconds but terminate if exceeding 150 seconds.`,
    `INFO: count=${runs} first=101 curr=100 min=99 max=103 avg=100.5 std=1`,
    'INFO: Inference timings in us: Init: 900, First inference: 110, Warmup (avg): 105, Inference (avg): 100.5',
  ].join('\n');
}

function collect(section: Partial<Section> & { output: string }, delegate: Delegate = 'xnnpack') {
  const collector = new ResultCollector(
    [{ key: 'layer', sha256: 'ab'.repeat(32), token: TOKEN, bytes: Buffer.alloc(0) }],
    1,
    { numRuns: 30, warmupRuns: 2, delegate, graphOf: () => GRAPH },
    new TimeLimits({ warmupRuns: 2, numRuns: 30, delegate }),
    {},
  );
  collector.section({ token: TOKEN, index: 0, exitCode: 0, cutOff: false, ...section });
  return collector.result(1, '80');
}

describe('judging one benchmark_model run', () => {
  it('accepts a complete run of the model that was sent, with the runs asked for', () => {
    const result = collect({ output: log() });
    expect(result.failures).toEqual([]);
    expect(result.results[0]).toMatchObject({ latencyUs: 100.5, flags: [] });
  });

  it('fails a run whose count= is not --num_runs (a 1000-run output for a 30-run request)', () => {
    const result = collect({ output: log({ runs: 1000 }) });
    expect(result.results).toEqual([]);
    expect(result.failures[0]).toMatchObject({ reason: 'bad-output', message: expect.stringMatching(/made 1000 timed runs, 30 were asked for/) });
  });

  it('fails a run whose Graph: line names another model', () => {
    const result = collect({ output: log({ graph: '/data/local/tmp/netadapt/other.tflite' }) });
    expect(result.failures[0]).toMatchObject({ reason: 'wrong-model', message: expect.stringContaining('/data/local/tmp/netadapt/other.tflite') });
  });

  it('fails a cut-off run even when its exit status is 0 and what is left parses', () => {
    const result = collect({ output: log(), cutOff: true });
    expect(result.failures[0]).toMatchObject({ reason: 'cut-off', message: expect.stringMatching(/ended in the middle of a line/) });
  });

  it('fails a GPU run the tool did not delegate, and flags a partly delegated NNAPI run', () => {
    expect(collect({ output: log({ delegateLines: [] }) }, 'gpu').failures[0]).toMatchObject({ reason: 'delegate', message: expect.stringMatching(/did not report applying the GPU delegate/) });
    const nnapiMissing = collect({ output: log({ delegateLines: ['WARN: NNAPI acceleration is unsupported on this platform.'] }) }, 'nnapi');
    expect(nnapiMissing.failures[0]?.message).toMatch(/NNAPI delegate is not available on this phone: NNAPI acceleration is unsupported/);
    const partial = collect(
      { output: log({ delegateLines: ['INFO: Explicitly applied NNAPI delegate, and the model graph will be partially executed by the delegate w/ 1 delegate kernels.'] }) },
      'nnapi',
    );
    expect(partial.results[0]?.flags).toEqual(['partially-delegated']);
    expect(collect({ output: log() }, 'cpu').failures[0]?.message).toMatch(/applied the XNNPACK delegate although plain CPU/);
  });
});

describe('SectionSplitter', () => {
  it('finds an end marker printed on the cut-off last line of the output and marks the section cut off', () => {
    const sections: Section[] = [];
    const splitter = new SectionSplitter((s) => sections.push(s));
    for (const line of [`__NETADAPT_BEGIN ${TOKEN}__`, 'INFO: count=30 first=1', `INFO: Memory footpr__NETADAPT_END ${TOKEN} rc=137__`, `__NETADAPT_BEGIN ${TOKEN}__`, 'ok', `__NETADAPT_END ${TOKEN} rc=0__`]) {
      splitter.line(line);
    }
    expect(sections.map((s) => [s.exitCode, s.cutOff, s.output.split('\n').at(-1)])).toEqual([
      [137, true, 'INFO: Memory footpr'],
      [0, false, 'ok'],
    ]);
  });
});

describe('TimeLimits', () => {
  it('derives a model\'s limit from a flag, its first measurement, the phone\'s speed per MAC, or its MACs', () => {
    const limits = new TimeLimits({ warmupRuns: 5, numRuns: 30, delegate: 'xnnpack' });
    // 10 s floor + 10 × 35 runs × expected run time.
    expect(limits.limitMs('a', 0)).toBe(10_000 + 35);
    expect(limits.limitMs('a', 100e6)).toBe(10_000 + 35_000); // 100 M MACs at 1 GMAC/s: 0.1 s per run
    limits.observe('b', 10e6, 2_000); // this phone: 0.2 ns per MAC
    expect(limits.limitMs('a', 100e6)).toBe(10_000 + 7_000);
    limits.observe('a', 100e6, 50_000); // its own first measurement wins
    expect(limits.limitMs('a', 100e6)).toBe(10_000 + 17_500);
    expect(new TimeLimits({ warmupRuns: 5, numRuns: 30, delegate: 'gpu' }).limitMs('x', 0)).toBe(45_035);
    expect(new TimeLimits({ warmupRuns: 5, numRuns: 30, delegate: 'xnnpack' }, { fixedMs: 3000 }).limitMs('x', 1e9)).toBe(3000);
  });
});
