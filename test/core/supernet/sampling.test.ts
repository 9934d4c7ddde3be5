import { describe, expect, it } from 'vitest';
import { loadNetwork, searchSpace } from '../../../core/arch/index.ts';
import { sampleBatchSubnets } from '../../../core/supernet/sampling.ts';
import { smallSpec } from './fixtures.ts';

describe('balanced width sampling', () => {
  for (const [label, specOf] of [['small test network', smallSpec], ['netadaptv2-latency-32', () => loadNetwork('netadaptv2-latency-32')]] as const) {
    it(`${label}: every layer's width-level counts differ by at most 1 in every batch`, () => {
      const space = searchSpace(specOf());
      for (const n of [2, 5, 8, 9, 17, 64]) {
        for (let step = 0; step < 6; step++) {
          const configs = sampleBatchSubnets(space, n, 42, step);
          expect(configs).toHaveLength(n);
          space.layers.forEach((layer, l) => {
            const counts = new Map<number, number>();
            for (let v = layer.minLevel; v < space.widthLevels; v++) counts.set(v, 0);
            for (const c of configs) {
              const level = c.levels[l] as number;
              expect(counts.has(level)).toBe(true);
              counts.set(level, (counts.get(level) as number) + 1);
            }
            const values = [...counts.values()];
            expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
            expect(values.reduce((a, b) => a + b, 0)).toBe(n);
          });
          // Image 0 is the full network, image 1 the smallest.
          expect(configs[0]!.levels).toEqual(space.layers.map(() => space.widthLevels - 1));
          expect(configs[0]!.kernels).toEqual(space.layers.map((l) => l.fullKernel));
          expect(configs[1]!.levels).toEqual(space.layers.map((l) => l.minLevel));
        }
      }
    });
  }

  it('is deterministic from (seed, step), differs across steps and permutes layers independently', () => {
    const space = searchSpace(smallSpec());
    const a = sampleBatchSubnets(space, 16, 1, 3);
    const b = sampleBatchSubnets(space, 16, 1, 3);
    const c = sampleBatchSubnets(space, 16, 1, 4);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // Independent per-layer permutations: two layers with the same number of levels are not always in lockstep.
    const column = (l: number) => a.slice(2).map((s) => s.levels[l]);
    const sameLevels = space.layers.map((layer, i) => ({ layer, i })).filter(({ layer }) => layer.minLevel === 0);
    const first = sameLevels[0]!.i;
    expect(sameLevels.some(({ i }) => JSON.stringify(column(i)) !== JSON.stringify(column(first)))).toBe(true);
  });

  it('per-image kernel sampling balances kernel sizes; per-step shares one size among images 1..N-1', () => {
    const space = searchSpace(smallSpec());
    const l = space.layers.findIndex((x) => x.id === 'b2.dw');
    const perImage = sampleBatchSubnets(space, 12, 5, 0, { kernels: 'per-image' }).map((c) => c.kernels[l]);
    for (const k of [3, 5, 7]) expect(perImage.filter((x) => x === k)).toHaveLength(4);
    const perStep = sampleBatchSubnets(space, 12, 5, 0).map((c) => c.kernels[l]);
    expect(perStep[0]).toBe(7);
    expect(new Set(perStep.slice(1)).size).toBe(1);
  });
});
