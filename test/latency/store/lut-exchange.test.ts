import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileFormatError, UserError, ValidationError } from '../../../core/errors.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import type { Workspace } from '../../../core/store/workspace.ts';
import { csvLine, parseCsv } from '../../../latency/store/csv.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { CSV_COLUMNS, lutToCsv, lutToJson, parseLutText } from '../../../latency/store/lut-format.ts';
import type { LutFile } from '../../../latency/store/lut-format.ts';
import { OPTIONS, PIXEL_FINGERPRINT, entry, signature } from './fixtures.ts';

let workspace: Workspace;
let store: LatencyStore;
beforeEach(() => {
  workspace?.close();
  workspace = openWorkspace(':memory:');
  store = new LatencyStore(workspace);
});

/** A second, empty workspace to import into. */
function freshStore(): LatencyStore {
  return new LatencyStore(openWorkspace(':memory:'));
}

function populate(target: LatencyStore, entries = 40): void {
  // A label and fingerprint with every character CSV must quote.
  target.upsertDevice('fp-1', { ...PIXEL_FINGERPRINT, note: 'quote " comma , semicolon ; newline \n end' }, 'Pixel 1 "sailfish", lab; desk 3');
  for (let i = 0; i < entries; i++) {
    // Awkward doubles: a CSV/JSON round trip must keep every bit.
    const mean = 0.1 + 0.2 + i / 3 + 1e-7 * i;
    target.putEntry(entry('fp-1', i, { meanUs: mean, medianUs: mean, minUs: mean - 0.3, maxUs: mean + 1 / 7, modelSha256: i % 3 === 0 ? null : 'ab'.repeat(32) }));
  }
  target.putEntry(entry('fp-1', 1, { runtimeOptions: 'threads=4;mask=0f' }));
  target.putModelMeasurement({ deviceId: 'fp-1', runtimeOptions: OPTIONS, modelKey: 'subnet-abc', measuredUs: 2500.5, predictedSumUs: 2400.25, measuredAt: new Date('2025-03-04T05:06:07.089Z') });
}

describe('export / import round trip', () => {
  it('JSON round trip is lossless (entries, device and model measurements)', () => {
    populate(store);
    const exported = store.exportTable('fp-1');
    expect(exported.format).toBe('netadapt-lut');
    expect(exported.version).toBe(1);
    expect(exported.entries).toHaveLength(41);
    const target = freshStore();
    const report = target.importTable(lutToJson(exported));
    expect(report).toMatchObject({ deviceId: 'fp-1', deviceCreated: true, inserted: 41, skipped: 0, conflicts: 0, modelMeasurementsInserted: 1 });
    expect(target.exportTable('fp-1')).toEqual(exported);
    expect(target.getDevice('fp-1')?.fingerprintJson).toBe(store.getDevice('fp-1')?.fingerprintJson);
    expect(target.overheadUs('fp-1', OPTIONS)).toBe(100.25);
  });

  it('CSV round trip is lossless for entries and the device', () => {
    populate(store);
    const csv = store.exportTableCsv('fp-1');
    const target = freshStore();
    expect(target.importTable(csv).inserted).toBe(41);
    const { modelMeasurements: _m, ...original } = store.exportTable('fp-1');
    const { modelMeasurements: _n, ...copy } = target.exportTable('fp-1');
    expect(copy).toEqual(original);
    expect(target.exportTableCsv('fp-1')).toBe(csv);
    // Re-importing the same file changes nothing.
    expect(target.importTable(csv)).toMatchObject({ inserted: 0, skipped: 41, conflicts: 0 });
  });

  it('exports one table when runtime options are given', () => {
    populate(store);
    const only = store.exportTable('fp-1', 'mask=0f;threads=4');
    expect(only.entries.map((e) => e.signature)).toEqual([signature(1)]);
    expect(only.modelMeasurements).toEqual([]);
    expect(() => store.exportTable('no-such-device')).toThrow(UserError);
  });

  it('CSV quotes text fields, so signatures with ; and = stay one field', () => {
    populate(store, 2);
    const csv = store.exportTableCsv('fp-1');
    const [header, ...rows] = parseCsv(csv);
    expect(header?.cells).toEqual([...CSV_COLUMNS]);
    expect(rows.map((r) => r.cells.length)).toEqual([13, 13, 13].map(() => CSV_COLUMNS.length));
    expect(rows.map((r) => r.cells[CSV_COLUMNS.indexOf('signature')]).sort()).toEqual([signature(0), signature(1), signature(1)].sort());
    expect(csv).toContain(`"${signature(0)}"`);
  });

  it('CSV writer and parser agree on any text (property test)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(fc.string(), fc.constantFrom('"', ',', '\n', '\r\n', ';', '=', '""'))), { minLength: 1, maxLength: 5 }), (rows) => {
        const nonBlank = rows.filter((r) => r.length > 0 && !(r.length === 1 && r[0] === ''));
        const text = nonBlank.map((r) => csvLine(r)).join('\r\n');
        expect(parseCsv(text).map((r) => r.cells)).toEqual(nonBlank);
      }),
      { numRuns: 300 },
    );
  });
});

describe('import conflicts and devices', () => {
  it('keeps existing different entries unless overwrite, and reports the counts', () => {
    populate(store, 10);
    const file = store.exportTable('fp-1');
    const target = freshStore();
    target.importTable(file);
    // Change two entries in the target, remove one.
    target.putEntry(entry('fp-1', 2, { meanUs: 50, medianUs: 50, minUs: 40, maxUs: 60 }));
    target.putEntry(entry('fp-1', 3, { flags: ['re-measured'] }));
    target.workspace.db.prepare('DELETE FROM latency_entries WHERE signature = ?').run(signature(4));
    const kept = target.importTable(file);
    expect(kept).toMatchObject({ inserted: 1, skipped: 8, conflicts: 2, overwritten: 0 });
    expect([...kept.conflictExamples].sort()).toEqual([signature(2), signature(3)].sort());
    expect(target.getEntry('fp-1', OPTIONS, signature(2))?.meanUs).toBe(50);
    const replaced = target.importTable(file, { overwrite: true });
    expect(replaced).toMatchObject({ inserted: 0, skipped: 9, conflicts: 2, overwritten: 2 });
    expect(target.exportTable('fp-1').entries).toEqual(file.entries);
  });

  it('refuses to merge a file into a device with the same id but a different fingerprint', () => {
    populate(store, 3);
    const target = freshStore();
    target.upsertDevice('fp-1', { model: 'something else' }, 'other');
    let error: unknown;
    try {
      target.importTable(store.exportTableCsv('fp-1'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/different fingerprint/);
    expect((error as UserError).details.join('\n')).toMatch(/model: workspace "something else", other "Pixel"/);
    expect(target.stats('fp-1').total).toBe(0);
  });

  it('never mixes devices: importing device B leaves device A untouched', () => {
    populate(store, 5);
    const otherSource = freshStore();
    otherSource.upsertDevice('fp-2', { model: 'Galaxy' }, 'Galaxy');
    for (let i = 0; i < 5; i++) otherSource.putEntry(entry('fp-2', i, { meanUs: 777, medianUs: 777, minUs: 700, maxUs: 800 }));
    const before = store.exportTable('fp-1');
    expect(store.importTable(otherSource.exportTable('fp-2'))).toMatchObject({ deviceCreated: true, inserted: 5 });
    expect(store.exportTable('fp-1')).toEqual(before);
    expect([...store.getEntries('fp-1', OPTIONS, [signature(0)]).values()][0]?.meanUs).not.toBe(777);
  });
});

describe('import of bad files', () => {
  function goodJson(): LutFile {
    populate(store, 3);
    return store.exportTable('fp-1');
  }

  function importError(text: string | object): UserError {
    try {
      freshStore().importTable(text);
    } catch (error) {
      if (error instanceof UserError) return error;
      throw error;
    }
    throw new Error('expected the import to fail');
  }

  it('names the entry and field of an invalid JSON value and imports nothing', () => {
    const file = goodJson();
    const broken = JSON.parse(JSON.stringify(file)) as { entries: Record<string, unknown>[] };
    (broken.entries[1] as Record<string, unknown>).meanUs = 'fast';
    (broken.entries[2] as Record<string, unknown>).count = -1;
    const target = freshStore();
    expect(() => target.importTable(JSON.stringify(broken))).toThrow(ValidationError);
    const error = importError(JSON.stringify(broken));
    const text = [error.message, ...error.details].join('\n');
    expect(text).toMatch(/entries\[1\]\.meanUs/);
    expect(text).toMatch(/entries\[2\]\.count/);
    expect(text).toContain(file.entries[1]?.signature);
    expect(target.listDevices()).toEqual([]);
  });

  it('rejects other formats, newer versions, broken JSON, unknown fields and duplicates', () => {
    const file = goodJson();
    expect(importError({ ...file, format: 'something-else' })).toBeInstanceOf(FileFormatError);
    expect(importError({ ...file, version: 2 }).message).toMatch(/newer NetAdapt Studio/);
    expect(importError('{"format": "netadapt-lut", ').message).toMatch(/not valid JSON/);
    expect(importError({ ...file, device: { id: 'x', label: 'x' } }).details.join('\n')).toMatch(/device\.fingerprint/);
    const withExtra = { ...file, entries: [{ ...file.entries[0], meanMs: 3 }] };
    expect(importError(withExtra).details.join('\n')).toMatch(/meanMs/);
    const duplicated = { ...file, entries: [file.entries[0], file.entries[0]] };
    expect(importError(duplicated).details.join('\n')).toMatch(/appears twice/);
  });

  it('names the CSV line and column of a bad value', () => {
    populate(store, 4);
    const lines = store.exportTableCsv('fp-1').split('\r\n');
    // Line 3 of the file is the second entry; break its mean_us.
    const cells = parseCsv(lines[2] as string)[0]?.cells as string[];
    cells[CSV_COLUMNS.indexOf('mean_us')] = 'twelve';
    lines[2] = csvLine(cells);
    const error = importError(lines.join('\r\n'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details.join('\n')).toMatch(/line 3, column mean_us/);
  });

  it('rejects CSV files with missing columns, broken quoting, mixed devices or no rows', () => {
    populate(store, 3);
    const csv = store.exportTableCsv('fp-1');
    expect(importError(csv.replace('"std_us",', '')).message).toMatch(/lacks the column\(s\) std_us/);
    expect(importError(`${csv}"fp-1,"unclosed`).message).toMatch(/not valid CSV/);
    const lines = csv.trimEnd().split('\r\n');
    const cells = parseCsv(lines[2] as string)[0]?.cells as string[];
    cells[0] = 'fp-other';
    lines[2] = csvLine(cells);
    expect(importError(lines.join('\r\n')).details.join('\n')).toMatch(/line 3: the device differs from line 2/);
    expect(importError(`${lines[0]}\r\n`).message).toMatch(/no entries/);
    expect(importError('').message).toMatch(/empty/);
  });

  it('parseLutText accepts a UTF-8 BOM and LF line ends (files edited in a spreadsheet)', () => {
    populate(store, 3);
    const csv = `\uFEFF${store.exportTableCsv('fp-1').replaceAll('\r\n', '\n')}`;
    expect(parseLutText(csv).entries).toHaveLength(4);
    expect(lutToCsv(parseLutText(csv))).toBe(store.exportTableCsv('fp-1'));
  });
});
