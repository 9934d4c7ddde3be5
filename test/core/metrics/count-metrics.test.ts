import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, minimalSubnet, randomSubnet, resolveNetwork, searchSpace } from '../../../core/arch/index.ts';
import { MacsMetric, MeasuredLatencyMetric, ParamsMetric, SubnetCache, formatResource } from '../../../core/metrics/index.ts';
import { Rng } from '../../../core/random.ts';

const spec = loadNetwork('mobilenet-v2-32');
const space = searchSpace(spec);

describe('MACs and parameter metrics', () => {
  it('report exactly what resolveNetwork counts, for the full, minimal and random sub-networks', async () => {
    const configs = [fullSubnet(space), minimalSubnet(space), ...Array.from({ length: 5 }, (_, i) => randomSubnet(space, new Rng(i)))];
    const macs = await new MacsMetric(spec).measure(configs);
    const params = await new ParamsMetric(spec).measure(configs);
    configs.forEach((config, i) => {
      const network = resolveNetwork(spec, config);
      expect(macs[i]).toBe(network.macs);
      expect(params[i]).toBe(network.params);
    });
    expect(macs[0]).toBeGreaterThan(macs[1] as number);
  });

  it('the cache returns the same numbers and drops the least recently used entry at capacity', () => {
    const cache = new SubnetCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.size).toBe(2);
    const metric = new MacsMetric(spec, { cacheSize: 1 });
    const config = randomSubnet(space, new Rng(9));
    expect(metric.measureSync(config)).toBe(metric.measureSync({ levels: config.levels.slice(), kernels: config.kernels.slice() }));
  });
});

describe('MeasuredLatencyMetric', () => {
  it('measures each distinct sub-network once, in order, and rejects non-positive measurements', async () => {
    const seen: string[] = [];
    const metric = new MeasuredLatencyMetric(async (config) => {
      seen.push(config.levels.join('.'));
      return 1 + config.levels.reduce((a, b) => a + b, 0) / 10;
    });
    const a = fullSubnet(space);
    const b = minimalSubnet(space);
    const values = await metric.measure([a, b, a]);
    expect(values[0]).toBe(values[2]);
    expect(values[0]).toBeGreaterThan(values[1] as number);
    expect(seen.length).toBe(2);
    expect(metric.measurements).toBe(2);
    const broken = new MeasuredLatencyMetric(async () => 0);
    await expect(broken.measure([a])).rejects.toThrow(/expected a positive latency/);
  });
});

describe('formatResource', () => {
  it('formats by unit', () => {
    expect(formatResource(12.345, 'ms')).toBe('12.35 ms');
    expect(formatResource(3_045_632, 'MACs')).toBe('3.05M MACs');
  });
});
