import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../core/errors.ts';
import { TfliteModelBuilder } from '../../../../core/export/tflite/builder.ts';

/** Builder-side validation: wiring mistakes surface as ValidationError while building, with shapes in the message. */
describe('TfliteModelBuilder validation', () => {
  it('infers output shapes as it goes', () => {
    const m = new TfliteModelBuilder();
    const x = m.input('x', [1, 7, 8, 3]);
    const y = m.conv2d(x, { weights: new Float32Array(16 * 9 * 3), outChannels: 16, kernelSize: 3, stride: 2 });
    expect(y.shape).toEqual([1, 4, 4, 16]);
    const z = m.depthwiseConv2d(y, { weights: new Float32Array(9 * 16), kernelSize: 3, stride: 2, padding: 'valid' });
    expect(z.shape).toEqual([1, 1, 1, 16]);
    expect(() => m.depthwiseConv2d(y, { weights: new Float32Array(25 * 16), kernelSize: 5, padding: 'valid' })).toThrow(
      /kernel 5 is larger than the input size 4/,
    );
    expect(m.fullyConnected(m.mean(z, [1, 2], true), { weights: new Float32Array(160), outUnits: 10 }).shape).toEqual([1, 10]);
  });

  it('rejects weights of the wrong size, naming the tensor and the expected count', () => {
    const m = new TfliteModelBuilder();
    const x = m.input('x', [1, 8, 8, 3]);
    expect(() =>
      m.conv2d(x, { weights: new Float32Array(10), outChannels: 4, kernelSize: 3, name: 'stem' }),
    ).toThrow(/stem\/weights: shape \[4, 3, 3, 3\] needs 108 values, got 10/);
    expect(() => m.depthwiseConv2d(x, { weights: new Float32Array(27), kernelSize: 3, bias: new Float32Array(2) })).toThrow(
      ValidationError,
    );
  });

  it('rejects duplicate names, tensors of another builder, non-positive dims and empty graphs', () => {
    const m = new TfliteModelBuilder();
    const x = m.input('x', [1, 4, 4, 2]);
    expect(() => m.input('x', [1, 2])).toThrow(/already exists/);
    expect(() => m.input('y', [1, 0, 2])).toThrow(/positive integer/);
    const other = new TfliteModelBuilder().input('x', [1, 4, 4, 2]);
    expect(() => m.add(x, other)).toThrow(/does not belong/);
    expect(() => m.finish()).toThrow(/no outputs/);
    expect(() => new TfliteModelBuilder().finish()).toThrow(/no inputs/);
  });

  it('rejects int32 tensors where float32 is needed and bad strides', () => {
    const m = new TfliteModelBuilder();
    const x = m.input('x', [1, 4, 4, 2]);
    const ints = m.constant('ints', [2], Int32Array.from([1, 2]));
    expect(() => m.relu(ints)).toThrow(/float32/);
    expect(() => m.averagePool2d(x, { filterSize: 2, stride: 0 })).toThrow(/positive integers/);
  });

  it('generates unique output names that do not collide with user names', () => {
    const m = new TfliteModelBuilder();
    const x = m.input('relu_0', [1, 2]);
    const a = m.relu(x);
    const b = m.relu(a);
    expect([a.name, b.name]).toEqual(['relu_1', 'relu_2']);
  });
});
