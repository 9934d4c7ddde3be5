/**
 * Latency from a per-layer lookup table: the sum of the entries of the sub-network's layer signatures (from
 * core/arch `networkSignatures(resolveNetwork(spec, config).layers)`) plus the table's constant per-model overhead.
 *
 * Lazy profiling: `measure(configs)` first collects the signatures missing from the table over ALL the configs of
 * the call, asks the source to profile them in one batch, then estimates. A layer the source still cannot provide
 * is an error (LatencyUnavailableError), never a silent zero.
 *
 * Hot path: signatures are interned to integer ids once; a sub-network is cached as an Int32Array of ids (by
 * subnetKey) and its latency is a sum over a per-id Float64Array, so the strings are built once per distinct layer.
 */
import { networkSignatures, resolveNetwork, subnetKey } from '../arch/index.ts';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import { LatencyUnavailableError } from './errors.ts';
import { SubnetCache } from './subnet-cache.ts';
import type { LatencySource, ResourceMetric } from './types.ts';

export interface LookupTableLatencyOptions {
  /** Sub-networks whose signature ids are kept (default 100 000). */
  readonly cacheSize?: number;
}

export class LookupTableLatencyMetric implements ResourceMetric {
  readonly name = 'latency-lut';
  readonly unit = 'ms';
  private readonly idsByKey: SubnetCache<Int32Array>;
  private readonly idBySignature = new Map<string, number>();
  private readonly signatures: string[] = [];
  /** Per-id latency in µs; NaN until the entry is known to exist. */
  private latencies = new Float64Array(256).fill(Number.NaN);
  /** How many profiling batches this metric requested (for progress reports and tests). */
  profileBatches = 0;

  constructor(
    readonly spec: NetworkSpec,
    readonly source: LatencySource,
    options: LookupTableLatencyOptions = {},
  ) {
    this.idsByKey = new SubnetCache(options.cacheSize);
  }

  /** Layer signatures of a sub-network (layers doing no work have none), in network order. */
  signaturesOf(config: SubnetConfig): string[] {
    return Array.from(this.idsOf(config), (id) => this.signatures[id] as string);
  }

  async measure(configs: readonly SubnetConfig[]): Promise<number[]> {
    const idLists = configs.map((config) => this.idsOf(config));
    const unknown = new Set<number>();
    for (const ids of idLists) for (const id of ids) if (Number.isNaN(this.latencies[id] as number)) unknown.add(id);
    if (unknown.size > 0) await this.fill([...unknown], true);
    return idLists.map((ids) => this.sum(ids));
  }

  /** Without profiling: throws LatencyUnavailableError when the table lacks an entry of this sub-network. */
  measureSync(config: SubnetConfig): number {
    const ids = this.idsOf(config);
    const unknown = Array.from(ids).filter((id) => Number.isNaN(this.latencies[id] as number));
    if (unknown.length > 0) this.fillSync(unknown, 'no profiler was asked (synchronous estimate)');
    return this.sum(ids);
  }

  private sum(ids: Int32Array): number {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.latencies[ids[i] as number] as number;
    const overhead = this.source.overheadUs();
    if (!Number.isFinite(total) || !Number.isFinite(overhead)) {
      throw new Error(`latency lookup produced ${total} + ${overhead} µs; the latency source returned a non-number`);
    }
    return (total + overhead) / 1000;
  }

  private async fill(ids: number[], mayProfile: boolean): Promise<void> {
    const signatures = ids.map((id) => this.signatures[id] as string);
    const missing = this.source.missing(signatures);
    if (missing.length > 0 && mayProfile) {
      this.profileBatches++;
      try {
        await this.source.profileMissing(missing);
      } catch (error) {
        if (error instanceof LatencyUnavailableError) throw error;
        const reason = `profiling them failed: ${error instanceof Error ? error.message : String(error)}`;
        throw new LatencyUnavailableError(missing, this.source.description, reason);
      }
    }
    this.fillSync(ids, 'the profiler did not provide them');
  }

  private fillSync(ids: number[], reason: string): void {
    const signatures = ids.map((id) => this.signatures[id] as string);
    const stillMissing = this.source.missing(signatures);
    if (stillMissing.length > 0) throw new LatencyUnavailableError(stillMissing, this.source.description, reason);
    ids.forEach((id, i) => {
      const value = this.source.estimate([signatures[i] as string]);
      if (!Number.isFinite(value) || value < 0) {
        throw new Error(`the latency source returned ${value} µs for ${signatures[i]}; expected a non-negative number`);
      }
      this.latencies[id] = value;
    });
  }

  private idsOf(config: SubnetConfig): Int32Array {
    return this.idsByKey.getOrCompute(subnetKey(config), () => {
      const signatures = networkSignatures(resolveNetwork(this.spec, config).layers);
      return Int32Array.from(signatures, (signature) => this.intern(signature));
    });
  }

  private intern(signature: string): number {
    let id = this.idBySignature.get(signature);
    if (id === undefined) {
      id = this.signatures.length;
      this.signatures.push(signature);
      this.idBySignature.set(signature, id);
      if (id >= this.latencies.length) {
        const grown = new Float64Array(this.latencies.length * 2).fill(Number.NaN);
        grown.set(this.latencies);
        this.latencies = grown;
      }
    }
    return id;
  }
}
