/** Human-readable resource values, by unit. */
export function formatResource(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'ms') return `${value.toFixed(value >= 100 ? 1 : 2)} ms`;
  const abs = Math.abs(value);
  const scaled =
    abs >= 1e9 ? `${(value / 1e9).toFixed(2)}G` : abs >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : abs >= 1e3 ? `${(value / 1e3).toFixed(1)}K` : `${Math.round(value * 100) / 100}`;
  return `${scaled} ${unit}`;
}
