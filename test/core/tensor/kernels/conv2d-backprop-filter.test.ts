import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { compareKernel, convOutShape, randomHost, TOLERANCE, useWasmAndCpu } from '../compare-backends.ts';
import { convGrid } from './conv-cases.ts';

describe('wasm Conv2DBackpropFilter matches the cpu backend', () => {
  beforeAll(useWasmAndCpu);

  it.each(convGrid())('$name', async (c) => {
    const rng = new Rng(c.kernel * 1000 + c.height * 10 + c.inChannels);
    const xShape: [number, number, number, number] = [c.batch, c.height, c.width, c.inChannels];
    const filterShape: [number, number, number, number] = [c.kernel, c.kernel, c.inChannels, c.outChannels];
    const dyShape = convOutShape(xShape, filterShape, c.stride as number, c.pad, false, c.dimRoundingMode);
    const { error, shape } = await compareKernel(
      'Conv2DBackpropFilter',
      { x: randomHost(xShape, rng), dy: randomHost(dyShape, rng) },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, filterShape } as never,
    );
    expect(shape).toEqual(filterShape);
    expect(error).toBeLessThan(TOLERANCE);
  });
});
