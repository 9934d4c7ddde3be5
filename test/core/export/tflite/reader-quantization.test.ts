import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../../core/errors.ts';
import { TfliteModelBuilder } from '../../../../core/export/tflite/builder.ts';
import type { IrTensor, TfliteModelIr } from '../../../../core/export/tflite/model-ir.ts';
import { quantizeModel } from '../../../../core/export/tflite/quantize.ts';
import { readTfliteModel } from '../../../../core/export/tflite/reader.ts';
import { serializeTfliteModel } from '../../../../core/export/tflite/serialize.ts';
import { formatTfliteSummary } from '../../../../core/export/tflite/summary.ts';
import { Rng } from '../../../../core/random.ts';
import { randomArray } from '../random-data.ts';

// Tests the quantization part of core/export/tflite/reader.ts (quantization-check.ts) and of summary.ts.
function quantizedIr(): TfliteModelIr {
  const rng = new Rng(1);
  const b = new TfliteModelBuilder();
  const x = b.input('input', [1, 6, 6, 3]);
  const c = b.conv2d(x, { weights: randomArray(rng, 8 * 9 * 3), bias: randomArray(rng, 8), outChannels: 8, kernelSize: 3, activation: 'relu', name: 'conv' });
  b.output(b.fullyConnected(b.reshape(c, [1, 288]), { weights: randomArray(rng, 4 * 288), outUnits: 4, name: 'fc' }));
  const ir = b.toIr();
  const ranges = new Map(ir.tensors.map((t, i) => [i, t.name === 'conv' ? { min: 0, max: 6 } : { min: -2, max: 2 }] as const));
  return quantizeModel(ir, { ranges });
}

const good = quantizedIr();

function withTensor(name: string, change: (t: IrTensor) => IrTensor): Uint8Array {
  return serializeTfliteModel({ ...good, tensors: good.tensors.map((t) => (t.name === name ? change(t) : t)) });
}

function rejection(bytes: Uint8Array): string {
  try {
    readTfliteModel(bytes, 'model.tflite');
  } catch (error) {
    expect(error).toBeInstanceOf(FileFormatError);
    return (error as Error).message;
  }
  throw new Error('the model was accepted');
}

describe('reading quantization parameters', () => {
  it('reads back the scales, zero points and quantized dimension that were written', () => {
    const info = readTfliteModel(serializeTfliteModel(good));
    const tensors = info.subgraphs[0]?.tensors ?? [];
    good.tensors.forEach((t, i) => {
      const read = tensors[i];
      expect(read?.type).toBe(t.type);
      if (!t.quantization) return expect(read?.quantization).toBeUndefined();
      expect(read?.quantization?.scale).toEqual(t.quantization.scale.map((s) => Math.fround(s)));
      expect(read?.quantization?.zeroPoint).toEqual(t.quantization.zeroPoint);
      expect(read?.quantization?.quantizedDimension).toBe(t.quantization.quantizedDimension);
    });
  });

  it('inspect shows types, scales, zero points and operator versions', () => {
    const text = formatTfliteSummary(readTfliteModel(serializeTfliteModel(good)), 'm.tflite');
    expect(text).toMatch(/operator codes: QUANTIZE v1, CONV_2D v3, RESHAPE v1, FULLY_CONNECTED v4, DEQUANTIZE v2/);
    // conv and the reshape of it share parameters: the union of [0, 6] and [-2, 2].
    expect(text).toMatch(/conv\s+int8\s+\[1,6,6,8\]\s+scale 0\.03137 zp -64\n/);
    expect(text).toMatch(/conv\/weights\s+int8\s+\[8,3,3,3\]\s+216 B\s+per-axis d0: 8 scales \S+\.\.\S+, zp 0/);
    expect(text).toMatch(/conv\/bias\s+int32\s+\[8\]\s+32 B\s+per-axis d0: 8 scales/);
  });

  it('refuses a scale that is not a positive finite number, naming the tensor', () => {
    const q = (t: IrTensor) => t.quantization!;
    expect(rejection(withTensor('conv', (t) => ({ ...t, quantization: { ...q(t), scale: [-0.5] } })))).toMatch(
      /model\.tflite is not a valid TFLite model: subgraph 0: tensor \d+ \(conv\): quantization scale\[0\] = -0\.5 is not a positive finite number/,
    );
    expect(rejection(withTensor('conv', (t) => ({ ...t, quantization: { ...q(t), scale: [Number.NaN] } })))).toMatch(/\(conv\): quantization scale\[0\] = NaN/);
  });

  it('refuses zero points outside the type\'s range and asymmetric weights', () => {
    const q = (t: IrTensor) => t.quantization!;
    expect(rejection(withTensor('conv', (t) => ({ ...t, quantization: { ...q(t), zeroPoint: [200] } })))).toMatch(
      /tensor \d+ \(conv\): zero point\[0\] = 200 is outside the range of a int8 tensor \[-128, 127\]/,
    );
    expect(rejection(withTensor('conv/bias', (t) => ({ ...t, quantization: { ...q(t), zeroPoint: q(t).zeroPoint.map(() => 3) } })))).toMatch(
      /\(conv\/bias\): zero point\[0\] = 3 is outside the range of a int32 tensor \[0, 0\]/,
    );
    expect(rejection(withTensor('conv/weights', (t) => ({ ...t, quantization: { ...q(t), zeroPoint: q(t).zeroPoint.map(() => 1) } })))).toMatch(
      /operator 1 \(CONV_2D\) has an int8 input: its weights tensor \d+ \(conv\/weights\) must be symmetric/,
    );
  });

  it('refuses per-axis scales that do not match the quantized dimension', () => {
    const q = (t: IrTensor) => t.quantization!;
    expect(rejection(withTensor('conv/weights', (t) => ({ ...t, quantization: { ...q(t), scale: q(t).scale.slice(1), zeroPoint: q(t).zeroPoint.slice(1) } })))).toMatch(
      /\(conv\/weights\) has 7 per-axis scales, but dimension 0 of its shape \[8,3,3,3\] has 8 slices/,
    );
    expect(rejection(withTensor('conv/weights', (t) => ({ ...t, quantization: { ...q(t), quantizedDimension: 4 } })))).toMatch(
      /quantized_dimension 4 is not a dimension of its shape/,
    );
    expect(rejection(withTensor('conv/weights', (t) => ({ ...t, quantization: { ...q(t), zeroPoint: [0] } })))).toMatch(/has 8 quantization scales but 1 zero points/);
  });

  it('refuses a bias of the wrong type or scale for an int8 convolution', () => {
    // float32 has int32's width, so only the declared type is wrong.
    expect(rejection(withTensor('conv/bias', (t) => ({ ...t, type: 'float32' })))).toMatch(
      /operator 1 \(CONV_2D\) has an int8 input, so its bias tensor \d+ \(conv\/bias\) must be int32, not float32/,
    );
    const doubled = withTensor('conv/bias', (t) => ({ ...t, quantization: { ...t.quantization!, scale: t.quantization!.scale.map((s) => 2 * s) } }));
    expect(rejection(doubled)).toMatch(/the bias tensor \d+ \(conv\/bias\) of operator 1 \(CONV_2D\) has scale\[0\] = \S+, but input scale × weight scale = \S+/);
    expect(rejection(withTensor('conv/bias', (t) => {
      const { quantization: _dropped, ...rest } = t;
      return rest;
    }))).toMatch(/but its bias tensor \d+ \(conv\/bias\) has no quantization parameters/);
  });

  it('random byte flips of a quantized model give a summary or a FileFormatError, nothing else', () => {
    const valid = serializeTfliteModel(good);
    const flip = fc.record({ at: fc.nat({ max: valid.length - 1 }), value: fc.nat({ max: 255 }) });
    fc.assert(
      fc.property(fc.array(flip, { minLength: 1, maxLength: 8 }), (flips) => {
        const copy = valid.slice();
        for (const { at, value } of flips) copy[at] = value;
        try {
          readTfliteModel(copy);
        } catch (error) {
          if (!(error instanceof FileFormatError)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
