import { describe, expect, it } from 'vitest';
import { fullSubnet, searchSpace } from '../../../core/arch/index.ts';
import { LookupTableLatencyMetric } from '../../../core/metrics/index.ts';
import { parseSearchConfig, toSearchParams } from '../../../core/search/config.ts';
import { createSearchContext } from '../../../core/search/context.ts';
import { SyntheticEvaluator } from '../../../core/search/synthetic-evaluator.ts';
import { FakeLatencySource } from '../metrics/fake-latency-source.ts';

describe('search configuration', () => {
  it('fills the paper defaults, parses percentages and resolves paths against the config folder', () => {
    const config = parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', reduction: '1.5%', workspace: 'ws.sqlite', output: '/abs/out' }, 'x', '/base');
    expect(config.workspace).toBe('/base/ws.sqlite');
    expect(config.output).toBe('/abs/out');
    const params = toSearchParams(config);
    expect(params).toMatchObject({ algorithm: 'mcd', samplesPerIteration: 200, layersPerSample: 10, decay: 0.98, target: { kind: 'fraction', value: 0.5 } });
    expect(params.reduction).toBeCloseTo(0.015, 12);
    expect(toSearchParams(parseSearchConfig({ network: 'n', target: 123456 })).target).toEqual({ kind: 'absolute', value: 123456 });
  });

  it('rejects unknown keys, targets above 100% and latency metrics without a device', () => {
    expect(() => parseSearchConfig({ network: 'n', target: '50%', iterations: 3 })).toThrow(/not a valid search configuration/);
    expect(() => parseSearchConfig({ network: 'n', target: '150%' })).toThrow(/above 100%/);
    expect(() => parseSearchConfig({ network: 'n', target: '50%', metric: 'latency-lut' })).toThrow(/needs "latency"/);
  });
});

describe('createSearchContext', () => {
  it('builds a MACs metric and the synthetic evaluator', async () => {
    const context = await createSearchContext(parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', evaluator: { kind: 'synthetic' } }));
    expect(context.metric.name).toBe('macs');
    expect(context.evaluator).toBeInstanceOf(SyntheticEvaluator);
    expect(context.scoreLabel).toMatch(/not an accuracy/);
  });

  it('wires a latency table through the provider slot and refuses another device\'s table', async () => {
    const config = parseSearchConfig({
      network: 'mobilenet-v1-32',
      target: '50%',
      metric: 'latency-lut',
      latency: { device: 'pixel-A' },
      evaluator: { kind: 'synthetic' },
    });
    const source = Object.assign(new FakeLatencySource(), { deviceId: 'pixel-A' });
    const context = await createSearchContext(config, { providers: { latencySource: async () => source } });
    expect(context.metric).toBeInstanceOf(LookupTableLatencyMetric);
    const [latency] = await context.metric.measure([fullSubnet(searchSpace(context.spec))]);
    expect(latency).toBeGreaterThan(0);

    const other = Object.assign(new FakeLatencySource(), { deviceId: 'galaxy-B' });
    await expect(createSearchContext(config, { providers: { latencySource: async () => other } })).rejects.toThrow(
      /the latency table is for device galaxy-B .* but this search is for device pixel-A/,
    );
    await expect(createSearchContext(config, { providers: {} })).rejects.toThrow(/latency tables are not available/);
  });

  it('passes the super-network evaluator provider\'s errors through (e.g. a checkpoint of another network)', async () => {
    const config = parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', checkpoint: '/ckpt' });
    await expect(
      createSearchContext(config, {
        providers: {
          supernetEvaluator: async () => {
            throw new Error('checkpoint /ckpt is a super-network of "fastdepth-64", not "mobilenet-v1-32"');
          },
        },
      }),
    ).rejects.toThrow(/not "mobilenet-v1-32"/);
  });
});
