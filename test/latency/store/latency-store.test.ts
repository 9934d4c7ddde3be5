import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError, ValidationError } from '../../../core/errors.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import type { Workspace } from '../../../core/store/workspace.ts';
import { LatencyStore, PartialWriteError } from '../../../latency/store/latency-store.ts';
import { median } from '../../../core/stats.ts';
import type { LatencyEntry } from '../../../latency/store/latency-store.ts';
import { CANONICAL_OPTIONS, OPTIONS, PIXEL_FINGERPRINT, entry, signature } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'netadapt-latency-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let workspace: Workspace;
let store: LatencyStore;
beforeEach(() => {
  workspace?.close();
  workspace = openWorkspace(':memory:');
  store = new LatencyStore(workspace);
});

describe('devices', () => {
  it('upserts, reads and lists devices with canonical fingerprints', () => {
    const first = store.upsertDevice('fp-pixel', JSON.stringify(PIXEL_FINGERPRINT), 'Pixel 1 (sailfish)', new Date('2025-01-01T00:00:00Z'));
    expect(first.fingerprint).toEqual(PIXEL_FINGERPRINT);
    expect(first.firstSeen).toBe('2025-01-01T00:00:00.000Z');
    // The same fingerprint with keys in another order is the same device; label and last-seen are refreshed.
    const reordered = Object.fromEntries(Object.entries(PIXEL_FINGERPRINT).reverse());
    const second = store.upsertDevice('fp-pixel', reordered, 'my Pixel', new Date('2025-02-01T00:00:00Z'));
    expect(second.fingerprintJson).toBe(first.fingerprintJson);
    expect(second.label).toBe('my Pixel');
    expect(second.firstSeen).toBe('2025-01-01T00:00:00.000Z');
    expect(second.lastSeen).toBe('2025-02-01T00:00:00.000Z');
    store.upsertDevice('host', { kind: 'host' }, 'host');
    expect(store.listDevices().map((d) => d.id).sort()).toEqual(['fp-pixel', 'host']);
    expect(store.getDevice('nope')).toBeUndefined();
  });

  it('refuses a different fingerprint under an existing id, and invalid fingerprints', () => {
    store.upsertDevice('fp-pixel', PIXEL_FINGERPRINT, 'Pixel');
    expect(() => store.upsertDevice('fp-pixel', { ...PIXEL_FINGERPRINT, model: 'Pixel 2' }, 'Pixel')).toThrow(/different fingerprint/);
    expect(store.getDevice('fp-pixel')?.fingerprint).toEqual(PIXEL_FINGERPRINT);
    expect(() => store.upsertDevice('x', '{not json', 'x')).toThrow(ValidationError);
    expect(() => store.upsertDevice('x', '[1,2]', 'x')).toThrow(/JSON object/);
    expect(() => store.upsertDevice('', {}, 'x')).toThrow(ValidationError);
  });
});

describe('entries', () => {
  beforeEach(() => {
    store.upsertDevice('A', { device: 'a' }, 'device A');
    store.upsertDevice('B', { device: 'b' }, 'device B');
  });

  it('round-trips an entry exactly, with canonical runtime options in any order', () => {
    const input = entry('A', 7, { flags: ['z-flag', 'high-std', 'high-std'] });
    store.putEntry(input);
    const got = store.getEntry('A', 'warmup=10;runs=50;mask=f0;threads=1', input.signature);
    expect(got).toEqual({
      ...input,
      runtimeOptions: CANONICAL_OPTIONS,
      flags: ['high-std', 'z-flag'],
    });
    expect(store.getEntry('A', 'threads=4;mask=f0;runs=50;warmup=10', input.signature)).toBeUndefined();
  });

  it('re-measuring the same key replaces the entry', () => {
    store.putEntry(entry('A', 1));
    store.putEntry(entry('A', 1, { meanUs: 99, medianUs: 99, maxUs: 100, minUs: 98 }));
    expect(store.getEntry('A', OPTIONS, signature(1))?.meanUs).toBe(99);
    expect(store.stats('A').total).toBe(1);
  });

  it('rejects invalid measurements with messages naming the field', () => {
    const bad: [Partial<Parameters<LatencyStore['putEntry']>[0]>, RegExp][] = [
      [{ meanUs: -1 }, /meanUs/],
      [{ meanUs: Number.NaN }, /meanUs/],
      [{ count: 0 }, /count/],
      [{ count: 2.5 }, /count/],
      [{ minUs: 50, maxUs: 40 }, /minUs/],
      [{ medianUs: 1e6 }, /medianUs .* outside/],
      [{ modelSha256: 'abc' }, /modelSha256/],
      [{ flags: ['High Std'] }, /flags/],
      [{ measuredAt: 'yesterday' }, /measuredAt/],
    ];
    for (const [override, message] of bad) {
      let error: unknown;
      try {
        store.putEntry(entry('A', 3, override));
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(override)).toBeInstanceOf(ValidationError);
      expect([(error as UserError).message, ...(error as UserError).details].join('\n')).toMatch(message);
    }
    expect(() => store.putEntry(entry('A', 3, { runtimeOptions: 'threads' }))).toThrow(/key=value/);
    expect(() => store.putEntry(entry('A', 3, { signature: 'bad\nsig' }))).toThrow(/control character/);
    expect(() => store.putEntry(entry('unknown-device', 3))).toThrow(/not in this workspace/);
    expect(store.stats('A').total).toBe(0);
  });

  it('putEntries commits entry by entry: a failure in the middle keeps the entries before it', () => {
    // Simulate the database failing on the 5th entry (a full disk, an I/O error, ...).
    workspace.db.exec(`CREATE TEMP TRIGGER fail_fifth BEFORE INSERT ON latency_entries
      WHEN NEW.signature = '${signature(4)}' BEGIN SELECT RAISE(ABORT, 'simulated I/O failure'); END`);
    const committed: string[] = [];
    let error: unknown;
    try {
      store.putEntries(
        Array.from({ length: 10 }, (_, i) => entry('A', i)),
        { onCommitted: (e) => committed.push(e.signature) },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PartialWriteError);
    expect((error as PartialWriteError).saved).toBe(4);
    expect((error as Error).message).toMatch(/entry 5\/10 .*simulated I\/O failure.*4 entries before it are saved/);
    expect(committed).toEqual([0, 1, 2, 3].map((i) => signature(i)));
    const present = store.getEntries('A', OPTIONS, Array.from({ length: 10 }, (_, i) => signature(i)));
    expect([...present.keys()].sort()).toEqual([0, 1, 2, 3].map((i) => signature(i)).sort());
  });

  it('putEntries stops at an invalid entry, keeping the valid ones before it', () => {
    const entries = [entry('A', 0), entry('A', 1), entry('A', 2, { stdUs: -3 }), entry('A', 3)];
    expect(() => store.putEntries(entries)).toThrow(PartialWriteError);
    expect(store.missingSignatures('A', OPTIONS, entries.map((e) => e.signature))).toEqual([signature(2), signature(3)]);
  });

  it('getEntries, missingSignatures and coverage handle thousands of signatures, duplicates and absent ones', () => {
    const count = 3000;
    for (let i = 0; i < count; i += 2) store.putEntry(entry('A', i));
    const asked = [...Array.from({ length: count }, (_, i) => signature(i)), signature(0), 'v1;op=conv;never=measured'];
    const found = store.getEntries('A', OPTIONS, asked);
    expect(found.size).toBe(count / 2);
    expect(found.get(signature(10))?.meanUs).toBe(entry('A', 10).meanUs);
    expect(found.has(signature(11))).toBe(false);
    const missing = store.missingSignatures('A', OPTIONS, asked);
    expect(missing).toHaveLength(count / 2 + 1);
    expect(missing[0]).toBe(signature(1));
    expect(missing.at(-1)).toBe('v1;op=conv;never=measured');
    expect(store.coverage('A', OPTIONS, asked)).toEqual({
      requested: count + 1,
      present: count / 2,
      missing: count / 2 + 1,
      fraction: count / 2 / (count + 1),
    });
    expect(store.coverage('A', OPTIONS, [])).toEqual({ requested: 0, present: 0, missing: 0, fraction: 1 });
  });

  it('isolates devices and runtime options: entries of A are never returned for B', () => {
    for (let i = 0; i < 20; i++) store.putEntry(entry('A', i));
    for (let i = 10; i < 30; i++) store.putEntry(entry('B', i, { meanUs: 1000 + i, medianUs: 1000 + i, minUs: 1000, maxUs: 2000 }));
    const all = Array.from({ length: 30 }, (_, i) => signature(i));
    const forB = store.getEntries('B', OPTIONS, all);
    expect([...forB.keys()].sort()).toEqual(all.slice(10).sort());
    for (const e of forB.values()) {
      expect(e.deviceId).toBe('B');
      expect(e.meanUs).toBeGreaterThanOrEqual(1000);
    }
    expect(store.missingSignatures('B', OPTIONS, all)).toEqual(all.slice(0, 10));
    expect(store.getEntry('B', OPTIONS, signature(0))).toBeUndefined();
    expect(store.getEntries('A', 'threads=4', all).size).toBe(0);
    expect(store.stats('A').total).toBe(20);
    expect(store.stats('B').total).toBe(20);
  });

  it('stats count entries by op and report the oldest and newest measurement', () => {
    store.putEntry(entry('A', 1));
    store.putEntry(entry('A', 2, { signature: signature(2, 'dwconv') }));
    store.putEntry(entry('A', 3, { signature: signature(3, 'dwconv') }));
    store.putEntry(entry('A', 5, { signature: 'opaque-without-op' }));
    store.putEntry(entry('A', 6, { runtimeOptions: 'threads=4' }));
    const stats = store.stats('A');
    expect(stats.total).toBe(5);
    expect(stats.byOp).toEqual({ conv: 2, dwconv: 2, unknown: 1 });
    expect(stats.flagged).toBe(1); // entry 5 carries high-std
    expect(stats.oldestMeasuredAt).toBe(entry('A', 1).measuredAt);
    expect(stats.newestMeasuredAt).toBe(entry('A', 6).measuredAt);
    expect(stats.byRuntimeOptions).toEqual([
      { runtimeOptions: CANONICAL_OPTIONS, count: 4 },
      { runtimeOptions: 'threads=4', count: 1 },
    ]);
    expect(store.stats('A', 'threads=4').total).toBe(1);
    expect(store.stats('B')).toMatchObject({ total: 0, byOp: {}, oldestMeasuredAt: null });
    expect(store.listTables('A').map((t) => [t.runtimeOptions, t.entries])).toEqual([
      [CANONICAL_OPTIONS, 4],
      ['threads=4', 1],
    ]);
  });

  it('entries persist in the file across re-opening', () => {
    const path = join(dir, 'persist.sqlite');
    const ws = openWorkspace(path);
    const fileStore = new LatencyStore(ws);
    fileStore.upsertDevice('A', { device: 'a' }, 'A');
    const written: LatencyEntry[] = [];
    for (let i = 0; i < 50; i++) written.push(fileStore.putEntry(entry('A', i)));
    ws.close();
    const reopened = openWorkspace(path);
    const again = new LatencyStore(reopened);
    expect(again.tableEntries('A', OPTIONS)).toEqual([...written].sort((a, b) => (a.signature < b.signature ? -1 : 1)));
    reopened.close();
  });
});

describe('per-model overhead', () => {
  beforeEach(() => {
    store.upsertDevice('A', { device: 'a' }, 'device A');
  });

  it('is the median of measured minus predicted, per table, and 0 without measurements', () => {
    expect(store.overheadUs('A', OPTIONS)).toBe(0);
    const residuals = [120, 80, 5000 /* a disturbed run */, 100, 95];
    residuals.forEach((r, i) =>
      store.putModelMeasurement({
        deviceId: 'A',
        runtimeOptions: OPTIONS,
        modelKey: `model-${i}`,
        predictedSumUs: 1000 + i * 100,
        measuredUs: 1000 + i * 100 + r,
        measuredAt: new Date(Date.UTC(2025, 0, 2, 0, i)),
      }),
    );
    expect(store.overheadEstimate('A', OPTIONS)).toEqual({ overheadUs: 100, samples: 5 });
    expect(store.overheadUs('A', 'threads=4')).toBe(0);
    // The same model at the same time again is not a new sample.
    store.putModelMeasurement({ deviceId: 'A', runtimeOptions: OPTIONS, modelKey: 'model-0', predictedSumUs: 1000, measuredUs: 1120, measuredAt: new Date(Date.UTC(2025, 0, 2, 0, 0)) });
    expect(store.modelMeasurements('A', OPTIONS)).toHaveLength(5);
    expect(() => store.putModelMeasurement({ deviceId: 'A', runtimeOptions: OPTIONS, modelKey: 'm', predictedSumUs: -1, measuredUs: 1 })).toThrow(ValidationError);
    expect(() => store.putModelMeasurement({ deviceId: 'Z', runtimeOptions: OPTIONS, modelKey: 'm', predictedSumUs: 1, measuredUs: 1 })).toThrow(UserError);
  });

  it('median handles even and odd counts', () => {
    expect(median([])).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([-5, 10])).toBe(2.5);
  });
});
