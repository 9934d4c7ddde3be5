/** Shared fixtures for the search tests: small networks, a MACs metric that counts its batches, fresh stores. */
import { loadNetwork, parseNetworkSpec } from '../../../core/arch/index.ts';
import type { NetworkSpec, SubnetConfig } from '../../../core/arch/index.ts';
import { MacsMetric } from '../../../core/metrics/index.ts';
import type { ResourceMetric } from '../../../core/metrics/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import { DEFAULT_PARAMS } from '../../../core/search/optimizer.ts';
import type { SearchParams } from '../../../core/search/types.ts';

export const mobilenet = (): NetworkSpec => loadNetwork('mobilenet-v1-32');

/** Three searchable layers, three width levels: few distinct sub-networks, so duplicates are common. */
export function tinySpec(): NetworkSpec {
  return parseNetworkSpec({
    name: 'tiny',
    task: 'classification',
    input: { height: 8, width: 8, channels: 3 },
    widthLevels: 3,
    layers: [
      { type: 'conv', name: 'a', filters: 8, kernel: 3, act: 'relu' },
      { type: 'conv', name: 'b', filters: 16, kernel: 5, act: 'relu' },
      { type: 'conv', name: 'c', filters: 8, kernel: 1, act: 'relu' },
      { type: 'gap', name: 'pool' },
      { type: 'fc', name: 'fc', units: 2 },
    ],
  });
}

/** A MACs metric that records every batch it was asked for. */
export class CountingMetric implements ResourceMetric {
  readonly name = 'macs';
  readonly unit = 'MACs';
  readonly inner: MacsMetric;
  batches: number[] = [];

  constructor(spec: NetworkSpec) {
    this.inner = new MacsMetric(spec);
  }

  measure(configs: readonly SubnetConfig[]): Promise<number[]> {
    this.batches.push(configs.length);
    return this.inner.measure(configs);
  }
}

export function params(overrides: Partial<SearchParams> = {}): SearchParams {
  return {
    ...DEFAULT_PARAMS,
    target: { kind: 'fraction', value: 0.5 },
    samplesPerIteration: 12,
    layersPerSample: 4,
    reduction: 0.06,
    decay: 0.98,
    seed: 7,
    maxAttempts: 10,
    ...overrides,
  };
}

export function memoryStore(): SqliteRunStore {
  return new SqliteRunStore(openWorkspace(':memory:'));
}
