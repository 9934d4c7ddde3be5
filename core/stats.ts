/** Small statistics helpers (medians, spreads, quantiles) shared by the profilers, the stores and the benchmarks. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Population standard deviation divided by the mean (0 for fewer than two values). */
export function relativeStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const average = mean(values);
  if (average === 0) return 0;
  const variance = mean(values.map((value) => (value - average) ** 2));
  return Math.sqrt(variance) / Math.abs(average);
}

/** Linear-interpolated quantile of an already sorted list (NaN for an empty list). */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * Kendall rank correlation τ-b of two paired lists (tied pairs count as neither concordant nor discordant, and the
 * denominator is corrected for ties). NaN when fewer than two pairs or when either list is constant.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`kendallTau needs paired lists (got ${a.length} and ${b.length} values)`);
  let concordant = 0;
  let discordant = 0;
  let tiedOnlyA = 0;
  let tiedOnlyB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign((a[j] as number) - (a[i] as number));
      const db = Math.sign((b[j] as number) - (b[i] as number));
      if (da === 0 && db === 0) continue;
      if (da === 0) tiedOnlyA++;
      else if (db === 0) tiedOnlyB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiedOnlyA) * (concordant + discordant + tiedOnlyB));
  return denominator === 0 ? Number.NaN : (concordant - discordant) / denominator;
}

/** Ranks with ties given their average rank (0-based). */
function averageRanks(values: readonly number[]): number[] {
  const order = values.map((x, i) => ({ x, i })).sort((p, q) => p.x - q.x);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.x === order[i]!.x) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!.i] = (i + j) / 2;
    i = j + 1;
  }
  return ranks;
}

/** Spearman rank correlation (Pearson correlation of average ranks); NaN when either list is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lists of different lengths (${a.length} and ${b.length})`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}
