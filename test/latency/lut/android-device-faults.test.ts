// The device path when things go wrong, through adbkit → a real adb server → the emulated phone: a hanging model,
// output cut off mid-line, a frozen phone, throttling, accelerator delegates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enumerateLayerVariants, invokeOverheadSignature, parseNetworkSpec } from '../../../core/arch/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { createAndroidProfiler } from '../../../latency/android/android-profiler.ts';
import type { AndroidProfilerOptions } from '../../../latency/android/android-profiler.ts';
import { probeDelegates } from '../../../latency/android/device/delegate-probe.ts';
import { buildLatencyTable } from '../../../latency/lut/build.ts';
import type { LutBuildProgress, LutBuildResult } from '../../../latency/lut/build.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { adbBinary, adbSkipReason, AdbTestEnvironment } from '../android/adb-harness.ts';
import { EmulatedAdbDevice, sizeDerivedExecuteModel } from '../android/emulated/adbd.ts';
import { tinyLutNetwork } from './tiny-network.ts';

if (!adbBinary) console.warn(`android-device-faults.test.ts: ${adbSkipReason}`);

const spec = parseNetworkSpec(tinyLutNetwork);
const layers = enumerateLayerVariants(spec);
const TOTAL = new Set([...layers.keys(), ...[...layers.keys()].map(invokeOverheadSignature)]).size;

function addsUp(result: LutBuildResult): void {
  expect(result.alreadyPresent + result.measured + result.failed.length + result.skippedFailed + result.notRun).toBe(result.total);
}

describe.skipIf(!adbBinary)('device faults on an emulated phone over adb', () => {
  let env: AdbTestEnvironment;
  const extra: EmulatedAdbDevice[] = [];
  const store = (): LatencyStore => new LatencyStore(openWorkspace(':memory:'));
  const profilerOf = (serial: string, options: Partial<AndroidProfilerOptions> = {}) =>
    createAndroidProfiler({ serial, adbPort: env.adbPort, numRuns: 3, warmupRuns: 1, ...options });

  beforeAll(async () => {
    env = await AdbTestEnvironment.start();
  });

  afterAll(async () => {
    env?.device.thaw();
    await env?.stop();
    for (const device of extra) await device.close();
  });

  it('a hanging model fails alone within its limit (progress while waiting), the rest is measured; reruns skip it unless --retry-failed', async () => {
    const latency = store();
    const profiler = await profilerOf(env.serial);
    const graphs: string[] = [];
    env.device.hangBenchmarkOn((graph) => {
      if (!graphs.includes(graph)) graphs.push(graph);
      return graph === graphs[4];
    });
    const waits: NonNullable<LutBuildProgress['waiting']>[] = [];
    const started = Date.now();
    const result = await buildLatencyTable({ spec, profiler, store: latency, batchSize: 8, onProgress: (p) => p.waiting && waits.push(p.waiting) });
    const seconds = (Date.now() - started) / 1000;
    env.device.hangBenchmarkOn(undefined);

    expect(result.failed).toEqual([{ signature: expect.any(String), reason: 'timeout', message: expect.stringMatching(/no result within its time limit of 10 s \(the phone still answers: the model hangs\)/) }]);
    expect(result).toMatchObject({ total: TOTAL, measured: TOTAL - 1, notRun: 0, skippedFailed: 0 });
    addsUp(result);
    // The 10 s limit (the floor for a tiny model), the check that the phone answers, the other models: well under 30 s.
    expect(seconds).toBeLessThan(30);
    expect(waits.length).toBeGreaterThanOrEqual(3);
    expect(waits.every((w) => w.signature === result.failed[0]?.signature && w.limitSec === 10)).toBe(true);
    // The hung process was killed, not left running on the phone.
    expect(env.device.runningProcesses()).toEqual([]);
    expect(latency.tableFailures(profiler.deviceId, profiler.runtimeOptions)).toMatchObject([{ signature: result.failed[0]?.signature, reason: 'timeout', attempts: 1 }]);

    const rerun = await buildLatencyTable({ spec, profiler, store: latency });
    expect(rerun).toMatchObject({ alreadyPresent: TOTAL - 1, measured: 0, skippedFailed: 1, failed: [] });
    addsUp(rerun);
    const retried = await buildLatencyTable({ spec, profiler, store: latency, retryFailed: true });
    expect(retried).toMatchObject({ alreadyPresent: TOTAL - 1, measured: 1, skippedFailed: 0, failed: [] });
    expect(latency.tableFailures(profiler.deviceId, profiler.runtimeOptions)).toEqual([]);
  }, 60_000);

  it('output cut off mid-line (killed while writing, even with exit status 0) is reported as failed and never stored', async () => {
    const latency = store();
    const profiler = await profilerOf(env.serial);
    env.device.cutBenchmarkOutputEvery(10, 0);
    const result = await buildLatencyTable({ spec, profiler, store: latency, batchSize: 16 });
    env.device.cutBenchmarkOutputEvery(0);
    expect(result.failed).toHaveLength(Math.floor(TOTAL / 10));
    expect(result.failed.every((f) => f.reason === 'cut-off')).toBe(true);
    expect(result.measured).toBe(TOTAL - result.failed.length);
    addsUp(result);
    const stored = new Set(latency.tableEntries(profiler.deviceId, profiler.runtimeOptions).map((e) => e.signature));
    expect(stored.size).toBe(result.measured);
    for (const f of result.failed) expect(stored.has(f.signature)).toBe(false);
  }, 60_000);

  it('a frozen phone (connection open, nothing answered) gives the resumable message within 2 minutes', async () => {
    const latency = store();
    const profiler = await profilerOf(env.serial);
    let calls = 0;
    env.device.setExecuteModel(async (bytes, options) => {
      // Model 10 of 8-model batches: the first batch is complete; output not yet acknowledged stays on the phone.
      if (++calls === 20) env.device.freeze();
      return sizeDerivedExecuteModel(bytes, options);
    });
    const started = Date.now();
    const error = (await buildLatencyTable({ spec, profiler, store: latency, batchSize: 8 }).catch((e: unknown) => e)) as Error;
    const seconds = (Date.now() - started) / 1000;
    env.device.setExecuteModel(sizeDerivedExecuteModel);
    env.device.thaw();
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/stopped answering: no output for \d+ s and no answer to a test command within 10 s \(frozen\?\)/);
    expect(error.message).toMatch(/(\d+) entries are saved — run the same command again to resume \(this run: \1 measured, 0 failed, \d+ not run\)/);
    expect(seconds).toBeLessThan(120);
    expect(seconds).toBeLessThan(40);
    const saved = latency.tableEntries(profiler.deviceId, profiler.runtimeOptions).length;
    expect(saved).toBeGreaterThanOrEqual(8);
    expect(latency.tableFailures(profiler.deviceId, profiler.runtimeOptions)).toEqual([]);
    // Thawed, the same build resumes and completes.
    await env.connect();
    const resumed = await buildLatencyTable({ spec, profiler: await profilerOf(env.serial), store: latency, batchSize: 8 });
    expect(resumed).toMatchObject({ alreadyPresent: saved, measured: TOTAL - saved, failed: [] });
  }, 90_000);

  it('knows which delegates work; a GPU table is keyed apart from the XNNPACK table of the same phone; NNAPI is refused up front', async () => {
    const support = await probeDelegates(env.bridge, env.serial);
    expect(support.filter((s) => s.works).map((s) => s.delegate)).toEqual(['xnnpack', 'cpu', 'gpu']);
    expect(support.find((s) => s.delegate === 'nnapi')?.reason).toMatch(/NNAPI acceleration is unsupported/);

    const latency = store();
    const xnnpack = await profilerOf(env.serial);
    const gpu = await profilerOf(env.serial, { delegate: 'gpu' });
    expect(gpu.deviceId).toBe(xnnpack.deviceId);
    expect(xnnpack.runtimeOptions).toBe('delegate=xnnpack;mask=80;runs=3;threads=1;warmup=1');
    expect(gpu.runtimeOptions).toBe('delegate=gpu;mask=80;runs=3;threads=1;warmup=1');
    await buildLatencyTable({ spec, profiler: xnnpack, store: latency });
    await buildLatencyTable({ spec, profiler: gpu, store: latency });
    expect(latency.listTables(gpu.deviceId).map((t) => [t.runtimeOptions, t.entries])).toEqual([
      [gpu.runtimeOptions, TOTAL],
      [xnnpack.runtimeOptions, TOTAL],
    ]);
    const onGpu = new Map(latency.tableEntries(gpu.deviceId, gpu.runtimeOptions).map((e) => [e.signature, e.meanUs]));
    for (const entry of latency.tableEntries(xnnpack.deviceId, xnnpack.runtimeOptions)) expect(onGpu.get(entry.signature)).not.toBe(entry.meanUs);
    expect(env.device.shellCommands.some((c) => c.includes('--use_gpu=true --use_xnnpack=false'))).toBe(true);

    await expect(profilerOf(env.serial, { delegate: 'nnapi' })).rejects.toThrow(/the nnapi delegate does not work on .*NNAPI acceleration is unsupported/);
  }, 60_000);

  it('a throttled batch (clock cap lowered, CPU hot) is measured again after a cool-down, and recorded', async () => {
    const latency = store();
    const profiler = await profilerOf(env.serial, { stability: { cooldownPollMs: 200, maxCooldownMs: 10_000 } });
    let calls = 0;
    env.device.setExecuteModel(async (bytes, options) => {
      if (++calls === 3) {
        env.device.setCurrentFreqKHz(1_200_000, [7]);
        env.device.fs.writeFile('/sys/devices/system/cpu/cpu7/cpufreq/scaling_max_freq', '1200000\n');
        env.device.setTemperature(0, 62_000);
        setTimeout(() => {
          env.device.fs.writeFile('/sys/devices/system/cpu/cpu7/cpufreq/scaling_max_freq', '2841600\n');
          env.device.setCurrentFreqKHz(2_841_600, [7]);
          env.device.setTemperature(0, 35_500);
        }, 800);
      }
      return sizeDerivedExecuteModel(bytes, options);
    });
    const result = await buildLatencyTable({ spec, profiler, store: latency, batchSize: 8 });
    env.device.setExecuteModel(sizeDerivedExecuteModel);
    expect(result).toMatchObject({ measured: TOTAL, failed: [] });
    const conditions = latency.batchConditions(profiler.deviceId, profiler.runtimeOptions);
    expect(conditions[0]).toMatchObject({ attempt: 1, verdict: 'throttled-remeasured', models: 8, serial: env.serial });
    expect(conditions[0]?.reasons).toEqual(["core 7's clock cap fell from 2842 MHz to 1200 MHz", 'the CPU warmed from 35 °C to 62 °C']);
    expect(conditions[0]?.cooldownMs).toBeGreaterThanOrEqual(400);
    expect(conditions[1]).toMatchObject({ attempt: 2, verdict: 'stable' });
    expect(conditions.slice(1).every((c) => c.verdict === 'stable')).toBe(true);
    const flagged = latency.tableEntries(profiler.deviceId, profiler.runtimeOptions).filter((e) => e.flags.includes('remeasured-after-throttling'));
    expect(flagged).toHaveLength(8);
    expect(latency.tableEntries(profiler.deviceId, profiler.runtimeOptions).some((e) => e.flags.includes('throttled'))).toBe(false);
  }, 60_000);

  it('pins the measured cores on a rooted phone (recorded in the fingerprint) and refuses on an unrooted one', async () => {
    const rooted = await EmulatedAdbDevice.start({ rooted: true });
    extra.push(rooted);
    await env.server.connect(rooted.serial);
    const plain = await profilerOf(rooted.serial);
    const pinned = await profilerOf(rooted.serial, { pinFrequency: true });
    expect(pinned.fingerprint).toMatchObject({ pinnedFreqKHz: 2841600, governor: 'userspace' });
    expect(plain.fingerprint).not.toHaveProperty('pinnedFreqKHz');
    expect(pinned.deviceId).not.toBe(plain.deviceId);
    expect(rooted.fs.readFile('/sys/devices/system/cpu/cpu7/cpufreq/scaling_setspeed').toString().trim()).toBe('2841600');
    await pinned.close?.();
    expect(rooted.fs.readFile('/sys/devices/system/cpu/cpu7/cpufreq/scaling_governor').toString().trim()).toBe('schedutil');
    await expect(profilerOf(env.serial, { pinFrequency: true })).rejects.toThrow(/frequency pinning needs a rooted phone: the shell on .* runs as uid 2000/);
  }, 60_000);

  it('reaches a remote phone with adb connect host:port, like a local one', async () => {
    const remote = await EmulatedAdbDevice.start({ model: 'Remote Phone' });
    extra.push(remote);
    expect(await env.bridge.connect(remote.serial)).toBe(remote.serial);
    await env.server.connect(remote.serial);
    const profiler = await profilerOf(remote.serial);
    expect(profiler.label).toBe(`Remote Phone (${remote.serial})`);
    await expect(env.bridge.connect('no port')).rejects.toThrow(/not a phone address/);
  }, 60_000);
});
