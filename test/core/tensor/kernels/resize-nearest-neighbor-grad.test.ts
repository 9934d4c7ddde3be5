import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { randomHost, relativeError, tf, TOLERANCE, useWasmAndCpu } from '../compare-backends.ts';

/**
 * The reference is derived from the wasm FORWARD op itself: resizing an image whose pixel values are their own flat
 * indices tells which source pixel each output pixel copies; the gradient adds dy into those pixels.
 * (Comparing with the cpu backend is useless here: its ResizeNearestNeighborGrad is wrong for batch > 1.)
 */
function referenceGradient(
  inShape: [number, number, number, number],
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
  dy: Float32Array,
): Float32Array {
  const count = inShape.reduce((a, b) => a * b, 1);
  const sources = tf.tidy(() =>
    tf.image.resizeNearestNeighbor(tf.range(0, count).reshape(inShape) as tf.Tensor4D, size, alignCorners, halfPixelCenters)
      .dataSync());
  const dx = new Float32Array(count);
  sources.forEach((src, o) => {
    dx[src] = (dx[src] ?? 0) + (dy[o] ?? 0);
  });
  return dx;
}

describe('wasm ResizeNearestNeighborGrad (our replacement) is the adjoint of the wasm forward op', () => {
  beforeAll(async () => {
    await useWasmAndCpu();
    await tf.setBackend('wasm');
  });

  const cases: { name: string; shape: [number, number, number, number]; size: [number, number]; ac: boolean; hpc: boolean }[] = [
    { name: '2x upscale (block-sum path)', shape: [2, 4, 5, 3], size: [8, 10], ac: false, hpc: false },
    { name: '2x upscale, half-pixel centers', shape: [2, 4, 4, 3], size: [8, 8], ac: false, hpc: true },
    { name: 'non-integer upscale', shape: [3, 4, 5, 2], size: [7, 9], ac: false, hpc: false },
    { name: 'downscale', shape: [2, 8, 7, 3], size: [3, 4], ac: false, hpc: false },
    { name: 'align corners', shape: [2, 4, 4, 3], size: [7, 6], ac: true, hpc: false },
    { name: 'half-pixel centers, non-integer', shape: [2, 5, 4, 2], size: [7, 9], ac: false, hpc: true },
  ];

  it.each(cases)('$name', (c) => {
    const rng = new Rng(c.size[0] * 31 + c.size[1]);
    const x = randomHost(c.shape, rng);
    const dy = randomHost([c.shape[0], c.size[0], c.size[1], c.shape[3]], rng);
    const expected = referenceGradient(c.shape, c.size, c.ac, c.hpc, dy.values);
    const actual = tf.tidy(() => {
      const dyT = tf.tensor(dy.values, dy.shape);
      return tf.grad((t: tf.Tensor) =>
        tf.sum(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, c.size, c.ac, c.hpc).mul(dyT)))(tf.tensor4d(x.values, c.shape))
        .dataSync();
    }) as Float32Array;
    expect(relativeError(actual, expected)).toBeLessThan(TOLERANCE);
  });
});
