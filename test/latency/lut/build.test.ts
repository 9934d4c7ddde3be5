import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { enumerateLayerVariants, invokeOverheadSignature, networkSignatures, parseNetworkSpec, randomSubnet, resolveNetwork, searchSpace } from '../../../core/arch/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { LookupTableLatencyMetric } from '../../../core/metrics/index.ts';
import { Rng } from '../../../core/random.ts';
import { createHostProfiler } from '../../../latency/host/host-profiler.ts';
import { buildLatencyTable } from '../../../latency/lut/build.ts';
import { StoreLatencySource } from '../../../latency/lut/lazy-source.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { tinyLutNetwork } from './tiny-network.ts';

const spec = parseNetworkSpec(tinyLutNetwork);

function tempWorkspace(): string {
  return join(mkdtempSync(join(tmpdir(), 'lut-')), 'w.sqlite');
}

describe('latency table builder with the host profiler', () => {
  it('measures every distinct layer once (plus invocation-overhead entries), and a second run measures nothing', async () => {
    const path = tempWorkspace();
    const workspace = openWorkspace(path);
    const store = new LatencyStore(workspace);
    const profiler = await createHostProfiler({ numRuns: 5, warmupRuns: 1, repeats: 1 });
    const progress: number[] = [];
    const first = await buildLatencyTable({ spec, profiler, store, onProgress: (p) => progress.push(p.done) });
    const layers = enumerateLayerVariants(spec);
    const expected = new Set([...layers.keys(), ...[...layers.keys()].map(invokeOverheadSignature)]);
    expect(first.total).toBe(expected.size);
    expect(first.measured).toBe(expected.size);
    expect(first.failed).toEqual([]);
    expect(progress[progress.length - 1]).toBe(expected.size);
    const entries = store.tableEntries(profiler.deviceId, profiler.runtimeOptions);
    expect(new Set(entries.map((e) => e.signature))).toEqual(expected);
    for (const e of entries) {
      expect(e.meanUs).toBeGreaterThan(0);
      expect(e.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const second = await buildLatencyTable({ spec, profiler, store });
    expect(second.measured).toBe(0);
    expect(second.alreadyPresent).toBe(expected.size);
    workspace.close();
  });

  it('resumes after kill -9 of `netadapt lut build` with no entry lost or duplicated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lut-kill-'));
    const networkFile = join(dir, 'tiny.json');
    writeFileSync(networkFile, JSON.stringify(tinyLutNetwork));
    const workspacePath = join(dir, 'w.sqlite');
    const args = ['--import', 'tsx', 'app/cli/main.ts', 'lut', 'build', '--network', networkFile, '--device', 'host', '--runs', '20', '--warmup', '2', '--batch', '4', '--workspace', workspacePath];
    const countEntries = () => {
      try {
        const db = new Database(workspacePath, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT COUNT(*) AS n FROM latency_entries').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0;
      }
    };
    const child = spawn('node', args, { stdio: 'ignore' });
    let before = 0;
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 50));
      before = countEntries();
      if (before >= 8) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    before = countEntries();
    const layers = enumerateLayerVariants(spec);
    const total = new Set([...layers.keys(), ...[...layers.keys()].map(invokeOverheadSignature)]).size;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(total);

    const resumed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('node', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += String(d)));
      c.once('exit', (code) => resolve({ code, out }));
    });
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain(`${before} were already measured, ${total - before} measured now`);
    const db = new Database(workspacePath, { readonly: true });
    expect((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check).toBe('ok');
    const rows = db.prepare('SELECT signature, COUNT(*) AS n FROM latency_entries GROUP BY signature, device_id, runtime_options').all() as { n: number }[];
    db.close();
    expect(rows).toHaveLength(total);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });
});

describe('lazy profiling through the latency metric', () => {
  it('profiles the missing entries of a whole batch of sub-networks in one go, then answers from the table', async () => {
    const workspace = openWorkspace(tempWorkspace());
    const store = new LatencyStore(workspace);
    const profiler = await createHostProfiler({ numRuns: 5, warmupRuns: 1, repeats: 1 });
    let measuredBatches = 0;
    const counting = { ...profiler, measure: (...args: Parameters<typeof profiler.measure>) => { measuredBatches++; return profiler.measure(...args); } };
    const source = new StoreLatencySource({ spec, store, deviceId: profiler.deviceId, runtimeOptions: profiler.runtimeOptions, profiler: counting });
    const metric = new LookupTableLatencyMetric(spec, source);
    const rng = new Rng(3);
    const configs = Array.from({ length: 12 }, () => randomSubnet(searchSpace(spec), rng));
    const latencies = await metric.measure(configs);
    expect(measuredBatches).toBe(1);
    expect(latencies.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    const needed = new Set(configs.flatMap((c) => networkSignatures(resolveNetwork(spec, c).layers)));
    expect(source.missing([...needed])).toEqual([]);
    const again = await metric.measure(configs);
    expect(again).toEqual(latencies);
    expect(measuredBatches).toBe(1);
    // A read-only source for another device cannot invent numbers.
    const readOnly = new StoreLatencySource({ spec, store, deviceId: 'another-device', runtimeOptions: profiler.runtimeOptions });
    await expect(new LookupTableLatencyMetric(spec, readOnly).measure(configs.slice(0, 1))).rejects.toThrow(/no latency entry|have no/);
    workspace.close();
  });
});
