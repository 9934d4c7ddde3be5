import { describe, expect, it } from 'vitest';
import { fullSubnet, searchSpace } from '../../../core/arch/index.ts';
import { MacsMetric } from '../../../core/metrics/index.ts';
import { shrinkableLayers } from '../../../core/search/mcd.ts';
import { planScdIteration, scdCandidates } from '../../../core/search/scd.ts';
import { CountingMetric, mobilenet, params } from './helpers.ts';

async function plan(reduction: number, shrinkKernel: boolean) {
  const spec = mobilenet();
  const space = searchSpace(spec);
  const metric = new CountingMetric(spec);
  const parent = fullSubnet(space);
  const [parentResource] = (await metric.measure([parent])) as [number];
  const target = parentResource * (1 - reduction);
  const out = await planScdIteration({
    space,
    metric,
    params: params({ algorithm: 'scd', scdShrinksKernel: shrinkKernel }),
    iteration: 0,
    parent,
    parentResource,
    target,
  });
  return { out, space, parent, target, metric, spec };
}

describe('SCD sample generation', () => {
  it('one sample per layer that can meet the target, changing that layer only', async () => {
    const { out, space, parent, target } = await plan(0.02, true);
    expect(out.samples.length).toBeGreaterThan(0);
    const layers = out.samples.map((s) => s.changed);
    for (const changed of layers) expect(changed.length).toBe(1);
    expect(new Set(layers.map((c) => c[0])).size).toBe(out.samples.length);
    const check = new MacsMetric(mobilenet());
    for (const sample of out.samples) {
      expect(sample.resource).toBeLessThanOrEqual(target);
      const layer = sample.changed[0] as number;
      sample.config.levels.forEach((level, i) => {
        if (i !== layer) {
          expect(level).toBe(parent.levels[i]);
          expect(sample.config.kernels[i]).toBe(parent.kernels[i]);
        }
      });
      // Every larger candidate of this layer misses the target: the sample is the largest that meets it.
      const candidates = scdCandidates(space, parent, layer, true);
      const position = candidates.findIndex((c) => c.levels[layer] === sample.config.levels[layer] && c.kernels[layer] === sample.config.kernels[layer]);
      expect(position).toBeGreaterThanOrEqual(0);
      for (const larger of candidates.slice(0, position)) expect(check.measureSync(larger)).toBeGreaterThan(target);
    }
  });

  it('a layer that cannot meet the target alone yields no sample', async () => {
    const { out, space, parent, target } = await plan(0.08, false);
    const check = new MacsMetric(mobilenet());
    const sampled = new Set(out.samples.map((s) => s.changed[0]));
    let skipped = 0;
    for (const layer of shrinkableLayers(space, parent)) {
      const smallest = scdCandidates(space, parent, layer, false).at(-1);
      const reachable = smallest !== undefined && check.measureSync(smallest) <= target;
      expect(sampled.has(layer)).toBe(reachable);
      if (!reachable) skipped++;
    }
    expect(skipped).toBeGreaterThan(0);
    expect(sampled.size).toBeGreaterThan(0);
  });

  it('without kernel shrinking, kernels never change', async () => {
    const { out, parent } = await plan(0.02, false);
    for (const sample of out.samples) expect(sample.config.kernels).toEqual(parent.kernels);
  });

  it('reports an unreachable target when no single layer suffices', async () => {
    const { out } = await plan(0.7, true);
    expect('unreachable' in out).toBe(true);
  });
});
