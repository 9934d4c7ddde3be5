import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kendallTau } from '../../core/stats.ts';

describe('kendallTau', () => {
  it('is 1 for the same order, -1 for the reverse order, whatever the spacing', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 25, 100])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });

  it('counts concordant minus discordant pairs over all pairs', () => {
    // Pairs of [1,2,3,4] vs [1,3,2,4]: 5 concordant, 1 discordant (2 vs 3) -> 4/6.
    expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
  });

  it('corrects the denominator for ties (tau-b)', () => {
    // a has one tie (pair 0-1); b none. n0 = 6, n1 = 1: concordant 5, discordant 0 -> 5 / sqrt(5 * 6).
    expect(kendallTau([1, 1, 2, 3], [1, 2, 3, 4])).toBeCloseTo(5 / Math.sqrt(30), 12);
  });

  it('is NaN for a constant list or fewer than two pairs, and refuses unpaired lists', () => {
    expect(kendallTau([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(kendallTau([1], [2])).toBeNaN();
    expect(() => kendallTau([1, 2], [1])).toThrow(RangeError);
  });

  it('is symmetric, bounded by 1 and flips sign when one list is negated', () => {
    const pairs = fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 })), { minLength: 2, maxLength: 12 });
    fc.assert(
      fc.property(pairs, (list) => {
        const a = list.map(([x]) => x);
        const b = list.map(([, y]) => y);
        const tau = kendallTau(a, b);
        if (Number.isNaN(tau)) return;
        expect(Math.abs(tau)).toBeLessThanOrEqual(1 + 1e-12);
        expect(kendallTau(b, a)).toBeCloseTo(tau, 12);
        expect(kendallTau(a, b.map((y) => -y))).toBeCloseTo(-tau, 12);
      }),
    );
  });
});

describe('spearman', () => {
  it('is 1 for any increasing relation, −1 for decreasing, and averages ties', async () => {
    const { spearman } = await import('../../core/stats.ts');
    expect(spearman([1, 2, 3, 4], [10, 20, 300, 4000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a = [0,1,2,3], b = [0.5,0.5,2,3]: Pearson of the ranks.
    expect(spearman([1, 2, 3, 4], [5, 5, 6, 7])).toBeCloseTo(0.9486832980505138, 12);
    expect(Number.isNaN(spearman([1, 2, 3], [2, 2, 2]))).toBe(true);
    expect(() => spearman([1], [1, 2])).toThrow(RangeError);
  });
});
