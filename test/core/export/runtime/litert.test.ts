import { beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, ValidationError } from '../../../../core/errors.ts';
import {
  TfliteRuntimeError,
  loadTfliteRuntime,
  type TfliteRuntime,
} from '../../../../core/export/runtime/litert.ts';
import { TfliteModelBuilder } from '../../../../core/export/tflite/builder.ts';
import { serializeTfliteModel } from '../../../../core/export/tflite/serialize.ts';
import { Rng } from '../../../../core/random.ts';
import { randomArray } from '../random-data.ts';

let runtime: TfliteRuntime;
beforeAll(async () => {
  runtime = await loadTfliteRuntime();
});

function twoInputModel(): Uint8Array {
  const m = new TfliteModelBuilder({ description: 'runtime test' });
  const a = m.input('a', [1, 2, 3]);
  const b = m.input('b', [1, 2, 3]);
  m.output(m.add(a, b, { name: 'sum' }));
  m.output(m.mul(a, b, { name: 'product' }));
  return m.finish();
}

describe('loadTfliteRuntime', () => {
  it('loads the single-threaded wasm build once and shares it', async () => {
    expect(await loadTfliteRuntime()).toBe(runtime);
    expect(runtime.info.accelerator).toBe('wasm');
    expect(runtime.info.threadCount).toBe(1);
    expect(runtime.info.wasmFile).toMatch(/^litert_wasm_(compat_)?internal\.js$/);
    expect(runtime.recentLog().some((line) => line.includes('XNNPACK'))).toBe(true);
  });

  it('leaves no browser shims behind in the global scope', () => {
    expect('self' in globalThis).toBe(false);
    expect('importScripts' in globalThis).toBe(false);
  });
});

describe('LoadedModel', () => {
  it('reports named input and output shapes and runs by position or by name', async () => {
    const model = await runtime.load(twoInputModel());
    try {
      expect(model.inputs).toEqual([
        { name: 'a', shape: [1, 2, 3], dtype: 'float32' },
        { name: 'b', shape: [1, 2, 3], dtype: 'float32' },
      ]);
      expect(model.outputs.map((o) => o.name)).toEqual(['sum', 'product']);
      const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
      const b = Float32Array.from([10, 20, 30, 40, 50, 60]);
      const [sum, product] = await model.run([a, b]);
      expect(Array.from(sum ?? [])).toEqual([11, 22, 33, 44, 55, 66]);
      expect(Array.from(product ?? [])).toEqual([10, 40, 90, 160, 250, 360]);
      const byName = await model.run({ b, a });
      expect(Array.from(byName[0] ?? [])).toEqual([11, 22, 33, 44, 55, 66]);
    } finally {
      model.close();
    }
  });

  it('returns copies that stay valid after later runs', async () => {
    const model = await runtime.load(twoInputModel());
    const ones = new Float32Array(6).fill(1);
    const [first] = await model.run([ones, ones]);
    await model.run([new Float32Array(6).fill(5), ones]);
    expect(Array.from(first ?? [])).toEqual([2, 2, 2, 2, 2, 2]);
    model.close();
  });

  it('rejects wrong input counts, sizes and names with ValidationError', async () => {
    const model = await runtime.load(twoInputModel());
    try {
      await expect(model.run([new Float32Array(6)])).rejects.toThrow(/has 2 inputs, got 1/);
      await expect(model.run([new Float32Array(6), new Float32Array(5)])).rejects.toThrow(
        /input 1 \(b\) needs 6 values for shape \[1, 2, 3\], got 5/,
      );
      await expect(model.run({ a: new Float32Array(6) })).rejects.toThrow(ValidationError);
    } finally {
      model.close();
    }
  });

  it('refuses to run after close; closing twice is harmless', async () => {
    const model = await runtime.load(twoInputModel());
    model.close();
    model.close();
    await expect(model.run([new Float32Array(6), new Float32Array(6)])).rejects.toThrow(/closed/);
    await expect(model.benchmark()).rejects.toThrow(/closed/);
  });

  it('benchmarks with hrtime: one positive time per run, consistent statistics', async () => {
    const rng = new Rng(3);
    const m = new TfliteModelBuilder();
    const x = m.input('x', [1, 16, 16, 8]);
    m.output(m.conv2d(x, { weights: randomArray(rng, 16 * 9 * 8), outChannels: 16, kernelSize: 3 }));
    const model = await runtime.load(m.finish());
    try {
      const result = await model.benchmark({ warmup: 2, runs: 7 });
      expect(result.timesUs).toHaveLength(7);
      expect(result.warmup).toBe(2);
      for (const t of result.timesUs) expect(t).toBeGreaterThan(0);
      expect(result.minUs).toBe(Math.min(...result.timesUs));
      expect(result.maxUs).toBe(Math.max(...result.timesUs));
      expect(result.minUs).toBeLessThanOrEqual(result.medianUs);
      expect(result.medianUs).toBeLessThanOrEqual(result.maxUs);
      expect(result.meanUs).toBeCloseTo(result.timesUs.reduce((s, t) => s + t, 0) / 7, 6);
      await expect(model.benchmark({ runs: 0 })).rejects.toThrow(ValidationError);
    } finally {
      model.close();
    }
  });
});

describe('runtime errors', () => {
  it('rejects a malformed file with FileFormatError before it reaches the interpreter', async () => {
    await expect(runtime.load(new Uint8Array(0))).rejects.toThrow(FileFormatError);
    await expect(runtime.load(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))).rejects.toThrow(/identifier/);
  });

  it('turns an interpreter failure into TfliteRuntimeError instead of returning garbage', async () => {
    // A well-formed file with inconsistent shapes (ADD of [1,4] and [1,5]): LiteRT only logs the failure.
    const m = new TfliteModelBuilder();
    const a = m.input('a', [1, 4]);
    const b = m.input('b', [1, 4]);
    m.output(m.add(a, b));
    const ir = m.toIr();
    const bad = serializeTfliteModel({
      ...ir,
      tensors: ir.tensors.map((t, i) => (i === b.index ? { ...t, shape: [1, 5] } : t)),
    });
    let caught: unknown;
    try {
      const model = await runtime.load(bad);
      await model.run([new Float32Array(4), new Float32Array(5)]);
      model.close();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TfliteRuntimeError);
    expect((caught as TfliteRuntimeError).details.length).toBeGreaterThan(0);

    // The runtime is still usable afterwards.
    const good = await runtime.load(twoInputModel());
    const [sum] = await good.run([new Float32Array(6).fill(1), new Float32Array(6).fill(2)]);
    expect(Array.from(sum ?? [])).toEqual([3, 3, 3, 3, 3, 3]);
    good.close();
  });
});
