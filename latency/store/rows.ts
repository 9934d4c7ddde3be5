/**
 * The one mapping between the latency records and their SQLite rows: every field is spelled here once, with its
 * column and how its value is stored. The repositories build their column lists, named parameters and conversions
 * from these tables instead of repeating the fields.
 */
import type { BatchConditions, DeviceRecord, EntryFailure, LatencyEntry, ModelMeasurement } from './latency-types.ts';

export type SqlValue = string | number | null;

interface Column<T> {
  readonly field: keyof T & string;
  readonly column: string;
  /** How the value is stored (default: as is). */
  readonly toDb?: (value: never) => SqlValue;
  /** How the stored value is read back (default: as is). */
  readonly fromDb?: (value: never) => unknown;
}

export class RowMapping<T extends object> {
  /** `a, b, c` — for SELECT and INSERT column lists. */
  readonly columnList: string;
  /** `@a, @b, @c` — the named parameters of an INSERT matching `columnList`. */
  readonly parameterList: string;

  constructor(readonly columns: readonly Column<T>[]) {
    this.columnList = columns.map((c) => c.column).join(', ');
    this.parameterList = columns.map((c) => `@${c.column}`).join(', ');
  }

  columnOf(field: keyof T & string): string {
    const column = this.columns.find((c) => c.field === field);
    if (!column) throw new Error(`no column for field ${field}`);
    return column.column;
  }

  toRow(value: T): Record<string, SqlValue> {
    const row: Record<string, SqlValue> = {};
    for (const c of this.columns) {
      const raw = value[c.field] as never;
      row[c.column] = c.toDb ? c.toDb(raw) : (raw as SqlValue);
    }
    return row;
  }

  fromRow(row: Readonly<Record<string, unknown>>): T {
    const value: Record<string, unknown> = {};
    for (const c of this.columns) {
      const raw = row[c.column] as never;
      value[c.field] = c.fromDb ? c.fromDb(raw) : raw;
    }
    return value as T;
  }
}

/** A stored flag list is sorted and comma-separated ('' for none); flags are [a-z0-9-], so no escaping is needed. */
const flagsColumn = {
  toDb: (flags: readonly string[]): string => flags.join(','),
  fromDb: (text: string): string[] => (text === '' ? [] : text.split(',')),
};

export const ENTRY_ROW = new RowMapping<LatencyEntry>([
  { field: 'deviceId', column: 'device_id' },
  { field: 'runtimeOptions', column: 'runtime_options' },
  { field: 'signature', column: 'signature' },
  { field: 'count', column: 'count' },
  { field: 'meanUs', column: 'mean_us' },
  { field: 'medianUs', column: 'median_us' },
  { field: 'stdUs', column: 'std_us' },
  { field: 'minUs', column: 'min_us' },
  { field: 'maxUs', column: 'max_us' },
  { field: 'measuredAt', column: 'measured_at' },
  { field: 'modelSha256', column: 'model_sha256' },
  { field: 'flags', column: 'flags', ...flagsColumn },
]);

/** The fields that identify an entry; the others are its values (what an export file carries per entry). */
export const ENTRY_KEY_FIELDS = ['deviceId', 'runtimeOptions', 'signature'] as const;
export const ENTRY_VALUE_FIELDS = ENTRY_ROW.columns
  .map((c) => c.field)
  .filter((field): field is Exclude<keyof LatencyEntry, (typeof ENTRY_KEY_FIELDS)[number]> => !(ENTRY_KEY_FIELDS as readonly string[]).includes(field));

export const MODEL_ROW = new RowMapping<ModelMeasurement>([
  { field: 'deviceId', column: 'device_id' },
  { field: 'runtimeOptions', column: 'runtime_options' },
  { field: 'modelKey', column: 'model_key' },
  { field: 'measuredUs', column: 'measured_us' },
  { field: 'predictedSumUs', column: 'predicted_sum_us' },
  { field: 'measuredAt', column: 'measured_at' },
]);

export const DEVICE_ROW = new RowMapping<DeviceRecord>([
  { field: 'id', column: 'id' },
  { field: 'fingerprintJson', column: 'fingerprint_json' },
  { field: 'label', column: 'label' },
  { field: 'firstSeen', column: 'first_seen' },
  { field: 'lastSeen', column: 'last_seen' },
]);

/** A device row with its fingerprint object parsed (the record carries both forms). */
export function deviceFromRow(row: Readonly<Record<string, unknown>>): DeviceRecord {
  const record = DEVICE_ROW.fromRow(row);
  return { ...record, fingerprint: JSON.parse(record.fingerprintJson) as Record<string, unknown> };
}

export const FAILURE_ROW = new RowMapping<EntryFailure>([
  { field: 'deviceId', column: 'device_id' },
  { field: 'runtimeOptions', column: 'runtime_options' },
  { field: 'signature', column: 'signature' },
  { field: 'reason', column: 'reason' },
  { field: 'message', column: 'message' },
  { field: 'attempts', column: 'attempts' },
  { field: 'failedAt', column: 'failed_at' },
]);

const jsonColumn = {
  toDb: (value: unknown): string => JSON.stringify(value),
  fromDb: (text: string): unknown => JSON.parse(text),
};

export const CONDITIONS_ROW = new RowMapping<BatchConditions>([
  { field: 'deviceId', column: 'device_id' },
  { field: 'runtimeOptions', column: 'runtime_options' },
  { field: 'serial', column: 'serial' },
  { field: 'recordedAt', column: 'recorded_at' },
  { field: 'models', column: 'models' },
  { field: 'attempt', column: 'attempt' },
  { field: 'verdict', column: 'verdict' },
  { field: 'reasons', column: 'reasons', ...jsonColumn },
  { field: 'before', column: 'before_json', ...jsonColumn },
  { field: 'after', column: 'after_json', ...jsonColumn },
  { field: 'cooldownMs', column: 'cooldown_ms' },
]);
