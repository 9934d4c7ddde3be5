import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadNetwork, searchSpace, type SearchSpace, type SubnetConfig } from '../../../core/arch/index.ts';
import { maskedForward } from '../../../core/supernet/forward.ts';
import { planBatch } from '../../../core/supernet/plan.ts';
import { sampleBatchSubnets, widthGroups } from '../../../core/supernet/sampling.ts';
import { SupernetWeights } from '../../../core/supernet/weights.ts';
import { Rng } from '../../../core/random.ts';
import { smallSpec } from './fixtures.ts';

/** Balanced, image 0 runs the full network and image 1 the smallest. */
function expectPinnedAndBalanced(space: SearchSpace, configs: readonly SubnetConfig[]): void {
  expectBalanced(space, configs);
  expect(configs[0]!.levels).toEqual(space.layers.map(() => space.widthLevels - 1));
  expect(configs[1]!.levels).toEqual(space.layers.map((l) => l.minLevel));
}

/** Every layer's width levels appear equally often (±1) across the batch. */
function expectBalanced(space: SearchSpace, configs: readonly SubnetConfig[]): void {
  space.layers.forEach((layer, l) => {
    const counts = new Map<number, number>();
    for (let v = layer.minLevel; v < space.widthLevels; v++) counts.set(v, 0);
    for (const c of configs) counts.set(c.levels[l] as number, (counts.get(c.levels[l] as number) ?? 0) + 1);
    const values = [...counts.values()];
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
  });
}

describe('coherent width sampling', () => {
  const space = searchSpace(loadNetwork('mobilenet-v3-demo-32'));

  it('keeps per-layer balance, the full/smallest images, and orders images consistently across layers', () => {
    for (const n of [4, 9, 32]) {
      for (let step = 0; step < 4; step++) {
        const configs = sampleBatchSubnets(space, n, 3, step, { widths: 'coherent' });
        expectPinnedAndBalanced(space, configs);
        // Coherent: for two layers with the same level range, image a wider than b in one is never narrower in the other.
        const same = space.layers.map((layer, i) => ({ layer, i })).filter(({ layer }) => layer.minLevel === space.layers[0]!.minLevel);
        for (let a = 0; a < n; a++) {
          for (let b = 0; b < n; b++) {
            const wider = same.filter(({ i }) => configs[a]!.levels[i]! > configs[b]!.levels[i]!).length;
            const narrower = same.filter(({ i }) => configs[a]!.levels[i]! < configs[b]!.levels[i]!).length;
            expect(wider > 0 && narrower > 0).toBe(false);
          }
        }
      }
    }
  });

  it("'mixed' keeps per-layer balance and the full/smallest images, with fewer incoherent pairs than independent sampling", () => {
    const n = 32;
    const incoherentPairs = (configs: ReturnType<typeof sampleBatchSubnets>) => {
      let count = 0;
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          const wider = space.layers.some((_, i) => configs[a]!.levels[i]! > configs[b]!.levels[i]!);
          const narrower = space.layers.some((_, i) => configs[a]!.levels[i]! < configs[b]!.levels[i]!);
          if (wider && narrower) count++;
        }
      }
      return count;
    };
    for (let step = 0; step < 3; step++) {
      const mixed = sampleBatchSubnets(space, n, 6, step, { widths: 'mixed' });
      expectBalanced(space, mixed);
      expect(mixed[0]!.levels).toEqual(space.layers.map(() => space.widthLevels - 1));
      expect(mixed[1]!.levels).toEqual(space.layers.map((l) => l.minLevel));
      const independent = sampleBatchSubnets(space, n, 6, step, { widths: 'independent' });
      const coherent = sampleBatchSubnets(space, n, 6, step, { widths: 'coherent' });
      expect(incoherentPairs(coherent)).toBe(0);
      expect(incoherentPairs(mixed)).toBeGreaterThan(0);
      expect(incoherentPairs(mixed)).toBeLessThan(incoherentPairs(independent));
    }
  });

  it("depth 'random' removes layers in wide sub-networks too, keeping per-layer balance and coherent widths", () => {
    const removable = space.layers.map((layer, i) => ({ layer, i })).filter(({ layer }) => layer.minLevel === 0);
    expect(removable.length).toBeGreaterThan(3);
    const n = 32;
    let removedInWideHalf = 0;
    let removedInWideHalfCoherent = 0;
    for (let step = 0; step < 6; step++) {
      const configs = sampleBatchSubnets(space, n, 4, step, { widths: 'coherent', depth: 'random' });
      const coherent = sampleBatchSubnets(space, n, 4, step, { widths: 'coherent' });
      expectPinnedAndBalanced(space, configs);
      // Among the layers both images keep, widths stay ordered across images (coherent).
      for (let a = 2; a < n; a++) {
        for (let b = 2; b < n; b++) {
          const kept = space.layers.map((_, i) => i).filter((i) => configs[a]!.levels[i]! > 0 && configs[b]!.levels[i]! > 0);
          const wider = kept.filter((i) => configs[a]!.levels[i]! > configs[b]!.levels[i]!).length;
          const narrower = kept.filter((i) => configs[a]!.levels[i]! < configs[b]!.levels[i]!).length;
          expect(wider > 0 && narrower > 0).toBe(false);
        }
      }
      const wideHalf = (cs: typeof configs) => {
        const widths = cs.map((c) => c.levels.reduce((s, v) => s + v, 0));
        const cut = widths.slice().sort((x, y) => y - x)[n / 2]!;
        return cs.filter((c, i) => widths[i]! > cut && removable.some(({ i: l }) => c.levels[l] === 0)).length;
      };
      removedInWideHalf += wideHalf(configs);
      removedInWideHalfCoherent += wideHalf(coherent);
    }
    expect(removedInWideHalfCoherent).toBe(0);
    expect(removedInWideHalf).toBeGreaterThan(10);
  });

  it("depth 'single' removes one layer each from distinct images among the wide ones, keeping per-layer balance", () => {
    for (const name of ['mobilenet-v3-demo-32', 'mobilenet-v3-demo-cbc-32']) {
      const netSpace = searchSpace(loadNetwork(name));
      const removable = netSpace.layers.map((layer, i) => ({ layer, i })).filter(({ layer }) => layer.minLevel === 0).map(({ i }) => i);
      const n = 32;
      let wideRemovedTotal = 0;
      for (let step = 0; step < 6; step++) {
        const configs = sampleBatchSubnets(netSpace, n, 4, step, { widths: 'coherent', depth: 'single' });
        const coherent = sampleBatchSubnets(netSpace, n, 4, step, { widths: 'coherent' });
        expectPinnedAndBalanced(netSpace, configs);
        // "Wide": the layers it keeps are at least half width on average. Coherent sampling never removes a layer there.
        const half = (netSpace.widthLevels - 1) / 2;
        const wide = (c: SubnetConfig) => {
          const kept = c.levels.filter((v) => v > 0);
          return kept.length > 0 && kept.reduce((a, b) => a + b, 0) >= half * kept.length;
        };
        const removedCount = (c: SubnetConfig) => removable.filter((l) => c.levels[l] === 0).length;
        expect(coherent.filter((c) => wide(c) && removedCount(c) > 0)).toHaveLength(0);
        const wideRemoved = configs.filter((c) => wide(c) && removedCount(c) > 0);
        for (const c of wideRemoved) expect(removedCount(c)).toBe(1);
        wideRemovedTotal += wideRemoved.length;
      }
      // One random image per removable layer, about half of them wide.
      expect(wideRemovedTotal).toBeGreaterThanOrEqual((6 * Math.min(removable.length, n - 2)) / 4);
    }
  });

  it("depth 'single' with a removal share caps the images that lose a layer and draws which layers per step", () => {
    const cbcSpace = searchSpace(loadNetwork('mobilenet-v3-demo-cbc-32'));
    const removable = cbcSpace.layers.filter((layer) => layer.minLevel === 0).map((layer) => layer.index);
    expect(removable.length).toBeGreaterThan(8);
    const n = 32;
    const chosenLayers = new Set<number>();
    for (let step = 0; step < 8; step++) {
      const configs = sampleBatchSubnets(cbcSpace, n, 4, step, { widths: 'coherent', depth: 'single', removalShare: 0.25 });
      expectPinnedAndBalanced(cbcSpace, configs);
      // The images that lose a layer at random: exactly one removed layer while the layers they keep are wide.
      const lone = configs.filter((c) => {
        const removed = removable.filter((l) => c.levels[l] === 0);
        const kept = c.levels.filter((v) => v > 0);
        return removed.length === 1 && kept.reduce((a, b) => a + b, 0) >= ((cbcSpace.widthLevels - 1) / 2) * kept.length;
      });
      expect(lone.length).toBeLessThanOrEqual(Math.ceil(0.25 * (n - 2)));
      for (const c of lone) chosenLayers.add(removable.find((l) => c.levels[l] === 0)!);
    }
    // Over eight steps, more layers than one step's eight images could cover got a lone removal.
    expect(chosenLayers.size).toBeGreaterThan(Math.ceil(0.25 * (n - 2)));
  });

  it('widthGroups cuts the batch into equal groups, widest first', () => {
    const configs = sampleBatchSubnets(space, 32, 5, 1, { widths: 'coherent' });
    const groups = widthGroups(space, configs, 4);
    for (let g = 0; g < 4; g++) expect(groups.filter((x) => x === g)).toHaveLength(8);
    expect(groups[0]).toBe(0);
    expect(groups[1]).toBe(3);
    const mean = (i: number) => configs[i]!.levels.reduce((s, v) => s + v, 0);
    for (let i = 0; i < 32; i++) for (let j = 0; j < 32; j++) if (groups[i]! < groups[j]!) expect(mean(i)).toBeGreaterThanOrEqual(mean(j));
  });
});

describe('per-group BN statistics in training mode', () => {
  it('equal running each group as its own batch', () => {
    const spec = smallSpec();
    const sp = searchSpace(spec);
    const weights = SupernetWeights.init(spec, 4);
    const n = 8;
    const configs = sampleBatchSubnets(sp, n, 9, 0, { widths: 'coherent' });
    const groups = [0, 1, 0, 1, 1, 0, 0, 1];
    const rng = new Rng(2);
    const data = new Float32Array(n * spec.input.height * spec.input.width * 3).map(() => rng.normal());
    const x = tf.tensor4d(data, [n, spec.input.height, spec.input.width, 3]);
    const plan = planBatch(spec, n, configs, groups);
    const joint = maskedForward(weights, x, { training: true, plan }).arraySync() as number[][];
    plan.dispose();
    for (const g of [0, 1]) {
      const idx = groups.flatMap((v, i) => (v === g ? [i] : []));
      const xs = tf.gather(x, idx);
      const p = planBatch(spec, idx.length, idx.map((i) => configs[i]!));
      const alone = maskedForward(weights, xs as tf.Tensor4D, { training: true, plan: p }).arraySync() as number[][];
      p.dispose();
      idx.forEach((i, k) => alone[k]!.forEach((v, c) => expect(joint[i]![c]!).toBeCloseTo(v, 4)));
      xs.dispose();
    }
    x.dispose();
    weights.dispose();
  });
});
