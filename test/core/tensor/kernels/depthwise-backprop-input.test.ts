import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../core/random.ts';
import { compareKernel, convOutShape, randomHost, tf, TOLERANCE, useWasmAndCpu } from '../compare-backends.ts';
import { convGrid, type ConvCase } from './conv-cases.ts';

function depthwiseCases(): (ConvCase & { multiplier: number })[] {
  const grid = convGrid().map((c) => ({ ...c, multiplier: 1 }));
  const withMultiplier = [grid[3], grid[10], grid[19], grid[28]]
    .filter((c) => c !== undefined)
    .map((c, i) => ({ ...c, multiplier: 2 + (i % 2), name: `${c.name} multiplier ${2 + (i % 2)}` }));
  return [...grid, ...withMultiplier];
}

describe('wasm DepthwiseConv2dNativeBackpropInput matches the cpu backend', () => {
  beforeAll(useWasmAndCpu);

  it.each(depthwiseCases())('$name', async (c) => {
    const rng = new Rng(c.kernel * 4000 + c.height * 10 + c.inChannels);
    const inputShape: [number, number, number, number] = [c.batch, c.height, c.width, c.inChannels];
    const filterShape: [number, number, number, number] = [c.kernel, c.kernel, c.inChannels, c.multiplier];
    const dyShape = convOutShape(inputShape, filterShape, c.stride as number, c.pad, true, c.dimRoundingMode);
    const { error, shape } = await compareKernel(
      'DepthwiseConv2dNativeBackpropInput',
      { dy: randomHost(dyShape, rng), filter: randomHost(filterShape, rng) },
      { strides: c.stride, dilations: 1, pad: c.pad, dimRoundingMode: c.dimRoundingMode, inputShape } as never,
    );
    expect(shape).toEqual(inputShape);
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('rejects dilations > 1 with an error naming the limitation', async () => {
    await tf.setBackend('wasm');
    const run = (): unknown => tf.tidy(() => tf.engine().runKernel(
      'DepthwiseConv2dNativeBackpropInput',
      { dy: tf.ones([1, 4, 4, 2]), filter: tf.ones([3, 3, 2, 1]) },
      { strides: 1, dilations: 2, pad: 'same', inputShape: [1, 4, 4, 2] } as never,
    ));
    expect(run).toThrow(/dilation 1/);
  });
});
