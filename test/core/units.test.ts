import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { axisTitle, formatCount, formatMs, formatPercent, formatResource, niceTicks, tickDecimals, tickLabels } from '../../core/units.ts';

describe('units: one formatter for the reports, the CLI and the app', () => {
  it('formats counts with K/M/G, latency in ms or µs by magnitude, fractions as percentages', () => {
    expect(formatCount(1_320_000)).toBe('1.32M');
    expect(formatCount(88_826)).toBe('88.8K');
    expect(formatCount(626_000)).toBe('626K');
    expect(formatCount(568_740_000)).toBe('568.74M');
    expect(formatCount(12)).toBe('12');
    expect(formatMs(123.4)).toBe('123.4 ms');
    expect(formatMs(2.5)).toBe('2.50 ms');
    expect(formatMs(0.85)).toBe('850 µs');
    expect(formatMs(0.042)).toBe('42.0 µs');
    expect(formatResource(0.85, 'ms')).toBe('850 µs');
    expect(formatResource(3_045_632, 'MACs')).toBe('3.05M MACs');
    expect(formatPercent(0.2617)).toBe('26.2%');
    expect(formatPercent(undefined)).toBe('–');
  });

  it('never prints two neighbouring ticks alike (the 0.09, 0.09, 0.091 of issue 16)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-4, max: 1e9, noNaN: true }), fc.double({ min: 1e-3, max: 10, noNaN: true }), (start, relative) => {
        const ticks = niceTicks(start, start * (1 + relative), 5);
        for (const unit of ['MACs', 'ms', 'percent', 'plain'] as const) {
          const labels = tickLabels(ticks, unit);
          expect(new Set(labels).size).toBe(labels.length);
        }
      }),
    );
    expect(tickLabels(niceTicks(0.0895, 0.0912, 5), 'ms')).toEqual(['89.5', '90.0', '90.5', '91.0']);
    expect(axisTitle('latency', 'ms', niceTicks(0.0895, 0.0912, 5))).toBe('latency (µs)');
    expect(axisTitle('latency', 'ms', [1, 2, 3])).toBe('latency (ms)');
  });

  it('labels one axis in one scale: MACs all in M, percentages with the decimals the step needs', () => {
    expect(tickLabels([500_000, 1_000_000, 1_500_000], 'MACs')).toEqual(['0.5M', '1.0M', '1.5M']);
    expect(tickLabels([0.2, 0.4, 0.6], 'percent')).toEqual(['20%', '40%', '60%']);
    expect(tickLabels([0.9, 0.925, 0.95], 'percent')).toEqual(['90.0%', '92.5%', '95.0%']);
    expect(tickDecimals([0, 0.25, 0.5])).toBe(2);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});
