import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { extent, linePath, linearScale, niceTicks, pad, smooth } from '../../renderer/src/lib/plot.ts';

describe('plot helpers', () => {
  it('linearScale maps the domain ends onto the range ends (also inverted ranges)', () => {
    const y = linearScale([0, 10], [300, 20]);
    expect(y(0)).toBe(300);
    expect(y(10)).toBe(20);
    expect(y(5)).toBe(160);
    expect(linearScale([3, 3], [0, 100])(3)).toBe(50);
  });

  it('extent ignores non-finite values', () => {
    expect(extent([3, Number.NaN, -1, Number.POSITIVE_INFINITY, 7])).toEqual([-1, 7]);
    expect(extent([])).toBeUndefined();
  });

  it('pad widens a zero-width domain', () => {
    expect(pad([5, 5])).toEqual([4.5, 5.5]);
    expect(pad([0, 0])).toEqual([-1, 1]);
    expect(pad([0, 100], 0.1)).toEqual([-10, 110]);
  });

  it('niceTicks are round, ascending, inside the domain and roughly as many as asked', () => {
    fc.assert(
      // Plot domains: widths not vanishing against the values (float spacing would make any tick step meaningless).
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (min, width) => {
        const ticks = niceTicks(min, min + width, 5);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(11);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]!).toBeGreaterThan(ticks[i - 1]!);
        const step = ticks[1]! - ticks[0]!;
        const mantissa = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 2.5, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
        const slack = step * 1e-6;
        expect(ticks[0]!).toBeGreaterThanOrEqual(min - slack);
        expect(ticks.at(-1)!).toBeLessThanOrEqual(min + width + slack);
      }),
    );
  });

  it('formats path data', () => {
    expect(linePath([{ x: 1, y: 2 }, { x: 3.25, y: 4 }])).toBe('M1.0,2.0 L3.3,4.0');
  });

  it('smooths a loss series with an exponential moving average, keeping x', () => {
    const points = [{ x: 0, y: 10 }, { x: 1, y: 0 }, { x: 2, y: 0 }];
    expect(smooth(points, 0.5)).toEqual([{ x: 0, y: 10 }, { x: 1, y: 5 }, { x: 2, y: 2.5 }]);
    expect(smooth(points, 0)).toEqual(points);
  });
});
