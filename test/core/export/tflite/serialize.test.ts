import { describe, expect, it } from 'vitest';
import { CheckedFlatbuffer } from '../../../../core/export/tflite/checked-flatbuffer.ts';
import { readTfliteModel } from '../../../../core/export/tflite/reader.ts';
import {
  BuiltinOperator,
  ModelField,
  OperatorCodeField,
  PLACEHOLDER_FOR_GREATER_OP_CODES,
} from '../../../../core/export/tflite/schema.ts';
import { serializeTfliteModel } from '../../../../core/export/tflite/serialize.ts';
import { buildEveryOpModel } from './sample-models.ts';

describe('serializeTfliteModel', () => {
  it('is deterministic: the same calls give identical bytes, different weights give different bytes', () => {
    const a = buildEveryOpModel(5).finish();
    const b = buildEveryOpModel(5).finish();
    const c = buildEveryOpModel(6).finish();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length).toBe(c.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('writes the "TFL3" file identifier at bytes 4..8 and the description as a string', () => {
    const bytes = buildEveryOpModel(1, 'a description to find').finish();
    expect(Buffer.from(bytes.subarray(4, 8)).toString('latin1')).toBe('TFL3');
    expect(Buffer.from(bytes).includes(Buffer.from('a description to find'))).toBe(true);
    expect(readTfliteModel(bytes).description).toBe('a description to find');
  });

  it('keeps buffer 0 as the empty sentinel and aligns every constant buffer to 16 bytes', () => {
    const info = readTfliteModel(buildEveryOpModel(1).finish());
    expect(info.buffers[0]).toEqual({ offset: 0, size: 0 });
    const constants = info.buffers.slice(1);
    expect(constants.length).toBeGreaterThan(10);
    for (const buffer of constants) {
      expect(buffer.size).toBeGreaterThan(0);
      expect(buffer.offset % 16).toBe(0);
    }
    // Activations and inputs point at the sentinel; constants each have their own buffer.
    const tensors = info.subgraphs[0]?.tensors ?? [];
    const used = tensors.filter((t) => t.bufferIndex !== 0).map((t) => t.bufferIndex);
    expect(new Set(used).size).toBe(used.length);
  });

  it('gives every tensor a unique, non-empty name', () => {
    const tensors = readTfliteModel(buildEveryOpModel(1).finish()).subgraphs[0]?.tensors ?? [];
    expect(tensors.length).toBeGreaterThan(20);
    expect(tensors.every((t) => t.name.length > 0)).toBe(true);
    expect(new Set(tensors.map((t) => t.name)).size).toBe(tensors.length);
  });

  it('writes each operator code in both deprecated_builtin_code (clamped to 127) and builtin_code', () => {
    const bytes = buildEveryOpModel(1).finish();
    const buf = new CheckedFlatbuffer(bytes, 'test');
    const model = buf.table(buf.deref(0, 'root'), 'Model');
    const codes = model.tableVector(ModelField.operator_codes, 'operator_codes') ?? [];
    const seen = codes.map((t) => ({
      deprecated: t.i8(OperatorCodeField.deprecated_builtin_code, 'deprecated', -99),
      extended: t.i32(OperatorCodeField.builtin_code, 'builtin_code', -99),
      version: t.i32(OperatorCodeField.version, 'version', -99),
    }));
    // Every operator the builder knows: the sample model uses all of them (QUANTIZE and DEQUANTIZE are written by
    // the quantization pass only).
    const builderOps = Object.entries(BuiltinOperator).filter(([name]) => name !== 'QUANTIZE' && name !== 'DEQUANTIZE');
    expect(seen.map((s) => s.extended).sort((x, y) => x - y)).toEqual(builderOps.map(([, code]) => code).sort((x, y) => x - y));
    for (const s of seen) {
      expect(s.deprecated).toBe(Math.min(s.extended, PLACEHOLDER_FOR_GREATER_OP_CODES));
      expect(s.version).toBe(1);
    }
  });

  it('rejects an inconsistent IR (programming errors, not user input)', () => {
    const ir = buildEveryOpModel(1).toIr();
    expect(() => serializeTfliteModel({ ...ir, buffers: ir.buffers.slice(1) })).toThrow(/sentinel/);
    expect(() => serializeTfliteModel({ ...ir, outputs: [ir.tensors.length] })).toThrow(/refers to tensor/);
  });
});
