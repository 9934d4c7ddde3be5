/**
 * A search that must meet a target on several devices at once (e.g. latency on phone A ≤ 50% and on phone B ≤ 60%):
 * the resource is the vector of every device's latency, and a sub-network's scalar resource is its largest ratio to
 * the targets, ρ = max_d r_d / t_d. So ρ ≤ c exactly when every device is within c × its target: the search's final
 * target is ρ = 1 (all targets met), and an iteration's target ρ_k means every device must come within ρ_k × its
 * target — each sample must meet every device's target of the iteration. The per-iteration reduction therefore
 * applies to the device furthest from its target, the one that binds.
 */
import { fullSubnet, minimalSubnet, searchSpace } from '../arch/index.ts';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import { UserError } from '../errors.ts';
import { formatResource } from './format.ts';
import type { ResourceMetric } from './types.ts';

export interface DeviceTarget {
  /** Shown in messages and reports, e.g. "Pixel 7 (0A1B…)". */
  label: string;
  metric: ResourceMetric;
  /** An absolute value in the metric's unit, or a fraction of the full network's value on this device. */
  target: { kind: 'absolute' | 'fraction'; value: number };
}

export interface ResolvedDeviceTarget {
  label: string;
  metric: ResourceMetric;
  unit: string;
  /** Absolute target in the metric's unit. */
  target: number;
  initial: number;
}

export class MultiTargetMetric implements ResourceMetric {
  readonly name: string;
  readonly unit = '× target';

  private constructor(readonly devices: readonly ResolvedDeviceTarget[]) {
    this.name = `multi(${devices.map((d) => d.metric.name).join(',')})`;
  }

  /**
   * Resolves the targets against the full network and refuses targets that cannot all be met (the smallest
   * sub-network misses one), naming every device that misses.
   */
  static async create(spec: NetworkSpec, targets: readonly DeviceTarget[]): Promise<MultiTargetMetric> {
    if (targets.length < 2) throw new UserError('a multi-device target needs at least two devices');
    const space = searchSpace(spec);
    const devices: ResolvedDeviceTarget[] = [];
    const misses: string[] = [];
    for (const t of targets) {
      const [initial, smallest] = (await t.metric.measure([fullSubnet(space), minimalSubnet(space)])) as [number, number];
      const target = t.target.kind === 'absolute' ? t.target.value : t.target.value * initial;
      if (smallest > target) {
        misses.push(`${t.label}: even the smallest sub-network needs ${formatResource(smallest, t.metric.unit)}, the target is ${formatResource(target, t.metric.unit)}`);
      }
      devices.push({ label: t.label, metric: t.metric, unit: t.metric.unit, target, initial });
    }
    if (misses.length > 0) {
      throw new UserError(`the targets cannot all be met on "${spec.name}"`, misses);
    }
    return new MultiTargetMetric(devices);
  }

  async measure(configs: readonly SubnetConfig[]): Promise<number[]> {
    const perDevice = await this.components(configs);
    return configs.map((_, i) => Math.max(...perDevice.map((values, d) => (values[i] as number) / (this.devices[d] as ResolvedDeviceTarget).target)));
  }

  /** Every device's value of every config: [device][config]. */
  components(configs: readonly SubnetConfig[]): Promise<number[][]> {
    return Promise.all(this.devices.map((d) => d.metric.measure(configs)));
  }

  /** One line per device: value, its target, and the share of the full network's value. */
  async describe(config: SubnetConfig): Promise<{ label: string; value: number; target: number; initial: number; unit: string }[]> {
    const values = await this.components([config]);
    return this.devices.map((d, i) => ({ label: d.label, value: values[i]?.[0] as number, target: d.target, initial: d.initial, unit: d.unit }));
  }
}
