/** Whole-model measurements next to the sum the table predicted for them, and the per-model overhead they give. */
import type Database from 'better-sqlite3';
import { ValidationError } from '../../core/errors.ts';
import { median } from '../../core/stats.ts';
import { timestampSchema } from './latency-types.ts';
import type { ModelMeasurement, ModelMeasurementInput } from './latency-types.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';
import { MODEL_ROW } from './rows.ts';
import type { SqlValue } from './rows.ts';
import { toIso } from './entry-repository.ts';

export interface OverheadEstimate {
  /** Median of (measured − predicted sum) over the whole-model measurements; 0 when there are none. */
  readonly overheadUs: number;
  readonly samples: number;
}

export class ModelMeasurementRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    const columns = MODEL_ROW.columnList;
    this.statements = {
      insert: db.prepare<[Record<string, SqlValue>]>(`INSERT OR IGNORE INTO model_measurements (${columns}) VALUES (${MODEL_ROW.parameterList})`),
      table: db.prepare<[string, string], Record<string, unknown>>(
        `SELECT ${columns} FROM model_measurements WHERE device_id = ? AND runtime_options = ? ORDER BY measured_at, model_key`,
      ),
      device: db.prepare<[string], Record<string, unknown>>(
        `SELECT ${columns} FROM model_measurements WHERE device_id = ? ORDER BY runtime_options, measured_at, model_key`,
      ),
    };
  }

  /** Inserts (inside the caller's transaction); returns 0 when the same model key and time was already there. */
  write(measurement: ModelMeasurement): number {
    return this.statements.insert.run(MODEL_ROW.toRow(measurement)).changes;
  }

  table(deviceId: string, runtimeOptions: string): ModelMeasurement[] {
    return this.statements.table.all(deviceId, canonicalRuntimeOptions(runtimeOptions)).map((row) => MODEL_ROW.fromRow(row));
  }

  ofDevice(deviceId: string): ModelMeasurement[] {
    return this.statements.device.all(deviceId).map((row) => MODEL_ROW.fromRow(row));
  }

  /**
   * The constant per-model overhead (interpreter setup, input/output copies, ... that no single layer carries):
   * the MEDIAN of (measured − predicted sum) over the whole-model measurements of this table. A median, not a
   * least-squares intercept, because one disturbed measurement (thermal throttling, a background app) must not
   * move it, and because the slope of measured against predicted is ~1 by construction. It may be negative
   * (layer-by-layer timing can over-count). 0 when there are no whole-model measurements.
   */
  overheadEstimate(deviceId: string, runtimeOptions: string): OverheadEstimate {
    const residuals = this.table(deviceId, runtimeOptions).map((m) => m.measuredUs - m.predictedSumUs);
    return { overheadUs: residuals.length === 0 ? 0 : median(residuals), samples: residuals.length };
  }
}

export function validateModelMeasurement(input: ModelMeasurementInput): ModelMeasurement {
  const problems: string[] = [];
  if (input.deviceId.trim() === '') problems.push('deviceId is empty');
  if (input.modelKey.trim() === '') problems.push('modelKey is empty');
  for (const key of ['measuredUs', 'predictedSumUs'] as const) {
    if (!Number.isFinite(input[key]) || input[key] < 0) problems.push(`${key} must be a non-negative number (got ${input[key]})`);
  }
  const measuredAt = timestampSchema.safeParse(toIso(input.measuredAt));
  if (!measuredAt.success) problems.push(`measuredAt is not an ISO 8601 time (got ${String(input.measuredAt)})`);
  if (problems.length > 0 || !measuredAt.success) throw new ValidationError('the whole-model measurement is invalid', problems);
  return { ...input, runtimeOptions: canonicalRuntimeOptions(input.runtimeOptions), measuredAt: measuredAt.data };
}
