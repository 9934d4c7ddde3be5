import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, searchSpace } from '../../core/arch/index.ts';
import { openWorkspace } from '../../core/store/workspace.ts';
import { LatencyStore } from '../../latency/store/latency-store.ts';
import { LookupTableLatencyMetric } from '../../core/metrics/index.ts';
import { parseSearchConfig, toSearchParams } from '../../pipeline/config.ts';
import { openSearchParts } from '../../pipeline/search-parts.ts';
import { SyntheticEvaluator } from '../../core/search/synthetic-evaluator.ts';
import { FakeLatencySource } from '../core/metrics/fake-latency-source.ts';

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

describe('openSearchParts', () => {
  it('builds a MACs metric and the synthetic evaluator', async () => {
    const parts = await openSearchParts(parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', evaluator: { kind: 'synthetic' } }));
    expect(parts.metric.name).toBe('macs');
    expect(parts.evaluator).toBeInstanceOf(SyntheticEvaluator);
    expect(parts.scoreLabel).toMatch(/not an accuracy/);
    parts.dispose();
  });

  it('uses the parts the caller passes in (a latency table held elsewhere, its own evaluator) and leaves them to the caller', async () => {
    const config = parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', metric: 'latency-lut', latency: { device: 'pixel-A' }, checkpoint: '/nowhere' });
    const spec = loadNetwork('mobilenet-v1-32');
    const metric = new LookupTableLatencyMetric(spec, new FakeLatencySource());
    let disposed = false;
    const evaluator = { evaluate: async () => ({ score: 0.5, metrics: {} }), dispose: () => (disposed = true) };
    const parts = await openSearchParts(config, { spec, metric, evaluator, scoreLabel: 'bench score' });
    expect(parts.metric).toBe(metric);
    expect(parts.evaluator).toBe(evaluator);
    const [latency] = await parts.metric.measure([fullSubnet(searchSpace(parts.spec))]);
    expect(latency).toBeGreaterThan(0);
    parts.dispose();
    expect(disposed).toBe(false);
  });

  it('says which table is missing when the workspace knows the device but has no table for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parts-'));
    const workspacePath = join(dir, 'ws.sqlite');
    const workspace = openWorkspace(workspacePath);
    new LatencyStore(workspace).upsertDevice('dev-1', { model: 'Pixel' }, 'Pixel test phone');
    workspace.close();
    const config = parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', metric: 'latency-lut', latency: { device: 'dev-1' }, workspace: workspacePath, evaluator: { kind: 'synthetic' } });
    await expect(openSearchParts(config)).rejects.toThrow(/device dev-1 \(Pixel test phone\) has no latency table/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names what the super-network evaluator is missing', async () => {
    await expect(openSearchParts(parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%' }))).rejects.toThrow(/needs "checkpoint"/);
    await expect(openSearchParts(parseSearchConfig({ network: 'mobilenet-v1-32', target: '50%', checkpoint: '/ckpt' }))).rejects.toThrow(/needs "dataset"/);
  });
});
