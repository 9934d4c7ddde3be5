/**
 * The accuracy-vs-resource scatter of a search as a hand-written SVG (no plotting dependency): every evaluated
 * sample as a grey dot, each iteration's best as a blue point on the trajectory line, the discovered network as a
 * red ring, and the final target as a dashed vertical line. Ticks and labels come from core/units.ts (the app's plots use
 * the same ones).
 */
import { axisTitle, niceTicks, tickLabels, type AxisUnit } from '../units.ts';

export interface ScatterPoint {
  resource: number;
  score: number;
}

export interface ScatterInput {
  samples: readonly ScatterPoint[];
  trajectory: readonly ScatterPoint[];
  best?: ScatterPoint;
  finalTarget?: number;
  xLabel: string;
  yLabel: string;
  /** How the axes' ticks are labelled (default plain numbers). */
  xUnit?: AxisUnit;
  yUnit?: AxisUnit;
  title?: string;
  width?: number;
  height?: number;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderScatterSvg(input: ScatterInput): string {
  const width = input.width ?? 720;
  const height = input.height ?? 440;
  const margin = { left: 72, right: 20, top: 44, bottom: 48 };
  const all = [...input.samples, ...input.trajectory, ...(input.best ? [input.best] : [])];
  const xs = all.map((p) => p.resource).concat(input.finalTarget === undefined ? [] : [input.finalTarget]);
  const ys = all.map((p) => p.score);
  const pad = (lo: number, hi: number) => {
    const span = hi - lo || Math.abs(hi) || 1;
    return [lo - span * 0.04, hi + span * 0.04] as const;
  };
  const [x0, x1] = xs.length ? pad(Math.min(...xs), Math.max(...xs)) : [0, 1];
  const [y0, y1] = ys.length ? pad(Math.min(...ys), Math.max(...ys)) : [0, 1];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  );
  if (input.title) out.push(`<text x="${margin.left}" y="18" font-size="14">${escapeXml(input.title)}</text>`);
  out.push(`<g stroke="#e3e3e3">`);
  const xTicks = niceTicks(x0, x1, 6);
  const yTicks = niceTicks(y0, y1, 6);
  for (const t of xTicks) out.push(`<line x1="${f(sx(t))}" y1="${margin.top}" x2="${f(sx(t))}" y2="${margin.top + plotH}"/>`);
  for (const t of yTicks) out.push(`<line x1="${margin.left}" y1="${f(sy(t))}" x2="${margin.left + plotW}" y2="${f(sy(t))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  const xUnit = input.xUnit ?? 'plain';
  const yUnit = input.yUnit ?? 'plain';
  const xText = tickLabels(xTicks, xUnit);
  const yText = tickLabels(yTicks, yUnit);
  xTicks.forEach((t, i) => out.push(`<text x="${f(sx(t))}" y="${margin.top + plotH + 16}" text-anchor="middle">${xText[i]}</text>`));
  yTicks.forEach((t, i) => out.push(`<text x="${margin.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${yText[i]}</text>`));
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(axisTitle(input.xLabel, xUnit, xTicks))}</text>`);
  out.push(
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(axisTitle(input.yLabel, yUnit, yTicks))}</text>`,
  );
  if (input.finalTarget !== undefined) {
    const x = f(sx(input.finalTarget));
    out.push(`<line class="target" x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotH}" stroke="#d62728" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${x}" y="${margin.top + 12}" dx="4" fill="#d62728">target</text>`);
  }
  out.push('<g class="samples" fill="#9a9a9a" fill-opacity="0.55">');
  for (const p of input.samples) out.push(`<circle cx="${f(sx(p.resource))}" cy="${f(sy(p.score))}" r="2.2"/>`);
  out.push('</g>');
  if (input.trajectory.length > 0) {
    const path = input.trajectory.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(sx(p.resource))},${f(sy(p.score))}`).join(' ');
    out.push(`<path class="trajectory" d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
    out.push('<g class="bests" fill="#1f77b4">');
    for (const p of input.trajectory) out.push(`<circle cx="${f(sx(p.resource))}" cy="${f(sy(p.score))}" r="3.2"/>`);
    out.push('</g>');
  }
  if (input.best) {
    out.push(`<circle class="best" cx="${f(sx(input.best.resource))}" cy="${f(sy(input.best.score))}" r="7" fill="none" stroke="#d62728" stroke-width="2"/>`);
  }
  const legendY = 36;
  out.push(
    `<g font-size="10"><circle cx="${width - 250}" cy="${legendY - 3}" r="3" fill="#9a9a9a"/><text x="${width - 243}" y="${legendY}">samples</text>` +
      `<circle cx="${width - 185}" cy="${legendY - 3}" r="3" fill="#1f77b4"/><text x="${width - 178}" y="${legendY}">best per iteration</text>` +
      `<circle cx="${width - 80}" cy="${legendY - 3}" r="5" fill="none" stroke="#d62728" stroke-width="2"/><text x="${width - 71}" y="${legendY}">result</text></g>`,
  );
  out.push('</svg>');
  return out.join('\n');
}
