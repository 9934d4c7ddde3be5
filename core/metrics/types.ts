/**
 * Resource metrics: what the search reduces (MACs, parameters, latency). The optimizers in core/search depend only
 * on these interfaces, so every metric works with every optimizer and tests can use cheap fakes.
 */
import type { SubnetConfig } from '../arch/index.ts';

export interface ResourceMetric {
  /** Short machine name, e.g. 'macs', 'latency-lut'. */
  readonly name: string;
  /** Unit of the numbers `measure` returns, e.g. 'MACs', 'params', 'ms'. */
  readonly unit: string;
  /**
   * Resources of many sub-networks at once, in the order given. A batch lets a lazily profiled table measure every
   * layer missing from ALL of these sub-networks in one profiling session instead of one session per sub-network.
   */
  measure(configs: readonly SubnetConfig[]): Promise<number[]>;
  /**
   * Synchronous fast path, present when a value never needs a measurement (counts) or may throw when it would
   * (a lookup table without the entries). Optional: callers fall back to `measure`.
   */
  measureSync?(config: SubnetConfig): number;
}

/**
 * Per-layer latency entries for one device and runtime configuration (a LatencyTable, possibly backed by a
 * profiler that can measure missing entries on demand). Latencies are in microseconds.
 */
export interface LatencySource {
  /** Sum of the per-layer entries of these signatures, WITHOUT the per-model overhead; throws when one is missing. */
  estimate(signatures: readonly string[]): number;
  /** The signatures (distinct) that have no entry. */
  missing(signatures: readonly string[]): string[];
  /** Measures the given signatures (one profiling session) and makes them available to `estimate`. */
  profileMissing(signatures: readonly string[]): Promise<void>;
  /** Constant per-model overhead added once to every sub-network's latency (µs). */
  overheadUs(): number;
  /** Which device/table this is, for error messages (e.g. "Pixel 7 (0A1B…), 4 threads"). */
  readonly description?: string;
  /** The device fingerprint id of the table, so a search can refuse another device's table. */
  readonly deviceId?: string;
}

/** Measures a whole sub-network on the device; returns its latency in milliseconds. */
export type ModelMeasurer = (config: SubnetConfig) => Promise<number>;
