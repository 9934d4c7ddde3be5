import { describe, expect, it } from 'vitest';
import {
  enumerateLayerVariants, fullSubnet, loadNetwork, minimalSubnet, randomSubnet, resolveNetwork, searchSpace, zooNames,
} from '../../../core/arch/index.ts';
import { Rng } from '../../../core/random.ts';
import * as reference from './resolve-reference.ts';

// The optimized resolver (compiled per-spec walk) must give exactly what the original frontier walker gave.
describe('resolveNetwork equals the reference walker', () => {
  for (const name of zooNames()) {
    it(`${name}: full, minimal and 60 random sub-networks deep-equal`, () => {
      const spec = loadNetwork(name);
      const space = searchSpace(spec);
      expect(resolveNetwork(spec)).toStrictEqual(reference.resolveNetwork(spec));
      const rng = new Rng(name.length * 7919 + 3);
      const configs = [fullSubnet(space), minimalSubnet(space), ...Array.from({ length: 60 }, () => randomSubnet(space, rng))];
      for (const config of configs) {
        const fast = resolveNetwork(spec, config);
        const slow = reference.resolveNetwork(spec, config);
        expect(fast.macs).toBe(slow.macs);
        expect(fast).toStrictEqual(slow);
        expect(JSON.stringify(fast.layers)).toBe(JSON.stringify(slow.layers)); // same key order too
      }
    });
  }

  it('enumerateLayerVariants gives the same variants in the same order', () => {
    for (const name of ['mobilenet-v3-demo-cbc-32', 'fastdepth-64']) {
      const spec = loadNetwork(name);
      const fast = enumerateLayerVariants(spec);
      const slow = reference.enumerateLayerVariants(spec);
      expect([...fast.keys()]).toEqual([...slow.keys()]);
      expect([...fast.values()]).toStrictEqual([...slow.values()]);
    }
  });

  it('a sub-network missing choices is rejected the same way', () => {
    const spec = loadNetwork('mobilenet-v3-demo-32');
    const short = { levels: [1], kernels: [3] };
    expect(() => resolveNetwork(spec, short)).toThrow(/has no choice for layer/);
    expect(() => reference.resolveNetwork(spec, short)).toThrow(/has no choice for layer/);
  });
});
