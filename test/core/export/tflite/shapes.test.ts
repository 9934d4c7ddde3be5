import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../core/errors.ts';
import {
  broadcastShapes,
  concatShape,
  padShape,
  reduceShape,
  resolveReshape,
  sliceShape,
  spatialPadding,
  stridedSliceShape,
  windowOutputShape,
} from '../../../../core/export/tflite/shapes.ts';

describe('spatialPadding (TFLite rules)', () => {
  it('SAME: ceil(in / stride) outputs, the odd padding element after', () => {
    expect(spatialPadding(7, 3, 2, 'same')).toEqual({ outSize: 4, before: 1, after: 1 });
    expect(spatialPadding(8, 3, 2, 'same')).toEqual({ outSize: 4, before: 0, after: 1 });
    expect(spatialPadding(8, 2, 2, 'same')).toEqual({ outSize: 4, before: 0, after: 0 });
    expect(spatialPadding(6, 5, 2, 'same')).toEqual({ outSize: 3, before: 1, after: 2 });
    expect(spatialPadding(5, 1, 2, 'same')).toEqual({ outSize: 3, before: 0, after: 0 });
    expect(spatialPadding(9, 3, 1, 'same')).toEqual({ outSize: 9, before: 1, after: 1 });
  });

  it('VALID: floor((in - k) / stride) + 1 and no padding; a kernel larger than the input is an error', () => {
    expect(spatialPadding(8, 3, 2, 'valid')).toEqual({ outSize: 3, before: 0, after: 0 });
    expect(spatialPadding(7, 7, 1, 'valid')).toEqual({ outSize: 1, before: 0, after: 0 });
    expect(() => spatialPadding(2, 3, 1, 'valid')).toThrow(ValidationError);
  });

  it('window output shape keeps batch and sets channels', () => {
    expect(windowOutputShape([2, 7, 8, 3], [3, 3], [2, 2], 'same', 16)).toEqual([2, 4, 4, 16]);
    expect(() => windowOutputShape([7, 8, 3], [3, 3], [1, 1], 'same', 1)).toThrow(/rank-4/);
  });
});

describe('shape rules of the other operators', () => {
  it('broadcasts like NumPy and rejects incompatible shapes', () => {
    expect(broadcastShapes([1, 4, 4, 8], [1, 1, 1, 8])).toEqual([1, 4, 4, 8]);
    expect(broadcastShapes([1, 4, 4, 8], [8])).toEqual([1, 4, 4, 8]);
    expect(() => broadcastShapes([1, 4, 4, 8], [1, 4, 4, 7])).toThrow(/cannot be broadcast/);
  });

  it('reduces with and without keep_dims, accepting negative axes', () => {
    expect(reduceShape([1, 5, 6, 7], [1, 2], true)).toEqual([1, 1, 1, 7]);
    expect(reduceShape([1, 5, 6, 7], [1, -2], false)).toEqual([1, 7]);
    expect(() => reduceShape([1, 5], [2], false)).toThrow(/out of range/);
  });

  it('resolves one -1 in a reshape and rejects impossible targets', () => {
    expect(resolveReshape([1, 2, 3, 4], [2, -1])).toEqual([2, 12]);
    expect(() => resolveReshape([1, 2, 3, 4], [5, -1])).toThrow(/cannot reshape/);
    expect(() => resolveReshape([1, 2, 3, 4], [-1, -1])).toThrow(/invalid target/);
  });

  it('concatenates along an axis only when the other dimensions agree', () => {
    expect(concatShape([[1, 3, 4, 2], [1, 3, 4, 5]], -1)).toEqual([1, 3, 4, 7]);
    expect(() => concatShape([[1, 3, 4, 2], [1, 2, 4, 5]], 3)).toThrow(/differ off the axis/);
  });

  it('slices with -1 sizes and checks bounds', () => {
    expect(sliceShape([1, 6, 5, 8], [0, 2, 0, 4], [-1, -1, -1, -1])).toEqual([1, 4, 5, 4]);
    expect(() => sliceShape([1, 6, 5, 8], [0, 5, 0, 0], [1, 2, 1, 1])).toThrow(/does not fit/);
  });

  it('strided slices with negative begins, masks and positive strides only', () => {
    expect(stridedSliceShape([1, 7, 6, 8], [0, 1, 0, 2], [1, 7, 6, 8], [1, 2, 2, 3])).toEqual([1, 3, 3, 2]);
    expect(stridedSliceShape([1, 7, 6, 8], [0, -4, 3, 0], [0, 0, 0, 4], [1, 1, 1, 1], { beginMask: 1, endMask: 7 })).toEqual([
      1, 4, 3, 4,
    ]);
    expect(() => stridedSliceShape([4], [0], [4], [-1])).toThrow(/positive strides/);
    expect(() => stridedSliceShape([4], [3], [1], [1])).toThrow(/empty/);
  });

  it('pads by [before, after] per dimension', () => {
    expect(padShape([1, 3, 4, 2], [[0, 0], [1, 2], [0, 3], [1, 0]])).toEqual([1, 6, 7, 3]);
    expect(() => padShape([1, 3], [[0, 0], [-1, 0]])).toThrow(/non-negative/);
  });
});
