import { describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork, searchSpace, subnetKey } from '../../../core/arch/index.ts';
import { pickSubnetsOverMacs } from '../../../core/supernet/ranking.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG } from '../../../core/supernet/training/recipes.ts';

describe('sub-network populations for ranking checks', () => {
  const spec = loadNetwork(DEMO_NETWORK);
  const space = searchSpace(spec);
  const fullMacs = resolveNetwork(spec).macs;

  for (const population of ['training', 'uniform', 'shrink'] as const) {
    it(`${population}: distinct sub-networks, sorted by MACs, below the full network`, () => {
      const picked = pickSubnetsOverMacs(spec, population, 8, DEMO_TRAIN_CONFIG, 3);
      expect(picked).toHaveLength(8);
      expect(new Set(picked.map((p) => subnetKey(p.config))).size).toBe(8);
      for (let i = 1; i < picked.length; i++) expect(picked[i]!.macs).toBeGreaterThanOrEqual(picked[i - 1]!.macs);
      for (const p of picked) {
        expect(p.macs).toBe(resolveNetwork(spec, p.config).macs);
        expect(p.macs).toBeLessThan(fullMacs);
      }
    });
  }

  it('shrink: sub-networks within 20–95% of the MACs that keep most layers at full width (what the search explores)', () => {
    const picked = pickSubnetsOverMacs(spec, 'shrink', 8, DEMO_TRAIN_CONFIG, 5);
    const top = space.widthLevels - 1;
    for (const p of picked) {
      // One shrink step past the limit at most: never far below 20%, never above 95%.
      expect(p.macs / fullMacs).toBeLessThanOrEqual(0.95);
      expect(p.macs / fullMacs).toBeGreaterThan(0.1);
    }
    // Unlike uniformly random sub-networks, the large ones keep most layers at the top level.
    const largest = picked[picked.length - 1]!;
    const atTop = largest.config.levels.filter((v) => v === top).length;
    expect(atTop / space.layers.length).toBeGreaterThan(0.5);
    const uniform = pickSubnetsOverMacs(spec, 'uniform', 8, DEMO_TRAIN_CONFIG, 5);
    const uniformLargest = uniform[uniform.length - 1]!;
    expect(uniformLargest.config.levels.filter((v) => v === top).length).toBeLessThan(atTop);
  });
});
