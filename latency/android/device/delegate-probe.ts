/**
 * Which delegates work on a phone: benchmark_model runs a tiny model once with each one, and a delegate works when
 * the run passes the same checks as a real measurement (it applied, the output is complete). The app offers
 * exactly the delegates that work.
 */
import { BenchmarkRunner } from '../benchmark/runner.ts';
import { DELEGATES } from '../benchmark/delegates.ts';
import type { Delegate } from '../benchmark/delegates.ts';
import { parseNetworkSpec, resolveNetwork } from '../../../core/arch/index.ts';
import { layerModel } from '../../lut/layer-models.ts';
import type { DeviceBridge } from './bridge.ts';

export interface DelegateSupport {
  delegate: Delegate;
  works: boolean;
  /** Why it does not work (the tool's message). */
  reason?: string;
}

/** A 3×3 convolution: an op every delegate supports, so a delegate that is not applied to it does not work. */
const PROBE_NETWORK = {
  name: 'delegate-probe',
  task: 'classification' as const,
  input: { height: 16, width: 16, channels: 8 },
  widthLevels: 2,
  layers: [
    { type: 'conv' as const, name: 'conv', filters: 16, kernel: 3, stride: 1, act: 'relu' as const },
    { type: 'gap' as const, name: 'pool' },
    { type: 'fc' as const, name: 'fc', units: 4 },
  ],
};

export async function probeDelegates(
  bridge: DeviceBridge,
  serial: string,
  delegates: readonly Delegate[] = DELEGATES,
  runner = new BenchmarkRunner(bridge),
): Promise<DelegateSupport[]> {
  const layer = resolveNetwork(parseNetworkSpec(PROBE_NETWORK)).layers[0];
  if (!layer) throw new Error('the delegate probe network has no layer');
  const model = layerModel(layer);
  const support: DelegateSupport[] = [];
  for (const delegate of delegates) {
    const batch = await runner.measureBatch(serial, [{ key: 'probe', bytes: model.bytes, macs: 0 }], {
      delegate,
      warmupRuns: 0,
      numRuns: 1,
      modelTimeoutMs: delegate === 'gpu' || delegate === 'nnapi' ? 45_000 : 15_000,
    });
    const failure = batch.failures[0];
    support.push(failure ? { delegate, works: false, reason: failure.message } : { delegate, works: batch.results.length > 0 });
  }
  return support;
}

/** The delegates that work per phone fingerprint, tried once each (a few benchmark runs); unknown on any failure. */
export class WorkingDelegates {
  private readonly known = new Map<string, { delegates: Delegate[]; problems: string[] }>();

  async of(bridge: DeviceBridge, serial: string, fingerprintKey: string): Promise<{ delegates: Delegate[]; problems: string[] } | undefined> {
    const known = this.known.get(fingerprintKey);
    if (known) return known;
    try {
      const support = await probeDelegates(bridge, serial);
      const result = {
        delegates: support.filter((s) => s.works).map((s) => s.delegate),
        problems: support.filter((s) => !s.works).map((s) => `${s.delegate}: ${s.reason ?? 'does not work'}`),
      };
      this.known.set(fingerprintKey, result);
      return result;
    } catch {
      return undefined;
    }
  }
}
