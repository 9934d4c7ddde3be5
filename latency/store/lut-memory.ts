import { UserError } from '../../core/errors.ts';
import type { LatencyStore } from './latency-store.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';

/** Which per-layer statistic a table sums. */
export type LatencyStatistic = 'mean' | 'median';

/** A latency estimate needed layers the table does not have. Never answered with a silent zero. */
export class MissingLatencyEntryError extends UserError {
  /** Every missing signature (distinct, in first-seen order); the message lists the first 20. */
  readonly missing: readonly string[];

  constructor(missing: readonly string[], table: { readonly deviceId?: string; readonly runtimeOptions?: string } = {}) {
    const where = table.deviceId === undefined ? '' : ` for device ${table.deviceId}${table.runtimeOptions === undefined ? '' : ` (options ${table.runtimeOptions || 'none'})`}`;
    const shown = missing.slice(0, 20).map((s) => `missing: ${s}`);
    if (missing.length > 20) shown.push(`... and ${missing.length - 20} more`);
    super(
      `${missing.length} layer signature(s) have no latency entry${where}; measure them (lazy profiling or ` +
        '`netadapt lut build`) or use a table that covers this network',
      shown,
    );
    this.missing = missing;
  }
}

export interface LatencyTableOptions {
  /** Constant per-model overhead added once to every estimate (µs). Default 0. */
  readonly overheadUs?: number;
  readonly deviceId?: string;
  readonly runtimeOptions?: string;
  readonly statistic?: LatencyStatistic;
}

export interface FromStoreOptions {
  /** Default 'mean': the mean is additive (the mean of a sum is the sum of the means), the median is not. */
  readonly statistic?: LatencyStatistic;
  /** Add the store's per-model overhead estimate (default true). */
  readonly includeOverhead?: boolean;
}

/**
 * An immutable in-memory latency lookup table for one (device, runtime options): the search's hot path.
 *
 * Two ways to ask it:
 * - `estimate(signatures)`: by signature string (a Map lookup per layer);
 * - the interned fast path: map each signature to an integer once with `tableIndex` / `indicesOf`, keep the
 *   sub-networks as Int32Arrays of indices, and sum with `estimateIds` (a typed-array walk: no hashing, no
 *   allocation), or many at once with `estimateIdsBatch`.
 */
export class LatencyTable {
  readonly overheadUs: number;
  readonly deviceId: string | undefined;
  readonly runtimeOptions: string | undefined;
  readonly statistic: LatencyStatistic;
  private readonly indexBySignature = new Map<string, number>();
  private readonly signatureList: string[] = [];
  private readonly values: Float64Array;

  constructor(entries: Iterable<readonly [signature: string, latencyUs: number]>, options: LatencyTableOptions = {}) {
    const latencies: number[] = [];
    for (const [signature, latencyUs] of entries) {
      if (!Number.isFinite(latencyUs) || latencyUs < 0) {
        throw new RangeError(`LatencyTable: the latency of ${signature} is ${latencyUs}; expected a non-negative number`);
      }
      const existing = this.indexBySignature.get(signature);
      if (existing !== undefined) {
        latencies[existing] = latencyUs;
        continue;
      }
      this.indexBySignature.set(signature, this.signatureList.length);
      this.signatureList.push(signature);
      latencies.push(latencyUs);
    }
    this.values = Float64Array.from(latencies);
    this.overheadUs = options.overheadUs ?? 0;
    if (!Number.isFinite(this.overheadUs)) throw new RangeError(`LatencyTable: overhead ${this.overheadUs} is not a number`);
    this.deviceId = options.deviceId;
    this.runtimeOptions = options.runtimeOptions;
    this.statistic = options.statistic ?? 'mean';
  }

  /** Loads one table (device + runtime options) from the store. */
  static fromStore(store: LatencyStore, deviceId: string, runtimeOptions: string, options: FromStoreOptions = {}): LatencyTable {
    const statistic = options.statistic ?? 'mean';
    const entries = store.tableEntries(deviceId, runtimeOptions);
    return new LatencyTable(
      entries.map((e) => [e.signature, statistic === 'mean' ? e.meanUs : e.medianUs] as const),
      {
        statistic,
        deviceId,
        runtimeOptions: canonicalRuntimeOptions(runtimeOptions),
        overheadUs: options.includeOverhead === false ? 0 : store.overheadUs(deviceId, runtimeOptions),
      },
    );
  }

  get size(): number {
    return this.signatureList.length;
  }

  /** Signatures in index order: `signatures[tableIndex(s)] === s`. */
  get signatures(): readonly string[] {
    return this.signatureList;
  }

  has(signature: string): boolean {
    return this.indexBySignature.has(signature);
  }

  /** The latency of one layer (µs), or undefined when the table has no entry. */
  latencyUs(signature: string): number | undefined {
    const index = this.indexBySignature.get(signature);
    return index === undefined ? undefined : this.values[index];
  }

  /** Sum of the layers' latencies plus the overhead (µs); throws MissingLatencyEntryError listing every missing one. */
  estimate(signatures: Iterable<string>): number {
    let sum = this.overheadUs;
    let missing: Set<string> | undefined;
    for (const signature of signatures) {
      const index = this.indexBySignature.get(signature);
      if (index === undefined) (missing ??= new Set()).add(signature);
      else sum += this.values[index] as number;
    }
    if (missing) throw this.missingError([...missing]);
    return sum;
  }

  /** The integer id of a signature for `estimateIds`; throws MissingLatencyEntryError when it has no entry. */
  tableIndex(signature: string): number {
    const index = this.indexBySignature.get(signature);
    if (index === undefined) throw this.missingError([signature]);
    return index;
  }

  /** Like `tableIndex`, but -1 when the table has no entry. */
  tryTableIndex(signature: string): number {
    return this.indexBySignature.get(signature) ?? -1;
  }

  /** Ids of a whole sub-network at once; throws MissingLatencyEntryError listing all missing signatures. */
  indicesOf(signatures: readonly string[]): Int32Array {
    const ids = new Int32Array(signatures.length);
    let missing: Set<string> | undefined;
    signatures.forEach((signature, i) => {
      const index = this.indexBySignature.get(signature);
      if (index === undefined) (missing ??= new Set()).add(signature);
      else ids[i] = index;
    });
    if (missing) throw this.missingError([...missing]);
    return ids;
  }

  /** Sum over table ids plus the overhead (µs). Ids come from `tableIndex`/`indicesOf`; a bad id is a RangeError. */
  estimateIds(ids: Int32Array | readonly number[]): number {
    const sum = ids instanceof Int32Array ? sumInt32(this.values, ids, 0, ids.length) : sumArray(this.values, ids);
    if (Number.isNaN(sum)) throw this.badIdError(ids);
    return sum + this.overheadUs;
  }

  /**
   * Estimates many sub-networks stored back to back in one Int32Array (`layersPerSubnet` ids each); writes the
   * estimates into `out` (allocated when not given) and returns it.
   */
  estimateIdsBatch(ids: Int32Array, layersPerSubnet: number, out?: Float64Array): Float64Array {
    if (!Number.isInteger(layersPerSubnet) || layersPerSubnet <= 0 || ids.length % layersPerSubnet !== 0) {
      throw new RangeError(`estimateIdsBatch: ${ids.length} ids are not a whole number of sub-networks of ${layersPerSubnet} layers`);
    }
    const count = ids.length / layersPerSubnet;
    const result = out ?? new Float64Array(count);
    if (result.length < count) throw new RangeError(`estimateIdsBatch: out has room for ${result.length} estimates, ${count} needed`);
    const values = this.values;
    const overhead = this.overheadUs;
    for (let n = 0, offset = 0; n < count; n++, offset += layersPerSubnet) {
      const sum = sumInt32(values, ids, offset, offset + layersPerSubnet);
      if (Number.isNaN(sum)) throw this.badIdError(ids.subarray(offset, offset + layersPerSubnet));
      result[n] = sum + overhead;
    }
    return result;
  }

  private badIdError(ids: Int32Array | readonly number[]): RangeError {
    const bad = Array.from(ids).find((id) => !(Number.isInteger(id) && id >= 0 && id < this.values.length));
    return new RangeError(`table id ${bad} is not an index of this latency table (size ${this.values.length})`);
  }

  private missingError(missing: string[]): MissingLatencyEntryError {
    return new MissingLatencyEntryError(missing, {
      ...(this.deviceId === undefined ? {} : { deviceId: this.deviceId }),
      ...(this.runtimeOptions === undefined ? {} : { runtimeOptions: this.runtimeOptions }),
    });
  }
}

// The two hot loops (one per id container, so each stays monomorphic). No bounds check per layer: an id outside the
// table reads `undefined` from the typed array, which turns the sum into NaN; callers check once after the loop.

function sumInt32(values: Float64Array, ids: Int32Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += values[ids[i] as number] as number;
  return sum;
}

function sumArray(values: Float64Array, ids: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < ids.length; i++) sum += values[ids[i] as number] as number;
  return sum;
}
