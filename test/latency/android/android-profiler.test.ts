import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork } from '../../../core/arch/index.ts';
import { layerSignature } from '../../../core/arch/signature.ts';
import { UserError } from '../../../core/errors.ts';
import { createAndroidProfiler } from '../../../latency/android/android-profiler.ts';
import { DeviceDisconnectedError } from '../../../latency/android/device/errors.ts';
import { layerModel } from '../../../latency/lut/layer-models.ts';
import type { Measurement, ModelToMeasure } from '../../../latency/profiler.ts';
import { adbBinary, adbSkipReason, AdbTestEnvironment } from './adb-harness.ts';
import { EmulatedAdbDevice } from './emulated/adbd.ts';
import { liteRtExecuteModel } from '../runtime-execute-model.ts';

if (!adbBinary) console.warn(`android-profiler.test.ts: ${adbSkipReason}`);

function mobilenetLayerModels(count: number): ModelToMeasure[] {
  const layers = resolveNetwork(loadNetwork('mobilenet-v1-32')).layers;
  const models = new Map<string, ModelToMeasure>();
  for (const layer of layers) {
    const signature = layerSignature(layer);
    if (signature === null || models.has(signature)) continue;
    models.set(signature, layerModel(layer));
    if (models.size === count) break;
  }
  return [...models.values()];
}

describe.skipIf(!adbBinary)('Android profiler through adb and the emulated device (real LiteRT inference)', () => {
  let env: AdbTestEnvironment;
  const extraDevices: EmulatedAdbDevice[] = [];
  let executeCalls = 0;
  let executeDelayMs = 0;

  beforeAll(async () => {
    const real = await liteRtExecuteModel();
    env = await AdbTestEnvironment.start({
      executeModel: async (bytes, options) => {
        executeCalls++;
        // A phone takes its time; without a delay the emulated device could finish before the host reads anything.
        if (executeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, executeDelayMs));
        return real(bytes, options);
      },
    });
  });

  afterAll(async () => {
    await env?.stop();
    for (const device of extraDevices) await device.close();
  });

  async function connectedDevice(options: Parameters<typeof EmulatedAdbDevice.start>[0]): Promise<EmulatedAdbDevice> {
    const device = await EmulatedAdbDevice.start(options);
    extraDevices.push(device);
    await env.server.connect(device.serial);
    return device;
  }

  it('has a stable fingerprint id: the same phone (even on another port) gives the same id, other cores or threads another', async () => {
    const options = { serial: env.serial, adbPort: env.adbPort, numRuns: 5, warmupRuns: 1 };
    const first = await createAndroidProfiler(options);
    const again = await createAndroidProfiler(options);
    expect(first.deviceId).toMatch(/^[0-9a-f]{64}$/);
    expect(again.deviceId).toBe(first.deviceId);
    expect(first.label).toBe(`NetAdapt Emulated Phone (${env.serial})`);
    // Default mask: the single prime core (core 7) of the Snapdragon 865-like layout.
    expect(first.runtimeOptions).toBe('delegate=xnnpack;mask=80;runs=5;threads=1;warmup=1');
    expect(first.fingerprint.model).toBe('NetAdapt Emulated Phone');

    const twin = await connectedDevice({});
    const twinProfiler = await createAndroidProfiler({ ...options, serial: twin.serial });
    expect(twinProfiler.deviceId).toBe(first.deviceId);
    expect(twinProfiler.label).toContain(twin.serial);

    const otherSoc = await connectedDevice({ coreMaxFreqKHz: [1800000, 1800000, 2400000, 2400000] });
    const otherProfiler = await createAndroidProfiler({ ...options, serial: otherSoc.serial });
    expect(otherProfiler.deviceId).not.toBe(first.deviceId);
    expect(otherProfiler.runtimeOptions).toBe('delegate=xnnpack;mask=c;runs=5;threads=1;warmup=1');

    const twoThreads = await createAndroidProfiler({ ...options, threads: 2 });
    expect(twoThreads.deviceId).not.toBe(first.deviceId);
    // The two fastest cores: the prime core 7 and the first big core 4.
    expect(twoThreads.runtimeOptions).toBe('delegate=xnnpack;mask=90;runs=5;threads=2;warmup=1');
  });

  it('measures exported single layers of mobilenet-v1-32 in one batch and reports each one', async () => {
    const profiler = await createAndroidProfiler({ serial: env.serial, adbPort: env.adbPort, numRuns: 4, warmupRuns: 1, repeats: 2 });
    const models = mobilenetLayerModels(4);
    expect(models).toHaveLength(4);
    const shellsBefore = env.device.shellCommands.filter((c) => c.includes('__NETADAPT_BEGIN')).length;
    const results = new Map<string, Measurement>();
    const failures: string[] = [];
    const callsAtResult: number[] = [];
    const callsBefore = executeCalls;
    executeDelayMs = 40;
    try {
      await profiler.measure(models, {
        onResult: (key, m) => {
          callsAtResult.push(executeCalls - callsBefore);
          results.set(key, m);
        },
        onFailure: (key) => failures.push(key),
      });
    } finally {
      executeDelayMs = 0;
    }
    expect(failures).toEqual([]);
    // Runs are interleaved (a b c d a b c d), each run is a warm-up and a timed call: the first model is complete after
    // its 2nd repeat (5 runs, 10 calls) and is handed over while the others still run (16 calls in all).
    expect(executeCalls - callsBefore).toBe(16);
    expect(callsAtResult[0]).toBeGreaterThanOrEqual(10);
    expect(callsAtResult[0]).toBeLessThan(16);
    expect([...results.keys()].sort()).toEqual(models.map((m) => m.key).sort());
    for (const m of results.values()) {
      expect(m.count).toBe(8); // 4 timed runs × 2 repeats
      expect(m.meanUs).toBeGreaterThan(0);
      expect(m.minUs).toBeGreaterThan(0);
      expect(m.minUs).toBeLessThanOrEqual(m.medianUs);
      expect(m.medianUs).toBeLessThanOrEqual(m.maxUs);
      expect(m.stdUs).toBeGreaterThanOrEqual(0);
    }
    // 4 models × 2 repeats fit one shell session.
    expect(env.device.shellCommands.filter((c) => c.includes('__NETADAPT_BEGIN')).length - shellsBefore).toBe(1);
  });

  it('reports models whose output cannot be read through onFailure, and fails the call without onFailure', async () => {
    const profiler = await createAndroidProfiler({ serial: env.serial, adbPort: env.adbPort, numRuns: 2, warmupRuns: 0 });
    const models = mobilenetLayerModels(2);
    env.device.setGarbageBenchmarkOutput(true);
    try {
      const failed = new Map<string, Error>();
      const results: string[] = [];
      await profiler.measure(models, { onResult: (key) => results.push(key), onFailure: (key, error) => failed.set(key, error) });
      expect(results).toEqual([]);
      expect([...failed.keys()].sort()).toEqual(models.map((m) => m.key).sort());
      for (const error of failed.values()) expect(error.message).toMatch(/benchmark_model/);
      await expect(profiler.measure(models, { onResult: () => undefined })).rejects.toThrow(/benchmark_model/);
    } finally {
      env.device.setGarbageBenchmarkOutput(false);
    }
  });

  it('on unplug delivers the models finished before, then throws a DeviceDisconnectedError', async () => {
    const profiler = await createAndroidProfiler({ serial: env.serial, adbPort: env.adbPort, numRuns: 2, warmupRuns: 0 });
    const models = mobilenetLayerModels(5);
    const results: string[] = [];
    env.device.unplugAfterOutput('__NETADAPT_END', 2);
    const error = await profiler.measure(models, { onResult: (key) => results.push(key) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceDisconnectedError);
    expect((error as Error).message).toMatch(/disconnected/);
    expect(results).toEqual(models.slice(0, 2).map((m) => m.key));
    await env.connect();
  });

  it('refuses a phone without benchmark_model, naming `netadapt device setup`', async () => {
    const bare = await connectedDevice({ withBenchmarkTool: false });
    const error = await createAndroidProfiler({ serial: bare.serial, adbPort: env.adbPort }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('netadapt device setup');
    expect((error as Error).message).toContain(bare.serial);
  });
});
