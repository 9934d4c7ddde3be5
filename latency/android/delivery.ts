/**
 * Hands the runner's per-repeat outcomes to the Profiler caller: a model's result once all its repeats have run
 * (so the caller can commit it before the next model runs), its failure when none of its repeats measured. What
 * progress did not deliver (a batch cut short) is delivered at the end. A delivered result can be delivered again
 * with one more flag (a batch found throttled afterwards).
 */
import type { BatchResult, ModelFailure, ProgressEvent } from './benchmark/runner.ts';
import type { BenchmarkMeasurement } from './benchmark/parse.ts';
import { ModelMeasurementError } from '../profiler.ts';
import type { MeasureCallbacks, Measurement } from '../profiler.ts';
import { measurementFromRepeats } from './measurement.ts';

/** A model the device ran but could not measure (it hung, its output was cut off or unreadable, ...). */
export class ModelBenchmarkError extends ModelMeasurementError {
  constructor(readonly failure: ModelFailure) {
    super(failure.reason, failure.message, failure.output ? failure.output.split('\n') : []);
  }
}

export class Delivery {
  private readonly repeatsSeen = new Map<string, number>();
  private readonly measured = new Map<string, BenchmarkMeasurement[]>();
  private readonly flags = new Map<string, Set<string>>();
  private readonly failed = new Map<string, ModelFailure[]>();
  private readonly results = new Map<string, Measurement>();
  private readonly delivered = new Set<string>();
  /** An exception thrown by the caller's callback (e.g. the store could not write); rethrown after the batch. */
  private callbackError: unknown;

  constructor(
    private readonly callbacks: MeasureCallbacks,
    private readonly repeats: number,
    private readonly maxRelativeStd: number,
    /** Flags every result of this delivery carries (e.g. 'remeasured-after-throttling'). */
    private readonly extraFlags: readonly string[] = [],
  ) {}

  progress(event: ProgressEvent): void {
    const { key } = event;
    if (event.measurement) {
      this.measured.set(key, [...(this.measured.get(key) ?? []), event.measurement]);
      this.flags.set(key, new Set([...(this.flags.get(key) ?? []), ...(event.flags ?? [])]));
    }
    if (event.failure) this.failed.set(key, [...(this.failed.get(key) ?? []), event.failure]);
    const seen = (this.repeatsSeen.get(key) ?? 0) + 1;
    this.repeatsSeen.set(key, seen);
    if (seen < this.repeats) return;
    const measured = this.measured.get(key) ?? [];
    const failures = this.failed.get(key) ?? [];
    if (measured.length > 0) this.deliverResult(key, measured, failures.length, [...(this.flags.get(key) ?? [])]);
    else if (failures[0]) this.deliverFailure(failures[0]);
  }

  /** Delivers what progress did not (a batch cut short); models that never ran are not delivered at all. */
  finish(batch: BatchResult): void {
    for (const result of batch.results) this.deliverResult(result.key, result.measurements, result.failedRepeats, result.flags);
    for (const failure of batch.failures) this.deliverFailure(failure);
    this.rethrow();
  }

  /** Delivers the results of `keys` again with `flag` added. */
  reflag(keys: readonly string[], flag: string): void {
    for (const key of keys) {
      const result = this.results.get(key);
      if (!result || this.callbackError !== undefined) continue;
      const updated = { ...result, flags: [...new Set([...result.flags, flag])].sort() };
      this.results.set(key, updated);
      this.call(() => this.callbacks.onResult(key, updated));
    }
    this.rethrow();
  }

  private rethrow(): void {
    if (this.callbackError !== undefined) throw this.callbackError;
  }

  private deliverResult(key: string, measured: readonly BenchmarkMeasurement[], failedRepeats: number, flags: readonly string[]): void {
    if (this.delivered.has(key) || this.callbackError !== undefined) return;
    this.delivered.add(key);
    const base = measurementFromRepeats(measured, { repeats: this.repeats, failedRepeats, maxRelativeStd: this.maxRelativeStd });
    const measurement = { ...base, flags: [...new Set([...base.flags, ...flags, ...this.extraFlags])].sort() };
    this.results.set(key, measurement);
    this.call(() => this.callbacks.onResult(key, measurement));
  }

  private deliverFailure(failure: ModelFailure): void {
    if (this.delivered.has(failure.key) || this.callbackError !== undefined) return;
    this.delivered.add(failure.key);
    const error = new ModelBenchmarkError(failure);
    const onFailure = this.callbacks.onFailure;
    // Without an onFailure callback a failed model fails the whole call, as the host profiler does.
    this.call(() => {
      if (!onFailure) throw error;
      onFailure(failure.key, error);
    });
  }

  private call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.callbackError = error;
    }
  }
}
