/**
 * How long one benchmark_model run of a model may take before it counts as hung. The limit is derived from the
 * model's expected cost, best source first:
 *   1. a fixed limit given by the user (`--model-timeout`);
 *   2. the model's own first measurement (an earlier repeat of this batch);
 *   3. its MACs at the speed measured on this phone so far (median µs per MAC of the models measured in the batch);
 *   4. its MACs at a deliberately slow PRIOR_MACS_PER_US.
 * limit = startup floor (process start, model load, delegate creation) + SAFETY × (warm-up + timed runs) × the
 * expected time of one run. The floor is larger for GPU and NNAPI, whose delegates compile the graph first.
 */
import { median } from '../../../core/stats.ts';
import type { Delegate } from './delegates.ts';

export interface TimeLimitOptions {
  /** A fixed limit per model run (ms), instead of one derived from the model's cost. */
  fixedMs?: number;
}

const CPU_FLOOR_MS = 10_000;
const ACCELERATOR_FLOOR_MS = 45_000;
const SAFETY = 10;
/** 1 GMAC/s: slower than any phone's big core on these layers. */
const PRIOR_MACS_PER_US = 1_000;
/** The least a run is expected to take (invoking a model at all). */
const MIN_RUN_US = 100;

export class TimeLimits {
  private readonly knownRunUs = new Map<string, number>();
  private readonly usPerMac: number[] = [];

  constructor(
    private readonly invocation: { warmupRuns: number; numRuns: number; delegate: Delegate },
    private readonly options: TimeLimitOptions = {},
  ) {}

  /** The time limit (ms) of one run of the model `token` (MACs when known). */
  limitMs(token: string, macs: number | undefined): number {
    if (this.options.fixedMs !== undefined) return this.options.fixedMs;
    const floor = this.invocation.delegate === 'gpu' || this.invocation.delegate === 'nnapi' ? ACCELERATOR_FLOOR_MS : CPU_FLOOR_MS;
    const runs = this.invocation.warmupRuns + this.invocation.numRuns;
    return Math.round(floor + (SAFETY * runs * this.expectedRunUs(token, macs)) / 1000);
  }

  /** What one inference of the model is expected to take (µs). */
  expectedRunUs(token: string, macs: number | undefined): number {
    const known = this.knownRunUs.get(token);
    if (known !== undefined) return Math.max(MIN_RUN_US, known);
    if (macs === undefined || macs <= 0) return MIN_RUN_US;
    const rate = this.usPerMac.length > 0 ? median(this.usPerMac) : 1 / PRIOR_MACS_PER_US;
    return Math.max(MIN_RUN_US, macs * rate);
  }

  /** A measured run time (average µs per inference) of the model `token`. */
  observe(token: string, macs: number | undefined, avgUs: number): void {
    if (!this.knownRunUs.has(token)) this.knownRunUs.set(token, avgUs);
    // Per-MAC speed from real layers only: a tiny layer's time is mostly its invocation cost.
    if (macs !== undefined && macs >= 100_000 && avgUs > 0) this.usPerMac.push(avgUs / macs);
  }
}
