import fc from 'fast-check';
import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../../core/errors.ts';
import type { OptionValue } from '../../../../core/export/tflite/model-ir.ts';
import { readTfliteModel } from '../../../../core/export/tflite/reader.ts';
import { ACTIVATION_NAMES, ModelField, SubGraphField, TensorField } from '../../../../core/export/tflite/schema.ts';
import { buildEveryOpModel } from './sample-models.ts';

const valid = buildEveryOpModel(3).finish();

/** The reader's contract: a summary or a FileFormatError, nothing else. */
function parseOrFileFormatError(bytes: Uint8Array): 'ok' | 'rejected' {
  try {
    readTfliteModel(bytes);
    return 'ok';
  } catch (error) {
    if (error instanceof FileFormatError) return 'rejected';
    throw error;
  }
}

function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i] ?? 0);
  return b.endVector();
}

function expectRejected(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    readTfliteModel(bytes, 'model.tflite');
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(FileFormatError);
  expect((caught as Error).message).toMatch(message);
}

describe('readTfliteModel round trip', () => {
  it('reads back exactly what the builder wrote', () => {
    const builder = buildEveryOpModel(3);
    const ir = builder.toIr();
    const info = readTfliteModel(valid);
    expect(info.version).toBe(3);
    expect(info.description).toBe(ir.description);
    expect(info.signatureKeys).toEqual(['serving_default']);
    expect(info.buffersCount).toBe(ir.buffers.length);
    expect(info.subgraphs).toHaveLength(1);
    const sg = info.subgraphs[0];
    if (!sg) throw new Error('no subgraph');
    expect(sg.name).toBe(ir.subgraphName);
    expect(sg.inputs).toEqual(ir.inputs);
    expect(sg.outputs).toEqual(ir.outputs);

    expect(sg.tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.type, buffer: t.bufferIndex }))).toEqual(
      ir.tensors.map((t) => ({ name: t.name, shape: [...t.shape], type: t.type, buffer: t.buffer })),
    );
    // Constant data is byte-identical.
    ir.buffers.forEach((data, i) => {
      const location = info.buffers[i];
      expect(location?.size).toBe(data.byteLength);
      const stored = valid.subarray(location?.offset ?? 0, (location?.offset ?? 0) + data.byteLength);
      expect(Buffer.from(stored).equals(Buffer.from(data))).toBe(true);
    });

    expect(sg.operators).toHaveLength(ir.operators.length);
    sg.operators.forEach((op, i) => {
      const written = ir.operators[i];
      if (!written) throw new Error(`operator ${i} missing`);
      expect(op.opcode).toBe(written.op);
      expect(op.inputs).toEqual(written.inputs);
      expect(op.outputs).toEqual(written.outputs);
      expect(op.optionsType).toBe(written.options?.table ?? 'NONE');
      for (const [field, value] of Object.entries(written.options?.values ?? {})) {
        expect(op.options[field], `${written.op}.${field}`).toEqual(asSummary(field, value));
      }
    });
  });

  it('decodes the options it knows with schema defaults for omitted fields', () => {
    const ops = readTfliteModel(valid).subgraphs[0]?.operators ?? [];
    const conv = ops.find((op) => op.opcode === 'CONV_2D');
    expect(conv?.options).toMatchObject({
      padding: 'SAME',
      stride_w: 2,
      stride_h: 2,
      fused_activation_function: 'RELU6',
      dilation_w_factor: 1,
      dilation_h_factor: 1,
    });
    expect(ops.find((op) => op.opcode === 'ADD')?.options).toMatchObject({ pot_scale_int16: true });
    expect(ops.find((op) => op.opcode === 'SOFTMAX')?.options).toEqual({ beta: 0.5 });
    expect(ops.find((op) => op.opcode === 'RELU')?.optionsType).toBe('NONE');
  });
});

function asSummary(field: string, value: OptionValue): unknown {
  if (field === 'padding') return value === 0 ? 'SAME' : 'VALID';
  if (field === 'fused_activation_function') return ACTIVATION_NAMES[value as number];
  return Array.isArray(value) ? [...value] : value;
}

describe('readTfliteModel on malformed files', () => {
  it('rejects an empty file', () => expectRejected(new Uint8Array(0), /model\.tflite.*empty/));

  it('rejects a file too short to hold a header', () => expectRejected(new Uint8Array([1, 2, 3]), /only 3 bytes/));

  it('rejects a wrong file identifier, naming it', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expectRejected(png, /identifier is "\\r\\n\\u001a\\n", expected "TFL3"/);
    const copy = valid.slice();
    copy[7] = 0x32; // "TFL2"
    expectRejected(copy, /identifier is "TFL2"/);
  });

  it('rejects a truncated model', () => {
    expectRejected(valid.subarray(0, Math.floor(valid.length / 2)), /outside the file|truncated/);
    expectRejected(valid.subarray(0, 8), /outside the file/);
  });

  it('rejects a root offset past the end of the file', () => {
    const copy = valid.slice();
    new DataView(copy.buffer).setUint32(0, copy.length + 100, true);
    expectRejected(copy, /root table offset.*outside the file/);
  });

  it('rejects an unsupported schema version', () => {
    const b = new Builder(64);
    b.startObject(8);
    b.addFieldInt32(ModelField.version, 2, 0);
    b.finish(b.endObject(), 'TFL3');
    expectRejected(b.asUint8Array(), /schema version 2 is not supported/);
  });

  it('rejects indices that point past the end of their tables', () => {
    // A tensor whose buffer index does not exist.
    const b = new Builder(256);
    const name = b.createString('t');
    b.startObject(10);
    b.addFieldOffset(TensorField.name, name, 0);
    b.addFieldInt32(TensorField.buffer, 7, 0);
    const tensor = b.endObject();
    const tensors = offsetVector(b, [tensor]);
    b.startObject(5);
    b.addFieldOffset(SubGraphField.tensors, tensors, 0);
    const subgraph = b.endObject();
    const subgraphs = offsetVector(b, [subgraph]);
    b.startObject(8);
    b.addFieldInt32(ModelField.version, 3, 0);
    b.addFieldOffset(ModelField.subgraphs, subgraphs, 0);
    b.finish(b.endObject(), 'TFL3');
    expectRejected(b.asUint8Array(), /tensor 0 \(t\) uses buffer 7, but there are 0/);
  });

  it('rejects a small file whose vectors share entries to blow up parsing, quickly', () => {
    // 20000 subgraph entries all pointing at one subgraph with 20000 entries pointing at one tensor: legal
    // flatbuffer sharing, 4e8 tensors to visit. The work budget stops it.
    const n = 20000;
    const b = new Builder(1 << 20);
    b.startObject(10);
    const tensor = b.endObject();
    const tensors = offsetVector(b, new Array<number>(n).fill(tensor));
    b.startObject(5);
    b.addFieldOffset(SubGraphField.tensors, tensors, 0);
    const subgraph = b.endObject();
    const subgraphs = offsetVector(b, new Array<number>(n).fill(subgraph));
    b.startObject(3);
    const buffers = offsetVector(b, [b.endObject()]);
    b.startObject(8);
    b.addFieldInt32(ModelField.version, 3, 0);
    b.addFieldOffset(ModelField.subgraphs, subgraphs, 0);
    b.addFieldOffset(ModelField.buffers, buffers, 0);
    b.finish(b.endObject(), 'TFL3');
    const start = performance.now();
    expectRejected(b.asUint8Array(), /reference each other/);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});

describe('readTfliteModel fuzzing: only FileFormatError may escape', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void parseOrFileFormatError(bytes)), {
      numRuns: 500,
    });
  });

  it('random bytes behind a valid-looking header (identifier and a small root offset)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 600 }), fc.integer({ min: 0, max: 700 }), (bytes, root) => {
        const copy = bytes.slice();
        new DataView(copy.buffer).setUint32(0, root, true);
        copy.set([0x54, 0x46, 0x4c, 0x33], 4);
        parseOrFileFormatError(copy);
      }),
      { numRuns: 1000 },
    );
  });

  it('every 7th truncation of a valid model is rejected', () => {
    for (let length = 0; length < valid.length; length += 7) {
      expect(parseOrFileFormatError(valid.subarray(0, length))).toBe('rejected');
    }
  });

  it('random truncations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (length) => {
        expect(parseOrFileFormatError(valid.slice(0, length))).toBe('rejected');
      }),
      { numRuns: 300 },
    );
  });

  it('random byte flips of a valid model', () => {
    const flip = fc.record({ at: fc.nat({ max: valid.length - 1 }), value: fc.nat({ max: 255 }) });
    fc.assert(
      fc.property(fc.array(flip, { minLength: 1, maxLength: 8 }), (flips) => {
        const copy = valid.slice();
        for (const { at, value } of flips) copy[at] = value;
        parseOrFileFormatError(copy);
      }),
      { numRuns: 1000 },
    );
  });

  it('random 32-bit words (offsets, lengths) overwritten in the metadata part of a valid model', () => {
    const word = fc.record({ at: fc.nat({ max: valid.length - 4 }), value: fc.nat({ max: 0xffffffff }) });
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), (words) => {
        const copy = valid.slice();
        const view = new DataView(copy.buffer);
        for (const { at, value } of words) view.setUint32(at & ~3, value, true);
        parseOrFileFormatError(copy);
      }),
      { numRuns: 1000 },
    );
  });
});
