import { beforeEach, describe, expect, it } from 'vitest';
import { enumerateLayerVariants, invokeOverheadSignature, loadNetwork } from '../../../core/arch/index.ts';
import { describeSignature, signatureMacs } from '../../../core/arch/signature.ts';
import { ValidationError } from '../../../core/errors.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { lutToCsv } from '../../../latency/store/lut-format.ts';
import { OPTIONS, PIXEL_FINGERPRINT, entry, signature } from './fixtures.ts';


let store: LatencyStore;
beforeEach(() => {
  store = new LatencyStore(openWorkspace(':memory:'));
  store.upsertDevice('fp-1', PIXEL_FINGERPRINT, 'Pixel');
  for (let i = 0; i < 4; i++) store.putEntry(entry('fp-1', i));
});

function importError(input: string | object): ValidationError {
  const target = new LatencyStore(openWorkspace(':memory:'));
  try {
    target.importTable(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect(target.listTables()).toEqual([]);
    return error as ValidationError;
  }
  throw new Error('the import was accepted');
}

describe('signatures of imported tables', () => {
  it('every signature the zoo networks produce is understood, with the MACs core/arch counts', () => {
    for (const name of ['mobilenet-v1-32', 'mobilenet-v2-32', 'mobilenet-v3-large-32', 'netadaptv2-latency-32', 'fastdepth-64']) {
      for (const [text, layer] of enumerateLayerVariants(loadNetwork(name))) {
        expect(describeSignature(text), text).toBeTypeOf('object');
        expect(signatureMacs(text), text).toBe(layer.macs);
        expect(describeSignature(invokeOverheadSignature(text))).toBeTypeOf('object');
      }
    }
  });

  it('refuses `garbage;;;` and other malformed or unknown signatures, naming the row (JSON and CSV)', () => {
    const file = store.exportTable('fp-1');
    const bad = ['garbage;;;', 'v1;op=warp;in=8x8x16;f=16;out=8;k=3;s=1;act=relu;bn=1;byp=0;res=0', 'v1;op=conv;in=8x8;f=16'];
    for (const text of bad) {
      const json = { ...file, entries: file.entries.map((e, i) => (i === 2 ? { ...e, signature: text } : e)) };
      const error = importError(json);
      expect(error.details.join('\n')).toMatch(/^entries\[2\]\.signature: unknown or malformed layer signature/m);
      const csvError = importError(lutToCsv(json));
      expect(csvError.details.join('\n')).toMatch(/^line 4, column signature: unknown or malformed layer signature/m);
    }
  });
});

describe('units of imported tables', () => {
  it('refuses a CSV mean_us of 1e400, naming the line and column', () => {
    const csv = store.exportTableCsv('fp-1').split('\r\n');
    csv[2] = csv[2]!.replace(/,(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),/, ',$1,1e400,');
    const error = importError(csv.join('\r\n'));
    expect(error.details).toContain('line 3, column mean_us: 1e400 is not a finite number');
  });

  it('refuses an entry 10⁶× off the layer\'s MAC-based estimate (seconds or picoseconds given as µs)', () => {
    const file = store.exportTable('fp-1');
    for (const scale of [1e6, 1e-6]) {
      const scaled = file.entries.map((e, i) => (i === 1 ? { ...e, meanUs: e.meanUs * scale, medianUs: e.medianUs * scale, minUs: e.minUs * scale, maxUs: e.maxUs * scale, stdUs: e.stdUs * scale } : e));
      const error = importError({ ...file, entries: scaled });
      expect(error.details.join('\n')).toMatch(new RegExp(`^entries\\[1\\]\\.meanUs \\(signature ${escape(file.entries[1]!.signature)}\\): mean .* the layer's MAC-based estimate`, 'm'));
    }
    // Honest spread (a GPU 50× faster than the estimate, a slow core 50× slower) is accepted.
    const target = new LatencyStore(openWorkspace(':memory:'));
    const spread = file.entries.map((e, i) => (i % 2 === 0 ? { ...e } : { ...e, meanUs: e.meanUs * 50, medianUs: e.medianUs * 50, minUs: e.minUs * 50, maxUs: e.maxUs * 50 }));
    expect(target.importTable({ ...file, entries: spread }).inserted).toBe(4);
  });

  it('refuses an entry far off the workspace\'s own entry for it, even with overwrite, and imports nothing', () => {
    const file = store.exportTable('fp-1');
    const target = new LatencyStore(openWorkspace(':memory:'));
    target.upsertDevice('fp-1', PIXEL_FINGERPRINT, 'Pixel');
    // The workspace measured entry 0 at 5000× the file's value (ms written as ns somewhere): refused.
    const e0 = file.entries[0]!;
    target.putEntry(entry('fp-1', 0, { signature: e0.signature, meanUs: e0.meanUs * 5000, medianUs: e0.medianUs * 5000, minUs: e0.minUs * 5000, maxUs: e0.maxUs * 5000 }));
    const error = (() => {
      try {
        target.importTable(file, { overwrite: true, source: 'pixel.json' });
      } catch (caught) {
        return caught as ValidationError;
      }
      throw new Error('accepted');
    })();
    expect(error.message).toBe('pixel.json has 1 entry with implausible units; nothing was imported');
    expect(error.details[0]).toMatch(/^entries\[0\] \(signature .*\): mean .* the workspace's entry for it/);
    expect(target.tableEntries('fp-1', OPTIONS)).toHaveLength(1);
  });
});

describe('failed entries and batch conditions', () => {
  it('records failures with attempts, lists them, and removes one when its entry is measured', () => {
    const failing = signature(9);
    store.recordFailure({ deviceId: 'fp-1', runtimeOptions: OPTIONS, signature: failing, reason: 'timeout', message: 'no output within 12 s' });
    store.recordFailure({ deviceId: 'fp-1', runtimeOptions: OPTIONS, signature: failing, reason: 'cut-off', message: 'output cut off' });
    expect(store.tableFailures('fp-1', OPTIONS)).toMatchObject([{ signature: failing, reason: 'cut-off', attempts: 2 }]);
    expect(store.failedSignatures('fp-1', OPTIONS, [signature(0), failing])).toEqual(new Set([failing]));
    store.putEntry(entry('fp-1', 9));
    expect(store.tableFailures('fp-1', OPTIONS)).toEqual([]);
    expect(() => store.recordFailure({ deviceId: 'nope', runtimeOptions: OPTIONS, signature: failing, reason: 'x', message: '' })).toThrow(/not in this workspace/);
  });

  it('keeps the conditions of each batch in order', () => {
    const base = { deviceId: 'fp-1', runtimeOptions: OPTIONS, serial: 'A', models: 3, cooldownMs: 0, reasons: [], before: { maxTempC: 30 }, after: { maxTempC: 31 } };
    store.recordBatchConditions({ ...base, attempt: 1, verdict: 'throttled-remeasured', reasons: ['hot'], recordedAt: '2025-01-01T00:00:00Z' });
    store.recordBatchConditions({ ...base, attempt: 2, verdict: 'stable', cooldownMs: 5000, recordedAt: '2025-01-01T00:01:00Z' });
    expect(store.batchConditions('fp-1', OPTIONS).map((c) => [c.attempt, c.verdict, c.reasons, c.after])).toEqual([
      [1, 'throttled-remeasured', ['hot'], { maxTempC: 31 }],
      [2, 'stable', [], { maxTempC: 31 }],
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
