/**
 * Numbers as people read them, and the ticks of every plot: counts with K/M/G, latency in ms or µs by magnitude,
 * fractions as percentages, round axis ticks. Pure and dependency-free: the SVG reports (core/search), the CLI and the
 * app's renderer (through app/api/contract/units.ts) all format with these.
 */

/** 1.23G, 568.74M, 626K, 7.8K, 12 (M and G keep two decimals: the architecture tables print totals that way). */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) {
    const thousands = value / 1e3;
    return `${thousands.toFixed(Math.abs(thousands) >= 100 ? 0 : 1)}K`;
  }
  return String(Math.round(value * 100) / 100);
}

/** A latency given in milliseconds: "12.3 ms", "1.50 ms", "850 µs", "42.0 µs". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs >= 100) return `${ms.toFixed(1)} ms`;
  if (abs >= 1) return `${ms.toFixed(2)} ms`;
  const us = ms * 1000;
  return Math.abs(us) >= 100 ? `${us.toFixed(0)} µs` : `${us.toFixed(1)} µs`;
}

/** A resource value in its metric's unit: "2.50 ms", "1.32M MACs", "120.5K params". */
export function formatResource(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'ms') return formatMs(value);
  return unit === '' ? formatCount(value) : `${formatCount(value)} ${unit}`;
}

/** 0.926 → "92.6%". */
export function formatPercent(fraction: number | undefined, digits = 1): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return '–';
  return `${(fraction * 100).toFixed(digits)}%`;
}

/**
 * About `count` round tick values covering [min, max]: steps of 1, 2, 2.5 or 5 × 10^k, so neighbouring labels never
 * repeat when printed with `tickDecimals(ticks)` decimals.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || count < 1) return [];
  if (min === max) return [min];
  if (min > max) [min, max] = [max, min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough * (1 - 1e-9)) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Decimals needed to print every tick of an evenly spaced set distinctly (0.25 steps: 2; 0.5: 1; 20: 0). */
export function tickDecimals(ticks: readonly number[]): number {
  if (ticks.length < 2) return 0;
  const step = Math.abs((ticks[1] as number) - (ticks[0] as number));
  for (let d = 0; d <= 15; d++) {
    const scaled = step * 10 ** d;
    if (scaled >= 1 - 1e-9 && Math.abs(Math.round(scaled) - scaled) < 1e-6 * scaled) return d;
  }
  return 15;
}

export type AxisUnit = 'MACs' | 'params' | 'ms' | 'percent' | 'count' | 'plain';

/** The axis unit of a resource metric's unit string ("MACs", "params", "ms"). */
export function axisUnitOf(unit: string): AxisUnit {
  return unit === 'MACs' || unit === 'params' || unit === 'ms' ? unit : 'plain';
}

/**
 * Tick labels of one axis, all in one scale so they read as a sequence: MACs/params/count with one K/M/G suffix
 * chosen by the largest tick, latency as numbers in ms or µs (chosen by the largest tick; the title names it, see
 * axisTitle), percentages of fractions, or plain numbers.
 */
export function tickLabels(ticks: readonly number[], unit: AxisUnit): string[] {
  const largest = Math.max(0, ...ticks.map((t) => Math.abs(t)));
  if (unit === 'percent') {
    const scaled = ticks.map((t) => t * 100);
    const d = tickDecimals(scaled);
    return scaled.map((t) => `${t.toFixed(d)}%`);
  }
  if (unit === 'ms') {
    const micro = largest < 1;
    const scaled = ticks.map((t) => (micro ? t * 1000 : t));
    const d = tickDecimals(scaled);
    return scaled.map((t) => t.toFixed(d));
  }
  if (unit === 'plain') {
    const d = tickDecimals(ticks);
    return ticks.map((t) => t.toFixed(d));
  }
  const [divisor, suffix] = largest >= 1e9 ? [1e9, 'G'] : largest >= 1e6 ? [1e6, 'M'] : largest >= 1e3 ? [1e3, 'K'] : [1, ''];
  const scaled = ticks.map((t) => t / divisor);
  const d = tickDecimals(scaled);
  return scaled.map((t) => `${t.toFixed(d)}${suffix}`);
}

/** An axis title with its unit: "latency (ms)" (µs when every tick is below 1 ms); counts and percentages carry theirs in the labels. */
export function axisTitle(name: string, unit: AxisUnit, ticks: readonly number[] = []): string {
  if (unit === 'ms') return `${name} (${ticks.length > 0 && Math.max(...ticks.map((t) => Math.abs(t))) < 1 ? 'µs' : 'ms'})`;
  return name;
}
