// End-to-end latency-table builds through adbkit → a real adb server → the emulated phone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enumerateLayerVariants, invokeOverheadSignature, parseNetworkSpec } from '../../../core/arch/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { createAndroidProfiler } from '../../../latency/android/android-profiler.ts';
import { buildLatencyTable } from '../../../latency/lut/build.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { adbBinary, adbSkipReason, AdbTestEnvironment } from '../android/adb-harness.ts';
import { EmulatedAdbDevice, sizeDerivedExecuteModel } from '../android/emulated/adbd.ts';
import type { ExecuteModel } from '../android/emulated/adbd.ts';
import { CHILD_RUNS, CHILD_WARMUP } from './android-lut-build.ts';
import { tinyLutNetwork } from './tiny-network.ts';

if (!adbBinary) console.warn(`android-lut.test.ts: ${adbSkipReason}`);

const spec = parseNetworkSpec(tinyLutNetwork);
const layers = enumerateLayerVariants(spec);
const expectedSignatures = new Set([...layers.keys(), ...[...layers.keys()].map(invokeOverheadSignature)]);

interface DbSummary {
  count: number;
  distinct: number;
  maxPerKey: number;
  integrity: string;
}

function summarize(path: string): DbSummary {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const count = (db.prepare('SELECT COUNT(*) AS n FROM latency_entries').get() as { n: number }).n;
    const distinct = (db.prepare('SELECT COUNT(DISTINCT signature) AS n FROM latency_entries').get() as { n: number }).n;
    const maxPerKey =
      (db.prepare('SELECT MAX(n) AS m FROM (SELECT COUNT(*) AS n FROM latency_entries GROUP BY device_id, runtime_options, signature)').get() as { m: number | null }).m ?? 0;
    const integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    return { count, distinct, maxPerKey, integrity };
  } finally {
    db.close();
  }
}

function countEntries(path: string): number {
  try {
    return summarize(path).count;
  } catch {
    return 0; // not created yet, or busy
  }
}

describe.skipIf(!adbBinary)('latency-table build on an emulated phone over adb', () => {
  let env: AdbTestEnvironment;
  let scratch: string;
  const extraDevices: EmulatedAdbDevice[] = [];

  beforeAll(async () => {
    env = await AdbTestEnvironment.start();
    scratch = mkdtempSync(join(tmpdir(), 'android-lut-'));
  });

  afterAll(async () => {
    await env?.stop();
    for (const device of extraDevices) await device.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('keeps the entries measured before an unplug and completes after a re-plug and on a new device instance', async () => {
    const path = join(scratch, 'unplug.sqlite');
    const workspace = openWorkspace(path);
    try {
      const store = new LatencyStore(workspace);
      const options = { adbPort: env.adbPort, numRuns: 3, warmupRuns: 1 };
      const profiler = await createAndroidProfiler({ ...options, serial: env.serial });

      // One full batch of 8, then the cable is pulled after the 2nd model of the next batch.
      env.device.unplugAfterOutput('__NETADAPT_END', 10);
      await expect(buildLatencyTable({ spec, profiler, store, batchSize: 8 })).rejects.toThrow(/10 entries are saved — run the same command again to resume/);
      expect(store.tableEntries(profiler.deviceId, profiler.runtimeOptions)).toHaveLength(10);

      // Re-plug the same phone; it is pulled again (for good) after 5 more models.
      await env.connect();
      const replugged = await createAndroidProfiler({ ...options, serial: env.serial });
      expect(replugged.deviceId).toBe(profiler.deviceId);
      env.device.unplugAfterOutput('__NETADAPT_END', 5, { replug: false });
      await expect(buildLatencyTable({ spec, profiler: replugged, store, batchSize: 8 })).rejects.toThrow(/disconnected.*15 entries are saved/s);
      expect(store.tableEntries(profiler.deviceId, profiler.runtimeOptions)).toHaveLength(15);

      // The same phone model on another port (a new device instance): same fingerprint, so the build resumes.
      const twin = await EmulatedAdbDevice.start();
      extraDevices.push(twin);
      await env.server.connect(twin.serial);
      const twinProfiler = await createAndroidProfiler({ ...options, serial: twin.serial });
      expect(twinProfiler.deviceId).toBe(profiler.deviceId);
      const result = await buildLatencyTable({ spec, profiler: twinProfiler, store, batchSize: 8 });
      expect(result).toMatchObject({ total: expectedSignatures.size, alreadyPresent: 15, measured: expectedSignatures.size - 15, failed: [] });

      const entries = store.tableEntries(profiler.deviceId, profiler.runtimeOptions);
      expect(new Set(entries.map((e) => e.signature))).toEqual(expectedSignatures);
      for (const entry of entries) {
        expect(entry.meanUs).toBeGreaterThan(0);
        expect(entry.count).toBe(3);
        expect(entry.modelSha256).toMatch(/^[0-9a-f]{64}$/);
      }
    } finally {
      workspace.close();
    }
    const summary = summarize(path);
    expect(summary).toEqual({ count: expectedSignatures.size, distinct: expectedSignatures.size, maxPerKey: 1, integrity: 'ok' });
    // Bring the original phone back for the next test.
    env.device.replug();
    await env.connect();
  });

  it('resumes after kill -9 of a build process; `netadapt lut build --device SERIAL --adb-port PORT` completes it', async () => {
    const path = join(scratch, 'kill9.sqlite');
    // Slow the phone down so the build is still running when it is killed.
    const slow: ExecuteModel = async (bytes, options) => {
      await new Promise((resolve) => setTimeout(resolve, 25));
      return sizeDerivedExecuteModel(bytes, options);
    };
    env.device.setExecuteModel(slow);
    const script = join('test', 'latency', 'lut', 'android-lut-build.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--adb-port', String(env.adbPort), '--serial', env.serial, '--workspace', path, '--batch', '4'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let childErrors = '';
    child.stderr.on('data', (chunk: Buffer) => (childErrors += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let before = 0;
    for (let i = 0; i < 600 && before < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      before = countEntries(path);
      if (child.exitCode !== null) break;
    }
    child.kill('SIGKILL');
    const code = await exited;
    expect(code, childErrors).toBeNull(); // killed, not finished or crashed
    before = countEntries(path);
    expect(before).toBeGreaterThanOrEqual(12);
    expect(before).toBeLessThan(expectedSignatures.size);
    env.device.setExecuteModel(sizeDerivedExecuteModel);

    const networkFile = join(scratch, 'tiny.json');
    writeFileSync(networkFile, JSON.stringify(tinyLutNetwork));
    const cli = ['--import', 'tsx', 'app/cli/main.ts', 'lut', 'build', '--network', networkFile, '--device', env.serial, '--adb-port', String(env.adbPort)];
    const rest = ['--runs', String(CHILD_RUNS), '--warmup', String(CHILD_WARMUP), '--batch', '16', '--workspace', path];
    const resumed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [...cli, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      c.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
      c.once('exit', (exitCode) => resolve({ code: exitCode, out }));
    });
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toContain(`${before} were already measured, ${expectedSignatures.size - before} measured now, 0 failed`);
    expect(resumed.out).toContain(`NetAdapt Emulated Phone (${env.serial})`);
    expect(summarize(path)).toEqual({ count: expectedSignatures.size, distinct: expectedSignatures.size, maxPerKey: 1, integrity: 'ok' });
  });
});
