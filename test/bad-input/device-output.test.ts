/**
 * Device output the profiler cannot use: benchmark_model's output empty, cut off, garbled or an error. Each is a
 * UserError quoting what the phone printed, never a crash or a silent zero latency.
 */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.ts';
import { BenchmarkOutputError, parseBenchmarkOutput } from '../../latency/android/benchmark/parse.ts';

const GOOD_TAIL = [
  'INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.',
  'INFO: count=4 first=1400 curr=1390 min=1380 max=1400 avg=1392 std=8',
  'INFO: Running benchmark for at least 30 iterations and at least 1 seconds but terminate if exceeding 150 seconds.',
  'INFO: count=30 first=1203 curr=1180 min=1170 max=1260 avg=1190.5 std=18',
  'INFO: Inference timings in us: Init: 2100, First inference: 1800, Warmup (avg): 1400, Inference (avg): 1190.5',
];

describe('unusable benchmark_model output', () => {
  it.each([
    ['empty output', '', /could not read benchmark_model output: .*[\s\S]*the output was empty/],
    ['a crash', 'INFO: Loaded model /data/local/tmp/m.tflite\nSegmentation fault', /could not read benchmark_model output[\s\S]*Segmentation fault/],
    ['a model the tool cannot open', 'ERROR: Could not open \'/data/local/tmp/m.tflite\'.\nERROR: Failed to initialize the interpreter', /could not read benchmark_model output[\s\S]*Could not open/],
    ['stats cut off mid-line', `${GOOD_TAIL[0]}\nINFO: count=30 first=12`, /could not read benchmark_model output/],
    ['a garbled number', `${GOOD_TAIL[0]}\nINFO: count=30 first=1203 curr=11x80 min=1170 max=1260 avg=1190.5 std=18`, /could not read benchmark_model output/],
  ])('%s', (_name, output, problem) => {
    let error: unknown;
    try {
      parseBenchmarkOutput(output);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BenchmarkOutputError);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(problem);
  });

  it('a complete output still parses (the cases above differ from it only in what is broken)', () => {
    expect(parseBenchmarkOutput(GOOD_TAIL.join('\n')).avgUs).toBeCloseTo(1190.5);
  });
});
