import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../core/errors.ts';
import { loadTfliteRuntime, type TfliteRuntime } from '../../../../core/export/runtime/litert.ts';
import { TfliteModelBuilder } from '../../../../core/export/tflite/builder.ts';
import type { TfliteModelIr } from '../../../../core/export/tflite/model-ir.ts';
import { quantizeModel } from '../../../../core/export/tflite/quantize.ts';
import {
  activationParams,
  dequantizeValue,
  quantizeBias,
  quantizePerChannel,
  quantizeValue,
  type ValueRange,
} from '../../../../core/export/tflite/quantize-math.ts';
import { readTfliteModel } from '../../../../core/export/tflite/reader.ts';
import { serializeTfliteModel } from '../../../../core/export/tflite/serialize.ts';
import { Rng } from '../../../../core/random.ts';
import { randomArray } from '../random-data.ts';

// Tests core/export/tflite/quantize.ts and quantize-math.ts.
let runtime: TfliteRuntime;
beforeAll(async () => {
  runtime = await loadTfliteRuntime();
});

describe('int8 arithmetic (quantization spec)', () => {
  it('activation parameters cover the range, include 0 exactly and keep the zero point in [-128, 127]', () => {
    for (const range of [{ min: -1, max: 3 }, { min: 0, max: 6 }, { min: 0.5, max: 2 }, { min: -7, max: -2 }, { min: 0, max: 0 }]) {
      const p = activationParams(range, 't');
      expect(p.scale).toBeGreaterThan(0);
      expect(p.zeroPoint).toBeGreaterThanOrEqual(-128);
      expect(p.zeroPoint).toBeLessThanOrEqual(127);
      expect(dequantizeValue(quantizeValue(0, p), p)).toBe(0);
      for (const v of [range.min, range.max]) expect(Math.abs(dequantizeValue(quantizeValue(v, p), p) - v)).toBeLessThanOrEqual(p.scale / 2 + 1e-9);
    }
    expect(activationParams({ min: 0, max: 6 }, 't')).toEqual({ scale: 6 / 255, zeroPoint: -128 });
    expect(() => activationParams({ min: Number.NaN, max: 1 }, 'tensor x')).toThrow(/tensor x.*not a finite interval/);
  });

  it('weights are symmetric per channel in [-127, 127]; an all-zero channel and a large bias still get usable scales', () => {
    // Two output channels (axis 0): one with values up to 2, one all zero.
    const w = Float32Array.of(2, -1, 0.5, 0, 0, 0);
    const q = quantizePerChannel(w, [2, 3], 0);
    expect(q.scales[0]).toBeCloseTo(2 / 127, 10);
    expect(q.scales[1]).toBe(q.scales[0]);
    expect([...q.data]).toEqual([127, -64, 32, 0, 0, 0]);
    // A bias that would not fit int32 with the weight scale raises that channel's scale.
    const tiny = quantizePerChannel(Float32Array.of(1e-9, 1), [2, 1], 0, { values: Float32Array.of(1e6, 0), inputScale: 1e-6 });
    const bias = quantizeBias(Float32Array.of(1e6, 0), 1e-6, tiny.scales);
    expect(Math.abs(bias.data[0] as number)).toBeLessThan(2 ** 31);
    expect(Math.abs((bias.data[0] as number) * (bias.scales[0] as number) - 1e6)).toBeLessThan(1);
  });
});

/** conv(relu6) -> dw(relu) -> hswish -> [concat with a slice of the conv] -> mean -> SE-like gate -> fc -> softmax. */
function sampleFloatModel(seed: number): TfliteModelIr {
  const rng = new Rng(seed);
  const b = new TfliteModelBuilder();
  const x = b.input('input', [1, 8, 8, 3]);
  const c = b.conv2d(x, { weights: randomArray(rng, 16 * 9 * 3, 0.5), outChannels: 16, kernelSize: 3, bias: randomArray(rng, 16, 0.1), stride: 2, activation: 'relu6', name: 'conv' });
  const d = b.depthwiseConv2d(c, { weights: randomArray(rng, 9 * 16, 0.5), kernelSize: 3, bias: randomArray(rng, 16, 0.1), activation: 'relu', name: 'dw' });
  const h = b.hardSwish(d, { name: 'hswish' });
  const cat = b.concat([h, b.slice(c, [0, 0, 0, 0], [-1, -1, -1, 8], { name: 'bypass' })], 3, { name: 'cbc' });
  const m = b.mean(cat, [1, 2], true, { name: 'pooled' });
  const shifted = b.add(m, b.constant('three', [1], Float32Array.of(3)), { activation: 'relu6', name: 'shifted' });
  const gate = b.mul(shifted, b.constant('sixth', [1], Float32Array.of(1 / 6)), { name: 'gate' });
  const fc = b.fullyConnected(b.reshape(gate, [1, 24], { name: 'flat' }), { weights: randomArray(rng, 10 * 24, 0.5), outUnits: 10, bias: randomArray(rng, 10, 0.1), name: 'logits' });
  b.output(b.softmax(fc, { name: 'probabilities' }));
  return b.toIr();
}

/** Ranges of every activation from the float model itself, run in LiteRT with all activations as outputs. */
async function calibrate(ir: TfliteModelIr, images: readonly Float32Array[]): Promise<Map<number, ValueRange>> {
  const activations = ir.tensors.map((_, i) => i).filter((i) => ir.tensors[i]?.buffer === 0 && !ir.inputs.includes(i));
  const model = await runtime.load(serializeTfliteModel({ ...ir, outputs: activations }));
  const ranges = new Map<number, ValueRange>();
  const widen = (i: number, values: Float32Array): void => {
    const r = ranges.get(i) ?? { min: Infinity, max: -Infinity };
    ranges.set(i, { min: Math.min(r.min, ...values), max: Math.max(r.max, ...values) });
  };
  try {
    for (const image of images) {
      widen(ir.inputs[0] as number, image);
      (await model.run([image])).forEach((values, k) => widen(activations[k] as number, values));
    }
  } finally {
    model.close();
  }
  return ranges;
}

describe('quantizeModel', () => {
  const ir = sampleFloatModel(3);
  const rng = new Rng(4);
  const images = Array.from({ length: 24 }, () => randomArray(rng, 8 * 8 * 3));
  const index = (name: string): number => ir.tensors.findIndex((t) => t.name === name);

  it('writes int8 activations and weights (per channel), int32 biases with scale input x weight, and int8 operator versions', async () => {
    const bytes = serializeTfliteModel(quantizeModel(ir, { ranges: await calibrate(ir, images) }));
    const info = readTfliteModel(bytes);
    const tensors = info.subgraphs[0]?.tensors ?? [];
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const conv = byName.get('conv');
    expect(conv?.type).toBe('int8');
    const weights = byName.get('conv/weights');
    expect(weights?.type).toBe('int8');
    expect(weights?.quantization?.scale).toHaveLength(16);
    expect(weights?.quantization?.quantizedDimension).toBe(0);
    expect(byName.get('dw/weights')?.quantization?.quantizedDimension).toBe(3);
    const bias = byName.get('conv/bias');
    expect(bias?.type).toBe('int32');
    const inputScale = byName.get('input/int8')?.quantization?.scale[0] as number;
    bias?.quantization?.scale.forEach((s, c) => {
      const expected = inputScale * (weights?.quantization?.scale[c] as number);
      expect(Math.abs(s - expected) / expected).toBeLessThan(1e-6);
    });
    // Float edges: QUANTIZE first, the logits dequantized, the softmax float.
    expect(byName.get('input')?.type).toBe('float32');
    expect(byName.get('probabilities')?.type).toBe('float32');
    const ops = info.subgraphs[0]?.operators.map((o) => o.opcode) ?? [];
    expect(ops[0]).toBe('QUANTIZE');
    expect(ops.slice(-2)).toEqual(['DEQUANTIZE', 'SOFTMAX']);
    const versions = Object.fromEntries(info.operatorCodes.map((c) => [c.name, c.version]));
    expect(versions).toMatchObject({ CONV_2D: 3, DEPTHWISE_CONV_2D: 3, FULLY_CONNECTED: 4, CONCATENATION: 2, MEAN: 2, ADD: 2, SLICE: 2, DEQUANTIZE: 2, QUANTIZE: 1, SOFTMAX: 1 });
    // Every tensor between the edges is int8 or an int32 constant.
    for (const t of tensors) if (!['input', 'probabilities', 'logits/float'].includes(t.name)) expect(['int8', 'int32'], t.name).toContain(t.type);
  });

  it('gives tensors that an int8 kernel copies (slice, concatenation, reshape) the same scale and zero point', async () => {
    const q = quantizeModel(ir, { ranges: await calibrate(ir, images) });
    const params = (name: string) => q.tensors[index(name)]?.quantization;
    for (const name of ['bypass', 'hswish', 'conv']) expect(params(name), name).toEqual(params('cbc'));
    expect(params('flat')).toEqual(params('gate'));
    expect(params('dw')).not.toEqual(params('cbc'));
  });

  it('runs in LiteRT and agrees with the float model (top-1 on 50 inputs, probabilities within 0.01)', async () => {
    const float = await runtime.load(serializeTfliteModel(ir));
    const int8 = await runtime.load(serializeTfliteModel(quantizeModel(ir, { ranges: await calibrate(ir, images) })));
    try {
      expect(int8.inputs[0]?.dtype).toBe('float32');
      let agree = 0;
      let worst = 0;
      const argmax = (v: Float32Array): number => v.indexOf(Math.max(...v));
      for (let k = 0; k < 50; k++) {
        const image = randomArray(rng, 8 * 8 * 3);
        const [a] = await float.run([image]);
        const [b] = await int8.run([image]);
        if (argmax(a as Float32Array) === argmax(b as Float32Array)) agree++;
        (a as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ((b as Float32Array)[i] as number)))));
      }
      expect(agree).toBeGreaterThanOrEqual(49);
      expect(worst).toBeLessThan(0.01);
    } finally {
      float.close();
      int8.close();
    }
  });

  it('with int8 inputs and outputs: no QUANTIZE/DEQUANTIZE, and the softmax has the fixed output scale 1/256, zero point -128', async () => {
    const bytes = serializeTfliteModel(quantizeModel(ir, { ranges: await calibrate(ir, images), io: 'int8' }));
    const info = readTfliteModel(bytes);
    const sg = info.subgraphs[0];
    expect(sg?.operators.map((o) => o.opcode)).not.toContain('QUANTIZE');
    const input = sg?.tensors[sg.inputs[0] as number];
    const output = sg?.tensors[sg.outputs[0] as number];
    expect(input?.type).toBe('int8');
    expect(output?.type).toBe('int8');
    expect(output?.quantization).toEqual({ scale: [Math.fround(1 / 256)], zeroPoint: [-128], quantizedDimension: 0 });
  });

  it('refuses a tensor without a calibrated range, naming it, and a NaN range', async () => {
    const ranges = await calibrate(ir, images);
    const missing = new Map(ranges);
    missing.delete(index('dw'));
    expect(() => quantizeModel(ir, { ranges: missing })).toThrow(ValidationError);
    expect(() => quantizeModel(ir, { ranges: missing })).toThrow(/no calibrated range for tensor dw$/);
    const nan = new Map(ranges).set(index('dw'), { min: Number.NaN, max: 1 });
    expect(() => quantizeModel(ir, { ranges: nan })).toThrow(/tensor dw: its calibrated range \[NaN, 1\] is not a finite interval/);
  });
});
