import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { compareKernel, convOutShape, randomHost, TOLERANCE, useWasmAndCpu } from '../compare-backends.ts';
import { convGrid } from './conv-cases.ts';

describe('wasm Conv2DBackpropInput (our replacement) matches the cpu backend', () => {
  beforeAll(useWasmAndCpu);

  it.each(convGrid())('$name', async (c) => {
    const rng = new Rng(c.kernel * 2000 + c.height * 10 + c.outChannels);
    const inputShape: [number, number, number, number] = [c.batch, c.height, c.width, c.inChannels];
    const filterShape: [number, number, number, number] = [c.kernel, c.kernel, c.inChannels, c.outChannels];
    const dyShape = convOutShape(inputShape, filterShape, c.stride as number, c.pad, false, c.dimRoundingMode);
    const { error, shape } = await compareKernel(
      'Conv2DBackpropInput',
      { dy: randomHost(dyShape, rng), filter: randomHost(filterShape, rng) },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, inputShape } as never,
    );
    expect(shape).toEqual(inputShape);
    expect(error).toBeLessThan(TOLERANCE);
  });
});
