import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../core/errors.ts';
import { CsvSyntaxError, parseCsv } from '../../../latency/store/csv.ts';
import { canonicalRuntimeOptions } from '../../../latency/store/runtime-options.ts';
import { signatureOp } from '../../../latency/store/signature.ts';

describe('canonicalRuntimeOptions', () => {
  it('sorts keys so any order names the same table', () => {
    expect(canonicalRuntimeOptions('threads=1;mask=f0;runs=50;warmup=10')).toBe('mask=f0;runs=50;threads=1;warmup=10');
    expect(canonicalRuntimeOptions(' warmup=10 ; threads=1 ')).toBe('threads=1;warmup=10');
    expect(canonicalRuntimeOptions({ threads: 4, xnnpack: true })).toBe('threads=4;xnnpack=true');
    expect(canonicalRuntimeOptions('')).toBe('');
  });

  it('rejects malformed options', () => {
    expect(() => canonicalRuntimeOptions('threads')).toThrow(ValidationError);
    expect(() => canonicalRuntimeOptions('threads=1;threads=2')).toThrow(/twice/);
    expect(() => canonicalRuntimeOptions('threads=')).toThrow(/non-empty/);
    expect(() => canonicalRuntimeOptions({ '1bad': 1 })).toThrow(/not a valid option name/);
  });
});

describe('signatureOp', () => {
  it('reads the op= field', () => {
    expect(signatureOp('v1;op=dwconv;in=8x8x16')).toBe('dwconv');
    expect(signatureOp('op=fc')).toBe('fc');
    expect(signatureOp('v1;loop=x;in=1')).toBe('unknown');
  });
});

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, embedded newlines, CRLF and blank lines, with line numbers', () => {
    const records = parseCsv('a,"b ""x"", y"\r\n\r\n"multi\nline",2\n3,\n');
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b "x", y'] },
      { line: 3, cells: ['multi\nline', '2'] },
      { line: 5, cells: ['3', ''] },
    ]);
  });

  it('reports broken quoting with the line', () => {
    expect(() => parseCsv('a,b\n"open,c\n')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a,b\n"x"y,c\n')).toThrow(/line 2/);
    expect(() => parseCsv('a,b"c\n')).toThrow(/quote inside an unquoted field/);
  });
});
