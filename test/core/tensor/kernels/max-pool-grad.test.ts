import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { compareKernel, randomHost, tf, TOLERANCE, useWasmAndCpu, type HostTensor } from '../compare-backends.ts';

describe('wasm MaxPoolGrad (our replacement) matches the cpu backend', () => {
  beforeAll(useWasmAndCpu);

  const cases = [
    { name: '2x2 s2 valid 6x6 (the shipped wasm kernel gets this wrong)', shape: [1, 6, 6, 1], k: 2, s: 2, pad: 'valid' },
    { name: '2x2 s2 valid batch/channels', shape: [2, 6, 6, 3], k: 2, s: 2, pad: 'valid' },
    { name: '3x3 s2 same odd size', shape: [2, 7, 7, 4], k: 3, s: 2, pad: 'same' },
    { name: '3x3 s1 same', shape: [3, 5, 4, 2], k: 3, s: 1, pad: 'same' },
    { name: '3x3 s2 valid even size', shape: [2, 8, 8, 2], k: 3, s: 2, pad: 'valid' },
    { name: '2x2 s1 valid with many ties (relu zeros)', shape: [2, 5, 5, 3], k: 2, s: 1, pad: 'valid', ties: true },
    { name: '3x3 s2 same with ties', shape: [2, 8, 8, 2], k: 3, s: 2, pad: 'same', ties: true },
  ] as const;

  it.each(cases)('$name', async (c) => {
    const rng = new Rng(c.shape[1] * 100 + c.k);
    const xHost = randomHost([...c.shape], rng);
    if ('ties' in c) xHost.values.forEach((v, i) => { xHost.values[i] = Math.max(0, Math.round(v)); });
    // The forward output is an input of the kernel; compute it once on cpu so both backends get identical data.
    await tf.setBackend('cpu');
    const y = tf.tidy(() => tf.maxPool(tf.tensor4d(xHost.values, [...c.shape]), c.k, c.s, c.pad));
    const yHost: HostTensor = { values: y.dataSync() as Float32Array, shape: y.shape };
    y.dispose();
    const { error, shape } = await compareKernel(
      'MaxPoolGrad',
      { dy: randomHost(yHost.shape, rng), input: xHost, output: yHost },
      { filterSize: c.k, strides: c.s, pad: c.pad } as never,
    );
    expect(shape).toEqual([...c.shape]);
    expect(error).toBeLessThan(TOLERANCE);
  });
});
