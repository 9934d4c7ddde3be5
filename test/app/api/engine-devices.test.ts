/** The default engine against an emulated phone behind a private adb server (skipped when adb is not installed). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultEngine } from '../../../app/api/engine-default.ts';
import type { Engine, JobContext } from '../../../app/api/engine.ts';
import type { EngineEvent } from '../../../app/api/contract/types.ts';
import { loadNetwork } from '../../../core/arch/index.ts';
import { AdbTestEnvironment, adbBinary, adbSkipReason } from '../../latency/android/adb-harness.ts';
import { BENCHMARK_TOOL_PATH } from '../../latency/android/emulated/adbd.ts';
import { fakeElfBinary } from '../../latency/fake-models.ts';

if (!adbBinary) console.log(adbSkipReason);

function jobContext(events: EngineEvent[] = []): JobContext {
  return { jobId: 'test', signal: new AbortController().signal, emit: (event) => events.push(event) };
}

describe.skipIf(!adbBinary)('default engine with an emulated phone', () => {
  let env: AdbTestEnvironment;
  let engine: Engine;
  const dir = mkdtempSync(join(tmpdir(), 'netadapt-api-devices-'));

  beforeAll(async () => {
    env = await AdbTestEnvironment.start({ model: 'Emulated Pixel', withBenchmarkTool: false });
    engine = createDefaultEngine({ workspacePath: ':memory:', adbPort: env.adbPort, adbBin: env.adb });
  }, 60_000);

  afterAll(async () => {
    await engine?.dispose();
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the phone with its fingerprint and a missing benchmark tool; deviceSetup installs the tool', async () => {
    const before = (await engine.listDevices()).devices.find((d) => d.id === env.serial);
    expect(before).toMatchObject({ kind: 'android', state: 'ready', benchmarkTool: 'missing' });
    expect(before?.fingerprintHash).toMatch(/^[0-9a-f]{12}$/);
    expect(before?.description).toContain('Emulated Pixel');

    await expect(engine.deviceSetup({ deviceId: env.serial, force: false }, jobContext())).rejects.toThrow(/toolPath/);

    const binary = join(dir, 'benchmark_model');
    writeFileSync(binary, fakeElfBinary('api'));
    const events: EngineEvent[] = [];
    const details = await engine.deviceSetup({ deviceId: env.serial, force: false, toolPath: binary }, jobContext(events));
    expect(details.benchmarkTool).toBe('ready');
    // With the tool there, the listing tells which delegates work (the emulated phone has a GPU, no NNAPI driver).
    expect(details.delegates).toEqual(['xnnpack', 'cpu', 'gpu']);
    expect(details.delegateProblems).toEqual([expect.stringMatching(/^nnapi: the NNAPI delegate is not available on this phone: NNAPI acceleration is unsupported/)]);
    expect(before?.delegates).toBeUndefined();
    expect(env.device.fs.stat(BENCHMARK_TOOL_PATH)?.perm).toBe(0o755);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'progress', done: 1, total: 1 }));
    // The fingerprint includes the tool's hash: installing it changes the fingerprint.
    expect(details.fingerprintHash).not.toBe(before?.fingerprintHash);
  }, 60_000);

  it('builds a tiny latency table on the phone through the API (android profiler), then validates it', async () => {
    const spec = loadNetwork('mobilenet-v2-32');
    const params = {
      network: 'mobilenet-v2-32',
      deviceId: env.serial,
      runtime: { threads: 1, cores: [], delegate: 'xnnpack' as const, dtype: 'float32' as const },
      runs: 2,
      warmupRuns: 0,
      resume: true,
      retryFailed: false,
      levels: [spec.widthLevels - 1],
      kernels: [3],
    };
    const events: EngineEvent[] = [];
    const first = await engine.buildLatencyTable(params, jobContext(events));
    expect(first.build?.measured).toBe(first.build?.total);
    expect(first.build?.failed).toBe(0);
    expect(events.filter((e) => e.kind === 'progress').at(-1)).toMatchObject({ done: first.build?.total, total: first.build?.total });
    const again = await engine.buildLatencyTable(params, jobContext());
    expect(again.build).toMatchObject({ measured: 0, alreadyPresent: first.build?.total });
    const validation = await engine.validateLatencyTable(
      { network: 'mobilenet-v2-32', deviceId: env.serial, samples: 2, seed: 1, runtime: params.runtime, runs: 2, warmupRuns: 0 },
      jobContext(),
    );
    expect(validation.pairs).toHaveLength(2);
    expect(validation.pairs?.every((p) => p.measuredUs > 0)).toBe(true);
  }, 90_000);

  it('reports a benchmark tool that is not executable as missing', async () => {
    env.device.fs.chmod(BENCHMARK_TOOL_PATH, 0o644);
    const device = (await engine.listDevices()).devices.find((d) => d.id === env.serial);
    expect(device?.benchmarkTool).toBe('missing');
    env.device.fs.chmod(BENCHMARK_TOOL_PATH, 0o755);
  }, 30_000);
});
