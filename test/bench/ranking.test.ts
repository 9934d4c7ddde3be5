import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, resolveNetwork, searchSpace, subnetKey } from '../../core/arch/index.ts';
import { subnetsOverMacRange } from '../../bench/ranking.ts';

describe('subnetsOverMacRange', () => {
  const spec = loadNetwork('mobilenet-v3-demo-32');
  const fullMacs = resolveNetwork(spec).macs;

  it('picks distinct sub-networks sorted by MACs, ending with the full network, spread over the range', () => {
    const picked = subnetsOverMacRange(spec, 10, 7);
    expect(picked).toHaveLength(10);
    expect(new Set(picked.map((p) => subnetKey(p.config))).size).toBe(10);
    for (const p of picked) expect(p.macs).toBe(resolveNetwork(spec, p.config).macs);
    for (let i = 1; i < picked.length; i++) expect(picked[i]!.macs).toBeGreaterThanOrEqual(picked[i - 1]!.macs);
    expect(subnetKey(picked.at(-1)!.config)).toBe(subnetKey(fullSubnet(searchSpace(spec))));
    // Spread: the smallest is well below half the MACs, and no gap between neighbours exceeds a third of the range.
    expect(picked[0]!.macs).toBeLessThan(0.4 * fullMacs);
    const range = fullMacs - picked[0]!.macs;
    for (let i = 1; i < picked.length; i++) expect(picked[i]!.macs - picked[i - 1]!.macs).toBeLessThan(range / 3);
  });

  it('is deterministic in the seed', () => {
    const keys = (seed: number) => subnetsOverMacRange(spec, 8, seed).map((p) => subnetKey(p.config));
    expect(keys(3)).toEqual(keys(3));
    expect(keys(3)).not.toEqual(keys(4));
  });
});
