import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BenchmarkOutputError, parseBenchmarkOutput, parseStatLine } from '../../../../latency/android/benchmark/parse.ts';
import { runFakeBenchmarkModel } from '../emulated/fake-benchmark-model.ts';

/** A log in the shape benchmark_model prints (older builds print no "INFO: " prefix). */
const MOBILENET_LOG = `STARTING!
Log parameter values verbosely: [0]
Num threads: [1]
Graph: [/data/local/tmp/mobilenet_v1_1.0_224.tflite]
#threads used for CPU inference: [1]
Loaded model /data/local/tmp/mobilenet_v1_1.0_224.tflite
The input model file size (MB): 16.9008
Initialized session in 3.002ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=4 first=134473 curr=124530 min=124530 max=134473 avg=128212 std=3959

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=125044 curr=124841 min=124426 max=126633 avg=125160 std=449

Inference timings in us: Init: 3002, First inference: 134473, Warmup (avg): 128212, Inference (avg): 125160
Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
Memory footprint delta from the start of the tool (MB): init=2.83594 overall=30.418
`;

const INFO_LOG = MOBILENET_LOG.split('\n')
  .map((line) => (line === '' ? line : `INFO: ${line}`))
  .join('\r\n');

describe('parseStatLine', () => {
  it('reads the full form', () => {
    expect(parseStatLine('count=50 first=1234 curr=1000 min=990 max=1300 avg=1010.5 std=20')).toEqual({
      count: 50,
      firstUs: 1234,
      currUs: 1000,
      minUs: 990,
      maxUs: 1300,
      avgUs: 1010.5,
      stdUs: 20,
    });
  });

  it('reads "(all same)", a single run and count=0', () => {
    expect(parseStatLine('INFO: count=7 curr=1500(all same)')).toEqual({
      count: 7,
      firstUs: 1500,
      currUs: 1500,
      minUs: 1500,
      maxUs: 1500,
      avgUs: 1500,
      stdUs: 0,
    });
    expect(parseStatLine('count=1 curr=812')).toMatchObject({ count: 1, avgUs: 812, stdUs: 0 });
    expect(parseStatLine('count=0')).toEqual({ count: 0 });
  });

  it('reads scientific notation and percentiles', () => {
    const stats = parseStatLine('count=50 first=1234567 curr=1234560 min=1234000 max=1235000 avg=1.23457e+06 std=20 p5=1234100 median=1234500 p95=1234900');
    expect(stats).toMatchObject({ avgUs: 1234570, p5: 1234100, median: 1234500, p95: 1234900 });
  });

  it('reads the pre-2019 order without first=', () => {
    expect(parseStatLine('curr=1000 count=3 min=990 max=1010 avg=1000 std=8')).toMatchObject({ count: 3, currUs: 1000, minUs: 990 });
  });

  it('rejects inconsistent or malformed lines', () => {
    expect(() => parseStatLine('count=5 first=1 curr=1 min=10 max=5 avg=7 std=1')).toThrow(BenchmarkOutputError);
    expect(() => parseStatLine('count=5 first=1 curr=1 min=1 max=5 avg=70 std=1')).toThrow(BenchmarkOutputError);
    expect(() => parseStatLine('count=5 curr=1')).toThrow(BenchmarkOutputError);
    expect(() => parseStatLine('count=x curr=1')).toThrow(BenchmarkOutputError);
    expect(() => parseStatLine('count=3 first=1 curr=1 min=1 max=2 avg=NaN std=0')).toThrow(BenchmarkOutputError);
  });
});

describe('parseBenchmarkOutput', () => {
  const expected = {
    count: 50,
    firstUs: 125044,
    currUs: 124841,
    minUs: 124426,
    maxUs: 126633,
    avgUs: 125160,
    stdUs: 449,
    initUs: 3002,
    firstInferenceUs: 134473,
    warmupAvgUs: 128212,
    inferenceAvgUs: 125160,
  };

  it('returns the timed runs, not the warm-up runs', () => {
    const result = parseBenchmarkOutput(MOBILENET_LOG);
    expect(result).toMatchObject(expected);
    expect(result.warmup).toMatchObject({ count: 4, avgUs: 128212 });
  });

  it('handles INFO: prefixes and CRLF line endings', () => {
    expect(parseBenchmarkOutput(INFO_LOG)).toMatchObject(expected);
  });

  it('accepts a bare stats line', () => {
    expect(parseBenchmarkOutput('count=50 first=1234 curr=1000 min=990 max=1300 avg=1.0105e+03 std=20\n')).toMatchObject({ avgUs: 1010.5 });
  });

  it('handles zero warm-up runs (count=0 and a nan warm-up average)', () => {
    const log = MOBILENET_LOG.replace('count=4 first=134473 curr=124530 min=124530 max=134473 avg=128212 std=3959', 'count=0').replace(
      'First inference: 134473, Warmup (avg): 128212',
      'First inference: 0, Warmup (avg): nan',
    );
    const result = parseBenchmarkOutput(log);
    expect(result.warmup).toEqual({ count: 0 });
    expect(result.warmupAvgUs).toBeUndefined();
    expect(result.count).toBe(50);
  });

  it('refuses output that stops after the warm-up phase, instead of reporting warm-up times', () => {
    const truncated = MOBILENET_LOG.slice(0, MOBILENET_LOG.indexOf('Running benchmark for at least 50'));
    expect(() => parseBenchmarkOutput(truncated)).toThrow(/only warm-up/);
    const crashed = `${truncated}Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.\nERROR: Node number 3 (CONV_2D) failed to invoke.\n`;
    expect(() => parseBenchmarkOutput(crashed)).toThrow(/failed to invoke/);
  });

  it('refuses a timed phase with no runs', () => {
    expect(() => parseBenchmarkOutput(MOBILENET_LOG.replace('count=50 first=125044 curr=124841 min=124426 max=126633 avg=125160 std=449', 'count=0'))).toThrow(
      /no runs/,
    );
  });

  it('quotes the first lines of unparseable output and names the tool error', () => {
    const error = catchError(() => parseBenchmarkOutput('Segmentation fault\n\u0001garbage line\n'));
    expect(error).toBeInstanceOf(BenchmarkOutputError);
    expect(error.message).toContain('Segmentation fault');
    expect(error.message).toContain('\\x01garbage line');
    expect((error as BenchmarkOutputError).details).toEqual(['Segmentation fault', '\\x01garbage line']);
    const toolError = catchError(() => parseBenchmarkOutput('INFO: STARTING!\nERROR: Could not open or parse model file /x.tflite\n'));
    expect(toolError.message).toContain('Could not open or parse model file');
    expect(catchError(() => parseBenchmarkOutput('')).message).toContain('output was empty');
  });

  it('reads back exactly what the emulated benchmark_model prints for arbitrary run times', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5_000_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 5 }),
        async (times, warmupRuns) => {
          let call = 0;
          let log = '';
          const model = Buffer.from('\0\0\0\0TFL3 model');
          const status = await runFakeBenchmarkModel(
            ['--graph=/m.tflite', `--warmup_runs=${warmupRuns}`, '--warmup_min_secs=0', `--num_runs=${times.length}`, '--min_secs=0'],
            {
              stdout: (t) => (log += t),
              stderr: (t) => (log += t),
              readFile: () => model,
              executeModel: async (_bytes, { runs }) => (call++ === 0 && warmupRuns > 0 ? Array(runs).fill(777) : times.slice(0, runs)),
              affinity: null,
              garbageOutput: false,
              signal: new AbortController().signal,
            },
          );
          expect(status).toBe(0);
          const result = parseBenchmarkOutput(log);
          const mean = times.reduce((a, b) => a + b, 0) / times.length;
          expect(result.count).toBe(times.length);
          expect(result.minUs).toBe(Math.min(...times));
          expect(result.maxUs).toBe(Math.max(...times));
          expect(result.currUs).toBe(times[times.length - 1]);
          expect(Math.abs(result.avgUs - mean)).toBeLessThanOrEqual(mean * 1e-5);
          expect(result.warmup?.count).toBe(warmupRuns);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('parseBenchmarkOutput fuzzing', () => {
  const onlyResultOrOutputError = (text: string): void => {
    try {
      const result = parseBenchmarkOutput(text);
      expect(result.count).toBeGreaterThan(0);
      expect(result.minUs).toBeLessThanOrEqual(result.maxUs);
      expect(Number.isFinite(result.avgUs)).toBe(true);
    } catch (error) {
      if (!(error instanceof BenchmarkOutputError)) throw error;
      expect(error.message.length).toBeGreaterThan(0);
    }
  };

  it('random strings give a result or BenchmarkOutputError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), onlyResultOrOutputError), { numRuns: 1500 });
    const statsish = fc.array(fc.constantFrom('count=', 'curr=', 'first=', 'min=', 'max=', 'avg=', 'std=', '(all same)', '1', '2.5', 'e+', '-', ' ', '\n', 'nan', 'INFO: ', 'Running benchmark for at least 3 iterations', 'p5='), {
      maxLength: 60,
    });
    fc.assert(fc.property(statsish, (pieces) => onlyResultOrOutputError(pieces.join(''))), { numRuns: 1500 });
  });

  it('mutated real outputs give a result or BenchmarkOutputError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 12 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('digit' as const), at: fc.nat(), text: fc.constantFrom('0', '9', '-', '.', 'e', 'x', '') }),
    );
    fc.assert(
      fc.property(fc.constantFrom(MOBILENET_LOG, INFO_LOG), fc.array(mutation, { minLength: 1, maxLength: 6 }), (log, mutations) => {
        let text = log;
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
          else if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
          else if (m.kind === 'truncate') text = text.slice(0, at);
          else {
            const digits = [...text.matchAll(/\d/g)];
            const target = digits[m.at % Math.max(digits.length, 1)]?.index;
            if (target !== undefined) text = text.slice(0, target) + m.text + text.slice(target + 1);
          }
        }
        onlyResultOrOutputError(text);
      }),
      { numRuns: 3000 },
    );
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
