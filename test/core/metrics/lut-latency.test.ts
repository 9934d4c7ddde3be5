import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, minimalSubnet, networkSignatures, randomSubnet, resolveNetwork, searchSpace } from '../../../core/arch/index.ts';
import { LatencyUnavailableError, LookupTableLatencyMetric } from '../../../core/metrics/index.ts';
import { Rng } from '../../../core/random.ts';
import { FakeLatencySource, fakeLayerLatency } from './fake-latency-source.ts';

const spec = loadNetwork('mobilenet-v3-large-32');
const space = searchSpace(spec);
const configs = [fullSubnet(space), minimalSubnet(space), ...Array.from({ length: 6 }, (_, i) => randomSubnet(space, new Rng(i + 1)))];

describe('LookupTableLatencyMetric', () => {
  it('sums the per-layer entries of resolveNetwork signatures plus the per-model overhead, in ms', async () => {
    const source = new FakeLatencySource(300);
    const metric = new LookupTableLatencyMetric(spec, source);
    const values = await metric.measure(configs);
    configs.forEach((config, i) => {
      const signatures = networkSignatures(resolveNetwork(spec, config).layers);
      const expected = (signatures.reduce((sum, s) => sum + fakeLayerLatency(s), 0) + 300) / 1000;
      expect(values[i]).toBeCloseTo(expected, 9);
    });
    expect(metric.unit).toBe('ms');
    expect(new Set(values).size).toBeGreaterThan(4);
  });

  it('profiles the missing entries of ALL configs of one measure() call in ONE batch, and nothing already known', async () => {
    const source = new FakeLatencySource();
    const metric = new LookupTableLatencyMetric(spec, source);
    await metric.measure(configs.slice(0, 3));
    expect(source.profiled.length).toBe(1);
    const allFirst = new Set(configs.slice(0, 3).flatMap((c) => networkSignatures(resolveNetwork(spec, c).layers)));
    expect(new Set(source.profiled[0])).toEqual(allFirst);

    await metric.measure(configs);
    expect(source.profiled.length).toBe(2);
    const second = source.profiled[1] as string[];
    expect(second.length).toBeGreaterThan(0);
    for (const s of second) expect(allFirst.has(s)).toBe(false);
    expect(new Set(second).size).toBe(second.length);

    await metric.measure(configs);
    expect(source.profiled.length).toBe(2);
    expect(metric.profileBatches).toBe(2);
  });

  it('throws (never a zero) when the source cannot provide an entry', async () => {
    const source = new FakeLatencySource();
    const victim = networkSignatures(resolveNetwork(spec, configs[0]).layers)[3] as string;
    source.unmeasurable.add(victim);
    const metric = new LookupTableLatencyMetric(spec, source);
    const error = await metric.measure(configs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatencyUnavailableError);
    expect((error as LatencyUnavailableError).missing).toEqual([victim]);
    expect((error as Error).message).toMatch(/1 layer latency entry is missing from fake device/);
  });

  it('a profiler failure becomes a LatencyUnavailableError naming the missing entries', async () => {
    const source = new FakeLatencySource();
    source.failProfiling = new Error('device 0A1B disconnected');
    const metric = new LookupTableLatencyMetric(spec, source);
    await expect(metric.measure([configs[0] as (typeof configs)[0]])).rejects.toThrow(/profiling them failed: device 0A1B disconnected/);
  });

  it('the synchronous path never profiles: it throws on missing entries and answers once they exist', async () => {
    const source = new FakeLatencySource();
    const metric = new LookupTableLatencyMetric(spec, source);
    const config = configs[2] as (typeof configs)[0];
    expect(() => metric.measureSync(config)).toThrow(LatencyUnavailableError);
    expect(source.profiled.length).toBe(0);
    const [value] = await metric.measure([config]);
    expect(metric.measureSync(config)).toBe(value);
  });
});
