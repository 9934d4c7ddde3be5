// Several phones at once through one real adb server: one table per fingerprint built in parallel, identical
// phones sharing one table's entries, and `netadapt lut build --device A,B` / `lut show` end to end.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enumerateLayerVariants, invokeOverheadSignature, parseNetworkSpec } from '../../../core/arch/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { createAndroidProfiler } from '../../../latency/android/android-profiler.ts';
import { buildLatencyTables } from '../../../latency/lut/build.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { adbBinary, adbSkipReason, PrivateAdbServer } from '../android/adb-harness.ts';
import { EmulatedAdbDevice, sizeDerivedExecuteModel } from '../android/emulated/adbd.ts';
import type { EmulatedDeviceOptions, ExecuteModel } from '../android/emulated/adbd.ts';
import { tinyLutNetwork } from './tiny-network.ts';

if (!adbBinary) console.warn(`android-multi-device.test.ts: ${adbSkipReason}`);

const spec = parseNetworkSpec(tinyLutNetwork);
const layers = enumerateLayerVariants(spec);
const TOTAL = new Set([...layers.keys(), ...[...layers.keys()].map(invokeOverheadSignature)]).size;
/** A phone takes its time: each benchmark phase sleeps, so what the host does concurrently shows in wall time. */
const PHASE_MS = 20;

describe.skipIf(!adbBinary)('several emulated phones over one adb server', () => {
  let server: PrivateAdbServer;
  const phones: EmulatedAdbDevice[] = [];
  const runs = new Map<EmulatedAdbDevice, number>();
  const scratch = mkdtempSync(join(tmpdir(), 'netadapt-multi-'));

  async function phone(options: EmulatedDeviceOptions): Promise<EmulatedAdbDevice> {
    const device = await EmulatedAdbDevice.start(options);
    const slow: ExecuteModel = async (bytes, executeOptions) => {
      runs.set(device, (runs.get(device) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, PHASE_MS));
      return sizeDerivedExecuteModel(bytes, executeOptions);
    };
    device.setExecuteModel(slow);
    phones.push(device);
    await server.connect(device.serial);
    return device;
  }

  const profiler = (device: EmulatedAdbDevice) => createAndroidProfiler({ serial: device.serial, adbPort: server.adbPort, numRuns: 3, warmupRuns: 1 });
  const forgetModels = (): void => {
    for (const device of phones) if (device.fs.stat('/data/local/tmp/netadapt')) device.fs.remove('/data/local/tmp/netadapt', { recursive: true });
  };

  beforeAll(async () => {
    server = await PrivateAdbServer.start();
  });

  afterAll(async () => {
    await server?.stop();
    for (const device of phones) await device.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('two phones with different fingerprints build two tables in parallel, in ≤ 0.7× the time of one after the other', async () => {
    const a = await phone({ model: 'Phone A', device: 'phonea' });
    const b = await phone({ model: 'Phone B', device: 'phoneb', coreMaxFreqKHz: [1800000, 1800000, 2400000, 2400000] });
    const [pa, pb] = [await profiler(a), await profiler(b)];
    expect(pa.deviceId).not.toBe(pb.deviceId);

    const time = async (build: (store: LatencyStore) => Promise<unknown>): Promise<{ ms: number; store: LatencyStore }> => {
      forgetModels();
      const store = new LatencyStore(openWorkspace(':memory:'));
      const started = performance.now();
      await build(store);
      return { ms: performance.now() - started, store };
    };
    const common = { spec, batchSize: 8 };
    const sequential = await time(async (store) => {
      await buildLatencyTables({ ...common, store, profilers: [pa] });
      await buildLatencyTables({ ...common, store, profilers: [pb] });
    });
    const parallel = await time((store) => buildLatencyTables({ ...common, store, profilers: [pa, pb] }));
    const ratio = parallel.ms / sequential.ms;
    console.log(`two phones, ${TOTAL} entries each: one after the other ${sequential.ms.toFixed(0)} ms, in parallel ${parallel.ms.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);
    expect(ratio).toBeLessThanOrEqual(0.7);
    for (const { store } of [sequential, parallel]) {
      expect(store.listTables().map((t) => [t.deviceId, t.entries]).sort()).toEqual([[pa.deviceId, TOTAL], [pb.deviceId, TOTAL]].sort());
    }
  }, 60_000);

  it('two identical phones split one table\'s entries; when one is lost the other measures the rest', async () => {
    const twin1 = await phone({});
    const twin2 = await phone({});
    const [p1, p2] = [await profiler(twin1), await profiler(twin2)];
    expect(p1.deviceId).toBe(p2.deviceId);
    const store = new LatencyStore(openWorkspace(':memory:'));
    runs.set(twin1, 0).set(twin2, 0);
    const [result] = await buildLatencyTables({ spec, store, profilers: [p1, p2], batchSize: 4 });
    expect(result).toMatchObject({ total: TOTAL, measured: TOTAL, failed: [], notRun: 0, interruptions: [] });
    expect(result?.devices).toEqual([p1.label, p2.label]);
    // Each phone ran about half of the models (two phases per model).
    const [n1, n2] = [(runs.get(twin1) ?? 0) / 2, (runs.get(twin2) ?? 0) / 2];
    expect(n1 + n2).toBe(TOTAL);
    expect(Math.min(n1, n2)).toBeGreaterThanOrEqual(TOTAL / 4);
    expect(store.tableEntries(p1.deviceId, p1.runtimeOptions)).toHaveLength(TOTAL);

    // The second twin is unplugged for good after its 3rd model: the first one takes over what it had left.
    const fresh = new LatencyStore(openWorkspace(':memory:'));
    twin2.unplugAfterOutput('__NETADAPT_END', 3, { replug: false });
    const [rescued] = await buildLatencyTables({ spec, store: fresh, profilers: [p1, p2], batchSize: 4 });
    expect(rescued).toMatchObject({ measured: TOTAL, failed: [], notRun: 0 });
    expect(rescued?.interruptions).toEqual([expect.stringMatching(new RegExp(`^${escape(p2.label)} failed while measuring entry \\d+/${TOTAL}: .*disconnected`))]);
    expect(fresh.tableEntries(p1.deviceId, p1.runtimeOptions)).toHaveLength(TOTAL);
    twin2.replug();
  }, 60_000);

  it('`netadapt lut build --device A,B` builds both tables and accounts for every entry; `lut show` lists the failures', async () => {
    const [a, b] = phones as [EmulatedAdbDevice, EmulatedAdbDevice];
    a.cutBenchmarkOutputEvery(7);
    const networkFile = join(scratch, 'tiny.json');
    writeFileSync(networkFile, JSON.stringify(tinyLutNetwork));
    const workspace = join(scratch, 'cli.sqlite');
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', ...args, '--workspace', workspace], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
        child.once('exit', (code) => resolve({ code, out }));
      });
    const device = `${a.serial},${b.serial}`;
    const build = await cli(['lut', 'build', '--network', networkFile, '--device', device, '--adb-port', String(server.adbPort), '--runs', '3', '--warmup', '1', '--batch', '8']);
    a.cutBenchmarkOutputEvery(0);
    const failedOnA = Math.floor(TOTAL / 7);
    expect(build.out).toContain(`Phone A (${a.serial}) [delegate=xnnpack;mask=80;runs=3;threads=1;warmup=1]: ${TOTAL} entries (layers and their invocation-overhead entries): 0 were already measured, ${TOTAL - failedOnA} measured now, ${failedOnA} failed`);
    expect(build.out).toContain(`Phone B (${b.serial}) [delegate=xnnpack;mask=c;runs=3;threads=1;warmup=1]: ${TOTAL} entries (layers and their invocation-overhead entries): 0 were already measured, ${TOTAL} measured now, 0 failed`);
    expect(build.out).toMatch(/failed \(cut-off\): v\d+;op=/);
    expect(build.code, build.out).toBe(1);

    const show = await cli(['lut', 'show']);
    expect(show.code, show.out).toBe(0);
    expect(show.out).toContain(`${failedOnA} failed entries (skipped by builds unless --retry-failed):`);
    expect(show.out).toMatch(/ {4}cut-off \(1×, .*\): v\d+;op=.*: benchmark_model's output ended in the middle of a line/);

    const rerun = await cli(['lut', 'build', '--network', networkFile, '--device', device, '--adb-port', String(server.adbPort), '--runs', '3', '--warmup', '1', '--retry-failed']);
    expect(rerun.code, rerun.out).toBe(0);
    expect(rerun.out).toContain(`${TOTAL - failedOnA} were already measured, ${failedOnA} measured now, 0 failed`);
  }, 90_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
