/** Scales for the SVG plots (Plot.svelte); ticks and their labels come from the one units module. */
import { axisUnitOf, type AxisUnit } from '../../../app/api/contract/units.ts';

export { axisTitle, axisUnitOf, niceTicks, tickLabels, type AxisUnit } from '../../../app/api/contract/units.ts';

export interface Point {
  x: number;
  y: number;
}

export type Scale = (value: number) => number;

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps to the middle of the range. */
export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): Scale {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (value) => r0 + (value - d0) * k;
}

/** Min and max of the finite values, or undefined when there are none. */
export function extent(values: Iterable<number>): [number, number] | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : undefined;
}

/** Widens a domain by a fraction on both sides (a single value gets a unit-sized window). */
export function pad([min, max]: readonly [number, number], fraction = 0.05): [number, number] {
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - d, max + d];
  }
  const d = (max - min) * fraction;
  return [min - d, max + d];
}

/** SVG path data through the points (in order), already in pixel space. */
export function linePath(points: readonly Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

/** Exponential moving average of a series (what "smoothed loss" draws); `weight` of the past, 0 = none. */
export function smooth(points: readonly Point[], weight = 0.9): Point[] {
  let value: number | undefined;
  return points.map((p) => {
    value = value === undefined ? p.y : weight * value + (1 - weight) * p.y;
    return { x: p.x, y: value };
  });
}

/** The x axis of a resource in its metric's unit (latency in ms/µs, MACs, params). */
export function resourceAxis(unit: string): { xLabel: string; xUnit: AxisUnit } {
  return { xLabel: unit === 'ms' ? 'latency' : unit, xUnit: axisUnitOf(unit) };
}

/** The y axis of a run's scores: accuracies as percentages, a dry run's synthetic score as a plain number. */
export function scoreAxis(kind: string): { yLabel: string; yUnit: AxisUnit } {
  return kind === 'synthetic' ? { yLabel: 'synthetic score', yUnit: 'plain' } : { yLabel: 'held-out top-1', yUnit: 'percent' };
}
