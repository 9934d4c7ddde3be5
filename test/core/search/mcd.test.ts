import { describe, expect, it } from 'vitest';
import { fullSubnet, searchSpace, subnetKey } from '../../../core/arch/index.ts';
import type { SubnetConfig } from '../../../core/arch/index.ts';
import { MacsMetric } from '../../../core/metrics/index.ts';
import { planMcdIteration } from '../../../core/search/mcd.ts';
import type { PlanInput } from '../../../core/search/mcd.ts';
import { lowerKernel, lowerWidthLevel } from '../../../core/search/shrink.ts';
import { CountingMetric, mobilenet, params, tinySpec } from './helpers.ts';

async function planFor(overrides: Parameters<typeof params>[0], reduction: number, spec = mobilenet()) {
  const space = searchSpace(spec);
  const metric = new CountingMetric(spec);
  const parent = fullSubnet(space);
  const [parentResource] = await metric.measure([parent]);
  const target = (parentResource as number) * (1 - reduction);
  const input: PlanInput = { space, metric, params: params(overrides), iteration: 3, parent, parentResource: parentResource as number, target };
  return { input, plan: await planMcdIteration(input), metric, space, parent };
}

/** True when `child` differs from `parent` at `layer` by exactly one shrink step (width, kernel or both). */
function oneStep(space: ReturnType<typeof searchSpace>, parent: SubnetConfig, child: SubnetConfig, layer: number): boolean {
  const level = parent.levels[layer] as number;
  const kernel = parent.kernels[layer] as number;
  const widthOk = child.levels[layer] === level || child.levels[layer] === lowerWidthLevel(space, layer, level);
  const kernelOk = child.kernels[layer] === kernel || child.kernels[layer] === lowerKernel(space, layer, kernel);
  return widthOk && kernelOk;
}

describe('MCD sample generation', () => {
  it('every sample meets the iteration target, with its resource measured by the metric', async () => {
    const { plan, input, space } = await planFor({ samplesPerIteration: 20, layersPerSample: 5 }, 0.05);
    expect('unreachable' in plan).toBe(false);
    expect(plan.samples.length).toBeGreaterThan(10);
    const check = new MacsMetric(mobilenet());
    for (const sample of plan.samples) {
      expect(sample.resource).toBeLessThanOrEqual(input.target);
      expect(sample.resource).toBe(check.measureSync(sample.config));
      expect(sample.config.levels.length).toBe(space.layers.length);
    }
  });

  it('changes exactly L layers when the target needs more than one round of steps', async () => {
    const { plan } = await planFor({ samplesPerIteration: 20, layersPerSample: 4 }, 0.08);
    expect(plan.samples.length).toBeGreaterThan(0);
    for (const sample of plan.samples) expect(sample.changed.length).toBe(4);
  });

  it('changes fewer than L layers only when the target is met within the first round (one step per changed layer)', async () => {
    const { plan, space, parent } = await planFor({ samplesPerIteration: 30, layersPerSample: 10 }, 0.002);
    expect(plan.samples.length).toBeGreaterThan(0);
    let fewer = 0;
    for (const sample of plan.samples) {
      expect(sample.changed.length).toBeGreaterThan(0);
      expect(sample.changed.length).toBeLessThanOrEqual(10);
      if (sample.changed.length < 10) {
        fewer++;
        for (const layer of sample.changed) expect(oneStep(space, parent, sample.config, layer)).toBe(true);
      }
    }
    expect(fewer).toBeGreaterThan(0);
  });

  it("'every-chosen-layer' changes all L layers even when one step would meet the target", async () => {
    const stop = await planFor({ samplesPerIteration: 30, layersPerSample: 10, mcdShrink: 'stop-at-target' }, 0.002);
    const every = await planFor({ samplesPerIteration: 30, layersPerSample: 10, mcdShrink: 'every-chosen-layer' }, 0.002);
    expect(stop.plan.samples.some((s) => s.changed.length < 10)).toBe(true);
    expect(every.plan.samples.length).toBeGreaterThan(10);
    for (const sample of every.plan.samples) {
      expect(sample.changed.length).toBe(10);
      for (const layer of sample.changed) expect(oneStep(every.space, every.parent, sample.config, layer)).toBe(true);
      expect(sample.resource).toBeLessThanOrEqual(every.input.target);
    }
    // The same draws: each 'every' sample is its 'stop' slot's layers and moves carried on to all ten layers.
    const meanResource = (p: typeof stop) => p.plan.samples.reduce((sum, s) => sum + s.resource, 0) / p.plan.samples.length;
    expect(meanResource(every)).toBeLessThan(meanResource(stop));
  });

  it("'every-chosen-layer' continues round-robin while the target is not met (some layer takes a second step)", async () => {
    const { plan, metric, input } = await planFor({ samplesPerIteration: 16, layersPerSample: 4, mcdShrink: 'every-chosen-layer' }, 0.08);
    expect(plan.samples.length).toBeGreaterThan(0);
    for (const sample of plan.samples) {
      expect(sample.changed.length).toBe(4);
      expect(sample.resource).toBeLessThanOrEqual(input.target);
    }
    expect(plan.samples.some((s) => s.config.levels.some((level, i) => level < (input.parent.levels[i] as number) - 1))).toBe(true);
    expect(metric.batches[1]).toBe(16); // the first measurement: every slot, after its four first-round steps
  });

  it('a run stored before mcdShrink existed (no field) plans exactly what stop-at-target plans', async () => {
    const { mcdShrink: _omitted, ...withoutField } = params({ samplesPerIteration: 20, layersPerSample: 6 });
    const space = searchSpace(mobilenet());
    const metric = new CountingMetric(mobilenet());
    const parent = fullSubnet(space);
    const [resource] = await metric.measure([parent]);
    const base = { space, metric, iteration: 2, parent, parentResource: resource as number, target: (resource as number) * 0.99 };
    const legacy = await planMcdIteration({ ...base, params: withoutField });
    const explicit = await planMcdIteration({ ...base, params: { ...withoutField, mcdShrink: 'stop-at-target' } });
    expect(legacy.samples.map((s) => subnetKey(s.config))).toEqual(explicit.samples.map((s) => subnetKey(s.config)));
    expect(legacy.samples.length).toBeGreaterThan(0);
  });

  it('drops duplicates within an iteration', async () => {
    const { plan } = await planFor({ samplesPerIteration: 40, layersPerSample: 1, maxAttempts: 2 }, 0.05, tinySpec());
    const keys = plan.samples.map((s) => subnetKey(s.config));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeLessThan(40);
    expect(keys.length).toBeGreaterThan(1);
  });

  it('is a pure function of (seed, iteration, previous best): same seed same samples, another seed others', async () => {
    const a = await planFor({ seed: 11 }, 0.05);
    const b = await planFor({ seed: 11 }, 0.05);
    const c = await planFor({ seed: 12 }, 0.05);
    const keys = (p: typeof a) => p.plan.samples.map((s) => subnetKey(s.config));
    expect(keys(b)).toEqual(keys(a));
    expect(keys(c)).not.toEqual(keys(a));
  });

  it('measures all active samples of a lockstep round in one batch', async () => {
    const { metric, plan } = await planFor({ samplesPerIteration: 16, layersPerSample: 4 }, 0.05);
    const batches = metric.batches.slice(1); // the first one measured the parent
    expect(plan.samples.length).toBeGreaterThan(0);
    expect(batches[0]).toBe(16);
    expect(batches.length).toBeLessThan(16 * 4);
  });

  it('reports an unreachable target when L layers cannot remove enough', async () => {
    const { plan } = await planFor({ samplesPerIteration: 8, layersPerSample: 1, maxAttempts: 3 }, 0.6);
    expect('unreachable' in plan).toBe(true);
    if ('unreachable' in plan) expect(plan.unreachable).toMatch(/target unreachable from here/);
  });
});
