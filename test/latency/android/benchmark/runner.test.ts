import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, ValidationError } from '../../../../core/errors.ts';
import {
  BatchInterruptedError,
  BenchmarkRunner,
  BenchmarkToolMissingError,
  MODEL_DIR,
} from '../../../../latency/android/benchmark/runner.ts';
import type { ProgressEvent } from '../../../../latency/android/benchmark/runner.ts';
import { DeviceDisconnectedError } from '../../../../latency/android/device/errors.ts';
import { adbBinary, AdbTestEnvironment } from '../adb-harness.ts';
import { BENCHMARK_TOOL_PATH, sizeDerivedExecuteModel } from '../emulated/adbd.ts';
import type { ExecuteModelOptions } from '../emulated/adbd.ts';
import { fakeElfBinary, fakeTfliteModel } from '../../fake-models.ts';

const models = Array.from({ length: 10 }, (_, i) => ({ key: `block${i}/conv3x3`, bytes: fakeTfliteModel(1000 + i * 700, `m${i}`) }));

/** A model's "latency" in the injected runtime: 1 µs per byte, identical every run. */
const latencyOf = (bytes: Uint8Array): number => bytes.length;

describe.skipIf(!adbBinary)('BenchmarkRunner through adb and the emulated device', () => {
  let env: AdbTestEnvironment;
  let runner: BenchmarkRunner;
  const calls: ExecuteModelOptions[] = [];
  let scratch: string;

  beforeAll(async () => {
    env = await AdbTestEnvironment.start();
    runner = new BenchmarkRunner(env.bridge);
    scratch = await mkdtemp(join(tmpdir(), 'netadapt-runner-'));
  });

  afterEach(async () => {
    env.device.setGarbageBenchmarkOutput(false);
    env.device.setExecuteModel(async (bytes, options) => {
      calls.push(options);
      return Array(options.runs).fill(latencyOf(bytes));
    });
    await env.connect();
  });

  afterAll(async () => {
    await env?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('explains how to install a missing benchmark binary, and installs one', async () => {
    env.device.fs.remove(BENCHMARK_TOOL_PATH);
    expect(await runner.checkTool(env.serial)).toEqual({ path: BENCHMARK_TOOL_PATH, installed: false, executable: false });
    const error = await runner.measureBatch(env.serial, models.slice(0, 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BenchmarkToolMissingError);
    expect((error as Error).message).toMatch(/netadapt device setup --serial \S+ --benchmark-binary PATH/);
    expect((error as BenchmarkToolMissingError).details.join('\n')).toMatch(/prebuilt nightly benchmark_model for android_aarch64/);

    const notElf = join(scratch, 'not-elf');
    await writeFile(notElf, 'hello');
    await expect(runner.installTool(env.serial, notElf)).rejects.toBeInstanceOf(FileFormatError);
    await expect(runner.installTool(env.serial, join(scratch, 'missing'))).rejects.toBeInstanceOf(FileFormatError);
    const binary = join(scratch, 'benchmark_model');
    await writeFile(binary, fakeElfBinary('test'));
    const sha = await runner.installTool(env.serial, binary);
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(await runner.checkTool(env.serial)).toMatchObject({ installed: true, executable: true, size: fakeElfBinary('test').length });
    expect(env.device.fs.stat(BENCHMARK_TOOL_PATH)?.perm).toBe(0o755);

    env.device.fs.chmod(BENCHMARK_TOOL_PATH, 0o644);
    await expect(runner.requireTool(env.serial)).rejects.toThrow(/is not executable/);
    env.device.fs.chmod(BENCHMARK_TOOL_PATH, 0o755);
  });

  it('measures ~10 models in one shell session, pinned to the fastest core, with progress per model', async () => {
    const events: ProgressEvent[] = [];
    const shellsBefore = env.device.shellCommands.length;
    calls.length = 0;
    const result = await runner.measureBatch(env.serial, models, { repeats: 3, warmupRuns: 2, numRuns: 7, onProgress: (e) => events.push(e) });

    expect(result.failures).toEqual([]);
    expect(result.shellSessions).toBe(1);
    expect(result.cpuMask).toBe('80');
    expect(result.results.map((r) => [r.key, r.latencyUs])).toEqual(models.map((m) => [m.key, latencyOf(m.bytes)]));
    for (const r of result.results) {
      expect(r.repeatsUs).toHaveLength(3);
      expect(r.unstable).toBe(false);
      expect(r.measurements[0]).toMatchObject({ count: 7, warmup: { count: 2 } });
    }
    // Exactly one fingerprint read (for the default mask) and one benchmark session.
    const shells = env.device.shellCommands.slice(shellsBefore);
    expect(shells).toHaveLength(2);
    expect(shells[1]).toMatch(/^\(for m in [0-9a-f ]+; do .*taskset 80 '\/data\/local\/tmp\/benchmark_model' --graph=/);
    expect(calls.every((c) => c.threads === 1 && c.affinity?.join() === '7')).toBe(true);
    expect(events).toHaveLength(30);
    expect(events.map((e) => e.completed)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Repeats are interleaved: every model once before any model a second time.
    expect(new Set(events.slice(0, 10).map((e) => e.key)).size).toBe(10);
    for (const m of models) {
      const file = env.device.fs.stat(`${MODEL_DIR}/${result.results.find((r) => r.key === m.key)?.sha256.slice(0, 32)}.tflite`);
      expect(file?.data.equals(m.bytes)).toBe(true);
    }
  });

  it('does not push models that are already on the device', async () => {
    const sendsBefore = env.device.syncRequests.filter((r) => r.startsWith('SEND')).length;
    const fresh = { key: 'fresh', bytes: fakeTfliteModel(3333, 'fresh') };
    await runner.measureBatch(env.serial, [...models, fresh], { cpuMask: 'f0' });
    const sends = env.device.syncRequests.filter((r) => r.startsWith('SEND')).slice(sendsBefore);
    expect(sends).toHaveLength(1);
    expect(sends[0]).toContain(`${MODEL_DIR}/`);
  });

  it('measures new models with one sync connection and one shell session per batch', async () => {
    const fresh = Array.from({ length: 6 }, (_, i) => ({ key: `new${i}`, bytes: fakeTfliteModel(1500 + i * 300, `batch-new-${i}`) }));
    const servicesBefore = env.device.services.length;
    const sendsBefore = env.device.syncRequests.filter((r) => r.startsWith('SEND')).length;
    const result = await runner.measureBatch(env.serial, fresh, { cpuMask: '80' });
    expect(result.results.map((r) => r.latencyUs)).toEqual(fresh.map((m) => latencyOf(m.bytes)));
    const services = env.device.services.slice(servicesBefore);
    expect(services.filter((s) => s === 'sync:')).toHaveLength(1);
    expect(services.filter((s) => s.startsWith('shell:'))).toHaveLength(1);
    expect(env.device.syncRequests.filter((r) => r.startsWith('SEND')).length - sendsBefore).toBe(fresh.length);
  });

  it('one round trip per model pushes every model on its own sync connection, as a tool without batching does', async () => {
    const servicesBefore = env.device.services.length;
    const sendsBefore = env.device.syncRequests.filter((r) => r.startsWith('SEND')).length;
    const result = await runner.measureOneByOne(env.serial, models.slice(0, 3), { cpuMask: '80' });
    expect(result.results).toHaveLength(3);
    const services = env.device.services.slice(servicesBefore);
    // One connection to check the tool, then one push and one shell per model (already there or not).
    expect(services.filter((s) => s === 'sync:')).toHaveLength(1 + 3);
    expect(services.filter((s) => s.startsWith('shell:'))).toHaveLength(3);
    expect(env.device.syncRequests.filter((r) => r.startsWith('SEND')).length - sendsBefore).toBe(3);
  });

  it('gives the same numbers one round trip per model', async () => {
    const shellsBefore = env.device.shellCommands.length;
    const oneByOne = await runner.measureOneByOne(env.serial, models.slice(0, 4), { cpuMask: '80', repeats: 2 });
    expect(oneByOne.shellSessions).toBe(8);
    expect(env.device.shellCommands.length - shellsBefore).toBe(8);
    expect(oneByOne.results.map((r) => r.latencyUs)).toEqual(models.slice(0, 4).map((m) => latencyOf(m.bytes)));
  });

  it('measures identical bytes once for all their keys and splits long batches into several sessions', async () => {
    const twins = [
      { key: 'a', bytes: fakeTfliteModel(2000, 'same') },
      { key: 'b', bytes: fakeTfliteModel(2000, 'same') },
    ];
    calls.length = 0;
    const result = await runner.measureBatch(env.serial, twins, { cpuMask: '80', repeats: 2 });
    expect(result.results.map((r) => r.key)).toEqual(['a', 'b']);
    expect(calls.length).toBe(2 * 2); // 2 repeats × (warm-up + timed) of one file
    const shellsBefore = env.device.shellCommands.length;
    const split = await runner.measureBatch(env.serial, models, { cpuMask: '80', maxScriptLength: 450 });
    const sessions = env.device.shellCommands.slice(shellsBefore);
    expect(split.shellSessions).toBeGreaterThan(1);
    expect(sessions).toHaveLength(split.shellSessions);
    // Each session's script (without the exit-status wrapper the bridge adds) respects the limit.
    for (const command of sessions) expect(command.replace(/^\(/, '').replace(/\n\); echo .*$/s, '').length).toBeLessThanOrEqual(450);
    expect(split.results).toHaveLength(10);
  });

  it('flags results whose repeats disagree', async () => {
    let call = 0;
    env.device.setExecuteModel(async (_bytes, { runs }) => Array(runs).fill(call++ % 4 < 2 ? 1000 : 3000));
    const result = await runner.measureBatch(env.serial, models.slice(0, 1), { cpuMask: '80', repeats: 2, maxRelativeStd: 0.2 });
    expect(result.results[0]?.repeatsUs).toEqual([1000, 3000]);
    expect(result.results[0]?.unstable).toBe(true);
  });

  it('reports a model whose run fails (rc≠0) and keeps the others', async () => {
    const broken = { key: 'broken', bytes: Buffer.from('this is not a flatbuffer') };
    const result = await runner.measureBatch(env.serial, [models[0]!, broken, models[1]!], { cpuMask: '80' });
    expect(result.results.map((r) => r.key)).toEqual([models[0]!.key, models[1]!.key]);
    expect(result.failures).toEqual([
      expect.objectContaining({ key: 'broken', reason: 'exit-status', exitCode: 1, message: expect.stringContaining('Could not open or parse model file') }),
    ]);
  });

  it('reports garbage output as a per-model BenchmarkOutputError quoting the output', async () => {
    env.device.setGarbageBenchmarkOutput(true);
    const result = await runner.measureBatch(env.serial, models.slice(0, 3), { cpuMask: '80' });
    expect(result.results).toEqual([]);
    expect(result.failures).toHaveLength(3);
    for (const failure of result.failures) {
      expect(failure.reason).toBe('bad-output');
      expect(failure.message).toContain('could not read benchmark_model output');
      expect(failure.message).toContain('Segmentation fault');
    }
  });

  it('an unplug mid-batch throws DeviceDisconnectedError and keeps the models finished before', async () => {
    env.device.unplugAfterOutput('__NETADAPT_END', 4);
    const progress: ProgressEvent[] = [];
    const error = await runner
      .measureBatch(env.serial, models, { cpuMask: '80', onProgress: (e) => progress.push(e) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchInterruptedError);
    expect(error).toBeInstanceOf(DeviceDisconnectedError);
    const partial = (error as BatchInterruptedError).partial;
    expect(partial.results.map((r) => r.key)).toEqual(models.slice(0, 4).map((m) => m.key));
    expect(partial.results.map((r) => r.latencyUs)).toEqual(models.slice(0, 4).map((m) => latencyOf(m.bytes)));
    // The models the disconnect kept from running are not failures of theirs: they are reported as not run.
    expect(partial.failures).toEqual([]);
    expect(partial.notRun).toEqual(models.slice(4).map((m) => m.key));
    expect(progress).toHaveLength(4);
  });

  it('an unplug during one-by-one runs is reported the same way', async () => {
    env.device.unplugAfterOutput('Running benchmark for at least 30', 3);
    const error = await runner.measureOneByOne(env.serial, models.slice(0, 5), { cpuMask: '80' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchInterruptedError);
    expect((error as BatchInterruptedError).partial.results).toHaveLength(2);
  });

  it('sleeps on the device between models when asked to cool down', async () => {
    const started = Date.now();
    await runner.measureBatch(env.serial, models.slice(0, 3), { cpuMask: '80', cooldownMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(env.device.shellCommands.at(-1)).toContain('sleep 0.100');
  });

  it('validates its inputs before touching the device', async () => {
    const before = env.device.services.length;
    await expect(runner.measureBatch(env.serial, [models[0]!, models[0]!])).rejects.toBeInstanceOf(ValidationError);
    await expect(runner.measureBatch(env.serial, [{ key: 'x' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(runner.measureBatch(env.serial, models, { cpuMask: 'f0; reboot' })).rejects.toBeInstanceOf(ValidationError);
    await expect(runner.measureBatch(env.serial, models, { numRuns: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(runner.measureBatch(env.serial, models, { repeats: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(env.device.services.length).toBe(before);
  });

  it('the default size-derived runtime gives larger models larger latencies', async () => {
    env.device.setExecuteModel(sizeDerivedExecuteModel);
    const result = await runner.measureBatch(env.serial, models, { cpuMask: '80', repeats: 1 });
    const latencies = result.results.map((r) => r.latencyUs);
    expect([...latencies].sort((a, b) => a - b)).toEqual(latencies);
  });
});
