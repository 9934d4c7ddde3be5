import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadNetwork, searchSpace, type SearchSpace, type SubnetConfig } from '../../../core/arch/index.ts';
import { maskedForward } from '../../../core/supernet/forward.ts';
import { planBatch } from '../../../core/supernet/plan.ts';
import { sampleBatchSubnets, widthGroups, type SamplingOptions } from '../../../core/supernet/sampling.ts';
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

/** Indices of the layers a sub-network removes (width level 0). */
function removedLayersOf(c: SubnetConfig): number[] {
  return c.levels.flatMap((v, l) => (v === 0 ? [l] : []));
}

/** The layers a sub-network keeps are at least half width on average (coherent sampling never removes a layer there). */
function keptWide(space: SearchSpace, c: SubnetConfig): boolean {
  const kept = c.levels.filter((v) => v > 0);
  return kept.length > 0 && kept.reduce((a, b) => a + b, 0) >= ((space.widthLevels - 1) / 2) * kept.length;
}

/** One step's batch with the depth options, checked for balance and the pinned images, and the plain coherent batch. */
function depthBatch(space: SearchSpace, step: number, opts: SamplingOptions): { configs: SubnetConfig[]; coherent: SubnetConfig[] } {
  const configs = sampleBatchSubnets(space, 32, 4, step, { widths: 'coherent', ...opts });
  expectPinnedAndBalanced(space, configs);
  return { configs, coherent: sampleBatchSubnets(space, 32, 4, step, { widths: 'coherent' }) };
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
    const n = 32;
    let wideRemoved = 0;
    for (let step = 0; step < 6; step++) {
      const { configs, coherent } = depthBatch(space, step, { depth: 'random' });
      // Among the layers both images keep, widths stay ordered across images (coherent).
      for (let a = 2; a < n; a++) {
        for (let b = 2; b < n; b++) {
          const kept = space.layers.map((_, i) => i).filter((i) => configs[a]!.levels[i]! > 0 && configs[b]!.levels[i]! > 0);
          const wider = kept.filter((i) => configs[a]!.levels[i]! > configs[b]!.levels[i]!).length;
          const narrower = kept.filter((i) => configs[a]!.levels[i]! < configs[b]!.levels[i]!).length;
          expect(wider > 0 && narrower > 0).toBe(false);
        }
      }
      expect(coherent.filter((c) => keptWide(space, c) && removedLayersOf(c).length > 0)).toHaveLength(0);
      wideRemoved += configs.filter((c) => keptWide(space, c) && removedLayersOf(c).length > 0).length;
    }
    expect(wideRemoved).toBeGreaterThan(10);
  });

  it("depth 'single' removes one layer each from distinct images among the wide ones, keeping per-layer balance", () => {
    for (const name of ['mobilenet-v3-demo-32', 'mobilenet-v3-demo-cbc-32']) {
      const netSpace = searchSpace(loadNetwork(name));
      const removable = netSpace.layers.filter((layer) => layer.minLevel === 0).length;
      let wideRemovedTotal = 0;
      for (let step = 0; step < 6; step++) {
        const { configs, coherent } = depthBatch(netSpace, step, { depth: 'single' });
        expect(coherent.filter((c) => keptWide(netSpace, c) && removedLayersOf(c).length > 0)).toHaveLength(0);
        const wideRemoved = configs.filter((c) => keptWide(netSpace, c) && removedLayersOf(c).length > 0);
        for (const c of wideRemoved) expect(removedLayersOf(c)).toHaveLength(1);
        wideRemovedTotal += wideRemoved.length;
      }
      // One random image per removable layer, about half of them wide.
      expect(wideRemovedTotal).toBeGreaterThanOrEqual((6 * Math.min(removable, 30)) / 4);
    }
  });

  it("depth 'single' with a removal share caps the images that lose a layer and draws which layers per step", () => {
    const cbcSpace = searchSpace(loadNetwork('mobilenet-v3-demo-cbc-32'));
    expect(cbcSpace.layers.filter((layer) => layer.minLevel === 0).length).toBeGreaterThan(8);
    const cap = Math.ceil(0.25 * 30);
    const chosenLayers = new Set<number>();
    for (let step = 0; step < 8; step++) {
      const { configs } = depthBatch(cbcSpace, step, { depth: 'single', removalShare: 0.25 });
      // The images that lose a layer at random: exactly one removed layer while the layers they keep are wide.
      const lone = configs.filter((c) => removedLayersOf(c).length === 1 && keptWide(cbcSpace, c));
      expect(lone.length).toBeLessThanOrEqual(cap);
      for (const c of lone) chosenLayers.add(removedLayersOf(c)[0]!);
    }
    // Over eight steps, more layers than one step's eight images could cover got a lone removal.
    expect(chosenLayers.size).toBeGreaterThan(cap);
  });

  it("depth 'multi' gives every removable layer's level 0 to one of the removal images, several layers per image", () => {
    const deepSpace = searchSpace(loadNetwork('mobilenet-v3-demo-deep-cbc-32'));
    const cap = Math.ceil(0.25 * 30);
    for (let step = 0; step < 6; step++) {
      // depthBatch checks per-layer balance and the pinned images.
      const { configs } = depthBatch(deepSpace, step, { depth: 'multi', removalShare: 0.25 });
      const single = depthBatch(deepSpace, step, { depth: 'single', removalShare: 0.25 }).configs;
      // Images that lose layers while the layers they keep are wide (coherent sampling never makes one): at most
      // the cap, and unlike 'single' they lose several layers at once.
      const hit = configs.filter((c) => removedLayersOf(c).length > 0 && keptWide(deepSpace, c));
      expect(hit.length).toBeLessThanOrEqual(cap);
      expect(hit.length).toBeGreaterThan(0);
      expect(Math.max(...hit.map((c) => removedLayersOf(c).length))).toBeGreaterThan(1);
      const singleHit = single.filter((c) => removedLayersOf(c).length > 0 && keptWide(deepSpace, c));
      for (const c of singleHit) expect(removedLayersOf(c)).toHaveLength(1);
    }
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
