/**
 * Latency of a whole sub-network measured on the device (no per-layer table). Measurements are slow and the search
 * revisits sub-networks, so each distinct sub-network is measured once (cached by subnetKey) and the batch is
 * measured one model at a time (one device runs one benchmark at a time).
 */
import { subnetKey } from '../arch/index.ts';
import type { SubnetConfig } from '../arch/index.ts';
import { SubnetCache } from './subnet-cache.ts';
import type { ModelMeasurer, ResourceMetric } from './types.ts';

export interface MeasuredLatencyOptions {
  readonly cacheSize?: number;
}

export class MeasuredLatencyMetric implements ResourceMetric {
  readonly name = 'latency-measured';
  readonly unit = 'ms';
  private readonly cache: SubnetCache<number>;
  /** Models measured so far (cache misses). */
  measurements = 0;

  constructor(
    private readonly measureModel: ModelMeasurer,
    options: MeasuredLatencyOptions = {},
  ) {
    this.cache = new SubnetCache(options.cacheSize);
  }

  async measure(configs: readonly SubnetConfig[]): Promise<number[]> {
    const out: number[] = [];
    for (const config of configs) {
      const key = subnetKey(config);
      let value = this.cache.get(key);
      if (value === undefined) {
        value = await this.measureModel(config);
        this.measurements++;
        if (!Number.isFinite(value) || value <= 0) {
          throw new Error(`measuring sub-network ${key} returned ${value} ms; expected a positive latency`);
        }
        this.cache.set(key, value);
      }
      out.push(value);
    }
    return out;
  }
}
