import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_VERSION, upgradeSignature } from '../../../core/arch/signature.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { LATENCY_MIGRATIONS } from '../../../latency/store/latency-schema.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { lutToJson } from '../../../latency/store/lut-format.ts';
import { OPTIONS, PIXEL_FINGERPRINT, entry } from './fixtures.ts';

// Issue 17 changed what a residual projection computes; every other layer's model stayed the same.
const PLAIN_V1 = 'v1;op=conv;in=14x14x128;f=64;out=64;k=1;s=1;act=hswish;bn=1;byp=0;res=0';
const RESIDUAL_V1 = 'v1;op=conv;in=14x14x256;f=0;out=64;k=1;s=1;act=none;bn=1;byp=64;res=1';
const OVERHEAD_V1 = 'v1;op=null;in=14x14x128';

describe('layer signatures v1 → v2', () => {
  it('keeps the measurement of every layer but residual projections, whose v1 model was another one', () => {
    expect(SIGNATURE_VERSION).toBe('v2');
    expect(upgradeSignature(PLAIN_V1)).toBe(PLAIN_V1.replace(/^v1;/, 'v2;'));
    expect(upgradeSignature(OVERHEAD_V1)).toBe('v2;op=null;in=14x14x128');
    expect(upgradeSignature(RESIDUAL_V1)).toBe(RESIDUAL_V1);
    expect(upgradeSignature('v2;op=conv;res=1')).toBe('v2;op=conv;res=1');
  });

  it('migration latency-002 renames unchanged v1 entries and leaves v1 residual projections unreachable', () => {
    const db = new Database(':memory:');
    LATENCY_MIGRATIONS[0]?.up(db);
    db.prepare(`INSERT INTO devices VALUES ('fp-1', '{}', 'Pixel', 'x', 'x')`).run();
    const insert = db.prepare(
      `INSERT INTO latency_entries (device_id, runtime_options, signature, op, count, mean_us, median_us, std_us, min_us, max_us, measured_at)
       VALUES ('fp-1', 'threads=1', ?, 'conv', 1, ?, ?, 0, ?, ?, 'x')`,
    );
    [PLAIN_V1, RESIDUAL_V1, OVERHEAD_V1].forEach((s, i) => insert.run(s, 10 + i, 10 + i, 10 + i, 10 + i));
    expect(LATENCY_MIGRATIONS[1]?.id).toBe('latency-002');
    LATENCY_MIGRATIONS[1]?.up(db);
    const rows = db.prepare('SELECT signature, mean_us FROM latency_entries ORDER BY mean_us').all();
    expect(rows).toEqual([
      { signature: PLAIN_V1.replace(/^v1;/, 'v2;'), mean_us: 10 },
      { signature: RESIDUAL_V1, mean_us: 11 },
      { signature: 'v2;op=null;in=14x14x128', mean_us: 12 },
    ]);
    db.close();
  });

  it('importing a table exported with v1 signatures gives the unchanged entries v2 keys and leaves obsolete ones out', () => {
    const source = new LatencyStore(openWorkspace(':memory:'));
    source.upsertDevice('fp-1', PIXEL_FINGERPRINT, 'Pixel');
    source.putEntry(entry('fp-1', 1, { signature: PLAIN_V1 }));
    source.putEntry(entry('fp-1', 2, { signature: RESIDUAL_V1 }));
    const target = new LatencyStore(openWorkspace(':memory:'));
    const report = target.importTable(lutToJson(source.exportTable('fp-1')));
    expect(report).toMatchObject({ inserted: 1, obsolete: 1 });
    const found = target.getEntries('fp-1', OPTIONS, [PLAIN_V1.replace(/^v1;/, 'v2;'), RESIDUAL_V1.replace(/^v1;/, 'v2;')]);
    expect([...found.keys()]).toEqual([PLAIN_V1.replace(/^v1;/, 'v2;')]);
  });
});
