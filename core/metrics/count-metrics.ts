/** MACs and parameters of a sub-network, exactly as core/arch counts them (resolveNetwork); never recounted here. */
import { resolveNetwork, subnetKey } from '../arch/index.ts';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import { SubnetCache } from './subnet-cache.ts';
import type { ResourceMetric } from './types.ts';

export interface CountMetricOptions {
  /** Sub-networks whose counts are kept (default 100 000). */
  readonly cacheSize?: number;
}

abstract class CountMetric implements ResourceMetric {
  abstract readonly name: string;
  abstract readonly unit: string;
  private readonly cache: SubnetCache<number>;

  constructor(
    readonly spec: NetworkSpec,
    options: CountMetricOptions = {},
  ) {
    this.cache = new SubnetCache(options.cacheSize);
  }

  protected abstract pick(network: { macs: number; params: number }): number;

  measureSync(config: SubnetConfig): number {
    return this.cache.getOrCompute(subnetKey(config), () => this.pick(resolveNetwork(this.spec, config)));
  }

  measure(configs: readonly SubnetConfig[]): Promise<number[]> {
    try {
      return Promise.resolve(configs.map((config) => this.measureSync(config)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

export class MacsMetric extends CountMetric {
  readonly name = 'macs';
  readonly unit = 'MACs';

  protected pick(network: { macs: number }): number {
    return network.macs;
  }
}

export class ParamsMetric extends CountMetric {
  readonly name = 'params';
  readonly unit = 'params';

  protected pick(network: { params: number }): number {
    return network.params;
  }
}
