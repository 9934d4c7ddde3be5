/** Numbers and times as the screens show them; counts, latency and percentages come from the one units module. */
import type { ScoreKind } from '../../../app/api/contract/types.ts';
import { formatCount as count, formatMs, formatPercent, formatResource } from '../../../app/api/contract/units.ts';

export { formatMs, formatPercent, formatResource };

export function formatCount(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : count(value);
}

/** "2 h 05 min", "3 min 20 s", "12 s". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** An accuracy as a percentage; a dry run's synthetic score as a plain number, marked. */
export function formatScore(score: number | undefined, kind: ScoreKind = 'accuracy'): string {
  if (score === undefined || !Number.isFinite(score)) return '–';
  if (kind === 'synthetic') return `${score.toFixed(3)} (synthetic)`;
  return formatPercent(score);
}

/** A resource value in its unit, '–' when absent. */
export function formatValue(value: number | undefined, unit: string): string {
  return value === undefined || !Number.isFinite(value) ? '–' : formatResource(value, unit);
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
