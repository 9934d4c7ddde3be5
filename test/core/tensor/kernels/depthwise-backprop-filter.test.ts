import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { compareKernel, convOutShape, randomHost, TOLERANCE, useWasmAndCpu } from '../compare-backends.ts';
import { convGrid, type ConvCase } from './conv-cases.ts';

/** The conv grid with multiplier 1 (what the project uses), plus a few with multiplier 2 and 3. */
function depthwiseCases(): (ConvCase & { multiplier: number })[] {
  const grid = convGrid().map((c) => ({ ...c, multiplier: 1 }));
  const withMultiplier = [grid[5], grid[12], grid[21], grid[30]]
    .filter((c) => c !== undefined)
    .map((c, i) => ({ ...c, multiplier: 2 + (i % 2), name: `${c.name} multiplier ${2 + (i % 2)}` }));
  return [...grid, ...withMultiplier];
}

describe('wasm DepthwiseConv2dNativeBackpropFilter matches the cpu backend', () => {
  beforeAll(useWasmAndCpu);

  it.each(depthwiseCases())('$name', async (c) => {
    const rng = new Rng(c.kernel * 3000 + c.height * 10 + c.inChannels);
    const xShape: [number, number, number, number] = [c.batch, c.height, c.width, c.inChannels];
    const filterShape: [number, number, number, number] = [c.kernel, c.kernel, c.inChannels, c.multiplier];
    const dyShape = convOutShape(xShape, filterShape, c.stride as number, c.pad, true, c.dimRoundingMode);
    const { error, shape } = await compareKernel(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: randomHost(xShape, rng), dy: randomHost(dyShape, rng) },
      { strides: c.stride, dilations: 1, pad: c.pad, dimRoundingMode: c.dimRoundingMode, filterShape } as never,
    );
    expect(shape).toEqual(filterShape);
    expect(error).toBeLessThan(TOLERANCE);
  });
});

