import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork } from '../../../../core/arch/index.ts';
import { exportLayer } from '../../../../core/export/network.ts';
import { randomFoldedWeights } from '../../../../core/export/random-weights.ts';
import { BenchmarkRunner } from '../../../../latency/android/benchmark/runner.ts';
import { adbBinary, AdbTestEnvironment } from '../adb-harness.ts';
import type { ExecuteModel } from '../emulated/adbd.ts';
import { liteRtExecuteModel } from '../../runtime-execute-model.ts';

describe.skipIf(!adbBinary)('BenchmarkRunner with real inference (LiteRT wasm) behind the emulated benchmark_model', () => {
  let env: AdbTestEnvironment;
  const reported: number[][] = [];

  beforeAll(async () => {
    const real = await liteRtExecuteModel();
    const recording: ExecuteModel = async (bytes, options) => {
      const times = await real(bytes, options);
      reported.push(times);
      return times;
    };
    env = await AdbTestEnvironment.start({ executeModel: recording });
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('measures exported layers of a zoo network and reports what the runtime timed', async () => {
    const network = resolveNetwork(loadNetwork('mobilenet-v1-32'));
    const weights = randomFoldedWeights(network, 3);
    const layers = network.layers.slice(0, 4);
    const models = layers.map((layer, i) => ({ key: `layer${i}`, bytes: exportLayer(layer, weights) }));
    const result = await new BenchmarkRunner(env.bridge).measureBatch(env.serial, models, { cpuMask: '80', warmupRuns: 1, numRuns: 5 });
    expect(result.failures).toEqual([]);
    expect(result.results).toHaveLength(4);
    // Calls alternate warm-up (1 run) and timed (5 runs); the parsed average is the timed runs' average.
    const timed = reported.filter((times) => times.length === 5);
    expect(timed).toHaveLength(4);
    result.results.forEach((r, i) => {
      const times = (timed[i] ?? []).map(Math.round);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      expect(r.latencyUs).toBeGreaterThan(0);
      expect(Math.abs(r.latencyUs - mean)).toBeLessThanOrEqual(mean * 1e-5 + 1e-9);
      expect(r.measurements[0]?.minUs).toBe(Math.min(...times));
    });
  });
});
