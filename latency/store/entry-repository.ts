/**
 * Per-layer latency entries, keyed by (device fingerprint id, runtime options, layer signature). Each write is its
 * own transaction (see LatencyStore for why).
 */
import type Database from 'better-sqlite3';
import { ValidationError } from '../../core/errors.ts';
import { describeIssues, entryValuesSchema } from './latency-types.ts';
import type { LatencyEntry, LatencyEntryInput } from './latency-types.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';
import { ENTRY_ROW, ENTRY_VALUE_FIELDS } from './rows.ts';
import type { SqlValue } from './rows.ts';
import { checkSignature, signatureOp } from './signature.ts';

export interface Coverage {
  /** Distinct signatures asked about. */
  readonly requested: number;
  readonly present: number;
  readonly missing: number;
  /** present / requested (1 when nothing was asked). */
  readonly fraction: number;
}

export interface DeviceStats {
  readonly deviceId: string;
  readonly total: number;
  /** Entries per `op=` of the signature, e.g. { conv: 120, dwconv: 40 }. */
  readonly byOp: Readonly<Record<string, number>>;
  readonly byRuntimeOptions: readonly { readonly runtimeOptions: string; readonly count: number }[];
  /** Entries with at least one flag (e.g. high-std). */
  readonly flagged: number;
  readonly oldestMeasuredAt: string | null;
  readonly newestMeasuredAt: string | null;
}

export interface TableSummary {
  deviceId: string;
  runtimeOptions: string;
  entries: number;
  newestMeasuredAt: string;
}

const WHERE_KEY = 'device_id = ? AND runtime_options = ?';

export class EntryRepository {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    const columns = ENTRY_ROW.columnList;
    const updates = ENTRY_VALUE_FIELDS.map((field) => ENTRY_ROW.columnOf(field))
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    this.statements = {
      upsert: db.prepare<[Record<string, SqlValue>]>(
        `INSERT INTO latency_entries (${columns}, op) VALUES (${ENTRY_ROW.parameterList}, @op)
         ON CONFLICT (device_id, runtime_options, signature) DO UPDATE SET ${updates}`,
      ),
      get: db.prepare<[string, string, string], Record<string, unknown>>(`SELECT ${columns} FROM latency_entries WHERE ${WHERE_KEY} AND signature = ?`),
      // json_each turns one JSON array parameter into a table: one prepared statement serves any number of
      // signatures, and each is a primary-key lookup.
      getIn: db.prepare<[string, string, string], Record<string, unknown>>(
        `SELECT ${columns} FROM latency_entries WHERE ${WHERE_KEY} AND signature IN (SELECT value FROM json_each(?))`,
      ),
      presentIn: db
        .prepare<[string, string, string], string>(`SELECT signature FROM latency_entries WHERE ${WHERE_KEY} AND signature IN (SELECT value FROM json_each(?))`)
        .pluck(),
      table: db.prepare<[string, string], Record<string, unknown>>(`SELECT ${columns} FROM latency_entries WHERE ${WHERE_KEY} ORDER BY signature`),
      device: db.prepare<[string], Record<string, unknown>>(`SELECT ${columns} FROM latency_entries WHERE device_id = ? ORDER BY runtime_options, signature`),
    };
  }

  /** Writes a validated entry (inside the caller's transaction), replacing an older one with the same key. */
  write(entry: LatencyEntry): void {
    this.statements.upsert.run({ ...ENTRY_ROW.toRow(entry), op: signatureOp(entry.signature) });
  }

  get(deviceId: string, runtimeOptions: string, signature: string): LatencyEntry | undefined {
    const row = this.statements.get.get(deviceId, canonicalRuntimeOptions(runtimeOptions), signature);
    return row ? ENTRY_ROW.fromRow(row) : undefined;
  }

  getMany(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Map<string, LatencyEntry> {
    const rows = this.statements.getIn.all(deviceId, canonicalRuntimeOptions(runtimeOptions), JSON.stringify(unique(signatures)));
    return new Map(rows.map((row) => ENTRY_ROW.fromRow(row)).map((entry) => [entry.signature, entry]));
  }

  missing(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): string[] {
    const wanted = unique(signatures);
    const present = new Set(this.statements.presentIn.all(deviceId, canonicalRuntimeOptions(runtimeOptions), JSON.stringify(wanted)));
    return wanted.filter((s) => !present.has(s));
  }

  coverage(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Coverage {
    const wanted = unique(signatures);
    const missing = this.missing(deviceId, runtimeOptions, wanted).length;
    const present = wanted.length - missing;
    return { requested: wanted.length, present, missing, fraction: wanted.length === 0 ? 1 : present / wanted.length };
  }

  table(deviceId: string, runtimeOptions: string): LatencyEntry[] {
    return this.statements.table.all(deviceId, canonicalRuntimeOptions(runtimeOptions)).map((row) => ENTRY_ROW.fromRow(row));
  }

  ofDevice(deviceId: string): LatencyEntry[] {
    return this.statements.device.all(deviceId).map((row) => ENTRY_ROW.fromRow(row));
  }

  listTables(deviceId?: string): TableSummary[] {
    const sql = `SELECT device_id AS deviceId, runtime_options AS runtimeOptions, count(*) AS entries, max(measured_at) AS newestMeasuredAt
                 FROM latency_entries ${deviceId === undefined ? '' : 'WHERE device_id = ?'}
                 GROUP BY device_id, runtime_options ORDER BY device_id, runtime_options`;
    const statement = this.db.prepare<unknown[], TableSummary>(sql);
    return deviceId === undefined ? statement.all() : statement.all(deviceId);
  }

  stats(deviceId: string, runtimeOptions?: string): DeviceStats {
    const options = runtimeOptions === undefined ? undefined : canonicalRuntimeOptions(runtimeOptions);
    const where = options === undefined ? 'WHERE device_id = ?' : `WHERE ${WHERE_KEY}`;
    const params = options === undefined ? [deviceId] : [deviceId, options];
    const totals = this.db
      .prepare<unknown[], { total: number; flagged: number; oldest: string | null; newest: string | null }>(
        `SELECT count(*) AS total, coalesce(sum(flags <> ''), 0) AS flagged, min(measured_at) AS oldest, max(measured_at) AS newest
         FROM latency_entries ${where}`,
      )
      .get(...params) as { total: number; flagged: number; oldest: string | null; newest: string | null };
    const byOp: Record<string, number> = {};
    for (const row of this.db
      .prepare<unknown[], { op: string; n: number }>(`SELECT op, count(*) AS n FROM latency_entries ${where} GROUP BY op ORDER BY op`)
      .all(...params)) {
      byOp[row.op] = row.n;
    }
    const byRuntimeOptions = this.db
      .prepare<unknown[], { runtimeOptions: string; count: number }>(
        `SELECT runtime_options AS runtimeOptions, count(*) AS count FROM latency_entries ${where} GROUP BY runtime_options ORDER BY runtime_options`,
      )
      .all(...params);
    return { deviceId, total: totals.total, byOp, byRuntimeOptions, flagged: totals.flagged, oldestMeasuredAt: totals.oldest, newestMeasuredAt: totals.newest };
  }
}

/** Checks an entry's key and values (the values by the same schema an export file's entries pass). */
export function validateEntry(input: LatencyEntryInput): LatencyEntry {
  if (typeof input.deviceId !== 'string' || input.deviceId.trim() === '') throw new ValidationError('a latency entry has no device id');
  checkSignature(input.signature);
  const runtimeOptions = canonicalRuntimeOptions(input.runtimeOptions);
  const values: Record<string, unknown> = {};
  for (const field of ENTRY_VALUE_FIELDS) values[field] = input[field];
  values.measuredAt = toIso(input.measuredAt);
  values.modelSha256 = input.modelSha256 ?? null;
  values.flags = input.flags ?? [];
  const parsed = entryValuesSchema.safeParse(values);
  if (!parsed.success) {
    throw new ValidationError(`the latency entry for ${input.signature} is invalid`, describeIssues(parsed.error, (p) => p.map(String).join('.')));
  }
  return { ...parsed.data, deviceId: input.deviceId, signature: input.signature, runtimeOptions };
}

/** Whether two entries have the same key and values (compared in their stored form). */
export function sameEntry(a: LatencyEntry, b: LatencyEntry): boolean {
  return JSON.stringify(ENTRY_ROW.toRow(a)) === JSON.stringify(ENTRY_ROW.toRow(b));
}

export function toIso(time: string | Date | undefined): string {
  if (time === undefined) return new Date().toISOString();
  return time instanceof Date ? time.toISOString() : time;
}

export function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}
