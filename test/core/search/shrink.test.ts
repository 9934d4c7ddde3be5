import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, searchSpace, widthAtLevel } from '../../../core/arch/index.ts';
import { applyMove, availableMoves, lowerKernel, lowerWidthLevel } from '../../../core/search/shrink.ts';

const spec = loadNetwork('netadaptv2-latency-32');
const space = searchSpace(spec);

describe('shrink moves', () => {
  it('a width step always removes filters (levels of equal width are skipped) and stops at the lowest level', () => {
    space.layers.forEach((layer, i) => {
      let level: number | undefined = space.widthLevels - 1;
      let previous = widthAtLevel(layer.fullFilters, space.widthLevels, level);
      let steps = 0;
      while ((level = lowerWidthLevel(space, i, level)) !== undefined) {
        const width = widthAtLevel(layer.fullFilters, space.widthLevels, level);
        expect(width).toBeLessThan(previous);
        expect(level).toBeGreaterThanOrEqual(layer.minLevel);
        previous = width;
        steps++;
      }
      expect(steps).toBeGreaterThan(0);
    });
  });

  it('kernel moves go to the next smaller odd kernel; removed layers have no kernel moves', () => {
    const index = space.layers.findIndex((l) => l.kernels.length > 1);
    expect(index).toBeGreaterThanOrEqual(0);
    const layer = space.layers[index];
    expect(lowerKernel(space, index, layer?.fullKernel as number)).toBe((layer?.fullKernel as number) - 2);
    const config = fullSubnet(space);
    expect(availableMoves(space, config, index)).toEqual(['width', 'kernel', 'both']);
    applyMove(space, config, index, 'both');
    expect(config.kernels[index]).toBe((layer?.fullKernel as number) - 2);
    config.levels[index] = 0;
    expect(availableMoves(space, config, index)).toEqual([]);
  });
});
