import type Database from 'better-sqlite3';
import { median } from '../../core/stats.ts';
import { UserError, ValidationError } from '../../core/errors.ts';
import type { Workspace } from '../../core/store/workspace.ts';
import './latency-schema.ts';
import { canonicalFingerprint, describeIssues, entryValuesSchema, timestampSchema } from './latency-types.ts';
import type {
  DeviceRecord,
  EntryValues,
  LatencyEntry,
  LatencyEntryInput,
  ModelMeasurement,
  ModelMeasurementInput,
} from './latency-types.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';
import { upgradeSignature } from '../../core/arch/signature.ts';
import { checkSignature, signatureOp } from './signature.ts';
import { LUT_FORMAT, LUT_VERSION, lutToCsv, parseLutJson, parseLutText } from './lut-format.ts';
import type { LutEntry, LutFile } from './lut-format.ts';

export type { DeviceRecord, LatencyEntry, LatencyEntryInput, ModelMeasurement, ModelMeasurementInput } from './latency-types.ts';

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

export interface OverheadEstimate {
  /** Median of (measured − predicted sum) over the whole-model measurements; 0 when there are none. */
  readonly overheadUs: number;
  readonly samples: number;
}

export interface ImportOptions {
  /** Replace existing entries whose values differ from the file's (default: keep the workspace's). */
  readonly overwrite?: boolean;
  /** Names the source in error messages (e.g. the file path). */
  readonly source?: string;
}

export interface ImportReport {
  readonly deviceId: string;
  /** True when the device was not in the workspace before. */
  readonly deviceCreated: boolean;
  readonly inserted: number;
  /** Already present with identical values. */
  readonly skipped: number;
  /** Present with different values: kept (or replaced, with `overwrite`). */
  readonly conflicts: number;
  readonly overwritten: number;
  /** Up to 20 conflicting signatures, for the message. */
  readonly conflictExamples: readonly string[];
  readonly modelMeasurementsInserted: number;
}

export interface PutEntriesOptions {
  /** Called after each entry is committed (for progress). */
  readonly onCommitted?: (entry: LatencyEntry, index: number) => void;
}

/** `putEntries` stopped at an entry; every entry before it is committed. */
export class PartialWriteError extends UserError {
  constructor(
    message: string,
    details: readonly string[],
    readonly saved: number,
    options?: { cause?: unknown },
  ) {
    super(message, details);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

interface EntryRow {
  device_id: string;
  runtime_options: string;
  signature: string;
  count: number;
  mean_us: number;
  median_us: number;
  std_us: number;
  min_us: number;
  max_us: number;
  measured_at: string;
  model_sha256: string | null;
  flags: string;
}

interface DeviceRow {
  id: string;
  fingerprint_json: string;
  label: string;
  first_seen: string;
  last_seen: string;
}

interface ModelRow {
  device_id: string;
  runtime_options: string;
  model_key: string;
  measured_us: number;
  predicted_sum_us: number;
  measured_at: string;
}

const ENTRY_COLUMNS =
  'device_id, runtime_options, signature, count, mean_us, median_us, std_us, min_us, max_us, measured_at, model_sha256, flags';

/**
 * Per-layer latency entries, keyed by (device fingerprint id, runtime options, layer signature), in the workspace.
 *
 * Writes of measurements are one transaction per entry: a measurement takes seconds on a phone, and a batch of
 * hundreds runs for many minutes. One transaction per entry means a crash, a disconnected phone or a bad value at
 * entry k keeps entries 1..k-1 (the next run measures only what `missingSignatures` reports), and other processes
 * (the UI, a search writing its runs) never wait behind a long-held write lock. With WAL and synchronous=NORMAL a
 * commit costs tens of microseconds, so nothing is gained by batching. Imports, in contrast, are all-or-nothing.
 */
export class LatencyStore {
  readonly workspace: Workspace;
  private readonly db: Database.Database;
  private readonly statements;

  constructor(workspace: Workspace) {
    workspace.migrate();
    this.workspace = workspace;
    this.db = workspace.db;
    const db = this.db;
    this.statements = {
      getDevice: db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?'),
      listDevices: db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY last_seen DESC, id'),
      insertDevice: db.prepare<[string, string, string, string, string]>(
        'INSERT INTO devices (id, fingerprint_json, label, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)',
      ),
      touchDevice: db.prepare<[string, string, string]>('UPDATE devices SET label = ?, last_seen = ? WHERE id = ?'),
      upsertEntry: db.prepare<[EntryRow & { op: string }]>(
        `INSERT INTO latency_entries (${ENTRY_COLUMNS}, op)
         VALUES (@device_id, @runtime_options, @signature, @count, @mean_us, @median_us, @std_us, @min_us, @max_us,
                 @measured_at, @model_sha256, @flags, @op)
         ON CONFLICT (device_id, runtime_options, signature) DO UPDATE SET
           count = excluded.count, mean_us = excluded.mean_us, median_us = excluded.median_us,
           std_us = excluded.std_us, min_us = excluded.min_us, max_us = excluded.max_us,
           measured_at = excluded.measured_at, model_sha256 = excluded.model_sha256, flags = excluded.flags`,
      ),
      getEntry: db.prepare<[string, string, string], EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM latency_entries WHERE device_id = ? AND runtime_options = ? AND signature = ?`,
      ),
      // json_each turns one JSON array parameter into a table: one prepared statement serves any number of
      // signatures, and each is a primary-key lookup.
      getEntriesIn: db.prepare<[string, string, string], EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM latency_entries
         WHERE device_id = ? AND runtime_options = ? AND signature IN (SELECT value FROM json_each(?))`,
      ),
      presentIn: db
        .prepare<[string, string, string], string>(
          `SELECT signature FROM latency_entries
           WHERE device_id = ? AND runtime_options = ? AND signature IN (SELECT value FROM json_each(?))`,
        )
        .pluck(),
      tableEntries: db.prepare<[string, string], EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM latency_entries WHERE device_id = ? AND runtime_options = ? ORDER BY signature`,
      ),
      deviceEntries: db.prepare<[string], EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM latency_entries WHERE device_id = ? ORDER BY runtime_options, signature`,
      ),
      insertModel: db.prepare<[ModelRow]>(
        `INSERT OR IGNORE INTO model_measurements (device_id, runtime_options, model_key, measured_us, predicted_sum_us, measured_at)
         VALUES (@device_id, @runtime_options, @model_key, @measured_us, @predicted_sum_us, @measured_at)`,
      ),
      tableModels: db.prepare<[string, string], ModelRow>(
        `SELECT device_id, runtime_options, model_key, measured_us, predicted_sum_us, measured_at FROM model_measurements
         WHERE device_id = ? AND runtime_options = ? ORDER BY measured_at, model_key`,
      ),
      deviceModels: db.prepare<[string], ModelRow>(
        `SELECT device_id, runtime_options, model_key, measured_us, predicted_sum_us, measured_at FROM model_measurements
         WHERE device_id = ? ORDER BY runtime_options, measured_at, model_key`,
      ),
    };
  }

  // ---- devices -------------------------------------------------------------------------------------------------

  /**
   * Records a device (or refreshes its label and last-seen time). The fingerprint is stored as canonical JSON; an
   * id that is already stored with a DIFFERENT fingerprint is refused, because its entries would then describe
   * another device.
   */
  upsertDevice(id: string, fingerprintJson: string | Readonly<Record<string, unknown>>, label: string, seenAt: Date = new Date()): DeviceRecord {
    if (id.trim() === '') throw new ValidationError('a device id is empty');
    const fingerprint = canonicalFingerprint(fingerprintJson);
    const now = seenAt.toISOString();
    this.db
      .transaction(() => {
        const existing = this.statements.getDevice.get(id);
        if (!existing) {
          this.statements.insertDevice.run(id, fingerprint, label, now, now);
          return;
        }
        if (existing.fingerprint_json !== fingerprint) throw fingerprintMismatch(id, existing.fingerprint_json, fingerprint, 'the new fingerprint');
        this.statements.touchDevice.run(label, now, id);
      })
      .immediate();
    return this.getDevice(id) as DeviceRecord;
  }

  getDevice(id: string): DeviceRecord | undefined {
    const row = this.statements.getDevice.get(id);
    return row ? deviceFromRow(row) : undefined;
  }

  listDevices(): DeviceRecord[] {
    return this.statements.listDevices.all().map(deviceFromRow);
  }

  // ---- entries -------------------------------------------------------------------------------------------------

  /** Validates and commits one entry in its own transaction (replacing an older measurement of the same key). */
  putEntry(input: LatencyEntryInput): LatencyEntry {
    const entry = validateEntry(input);
    this.db
      .transaction(() => {
        if (!this.statements.getDevice.get(entry.deviceId)) {
          throw new UserError(`device ${entry.deviceId} is not in this workspace; record it (upsertDevice) before its entries`);
        }
        this.statements.upsertEntry.run({ ...entryToRow(entry), op: signatureOp(entry.signature) });
      })
      .immediate();
    return entry;
  }

  /**
   * Commits each entry in its own transaction (see the class comment for why not one transaction for the batch).
   * On a failure, the entries before it stay committed and a PartialWriteError says how many.
   */
  putEntries(entries: Iterable<LatencyEntryInput>, options: PutEntriesOptions = {}): number {
    const list = [...entries];
    let saved = 0;
    for (const input of list) {
      try {
        const entry = this.putEntry(input);
        saved++;
        options.onCommitted?.(entry, saved - 1);
      } catch (error) {
        const cause = error instanceof Error ? error.message : String(error);
        throw new PartialWriteError(
          `entry ${saved + 1}/${list.length} (${input.signature}) could not be saved: ${cause}; ` +
            `the ${saved} entr${saved === 1 ? 'y' : 'ies'} before it ${saved === 1 ? 'is' : 'are'} saved`,
          error instanceof UserError ? error.details : [],
          saved,
          { cause: error },
        );
      }
    }
    return saved;
  }

  getEntry(deviceId: string, runtimeOptions: string, signature: string): LatencyEntry | undefined {
    const row = this.statements.getEntry.get(deviceId, canonicalRuntimeOptions(runtimeOptions), signature);
    return row ? entryFromRow(row) : undefined;
  }

  /** Entries present for these signatures (absent ones are simply not in the map). */
  getEntries(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Map<string, LatencyEntry> {
    const rows = this.statements.getEntriesIn.all(deviceId, canonicalRuntimeOptions(runtimeOptions), JSON.stringify(unique(signatures)));
    return new Map(rows.map((row) => [row.signature, entryFromRow(row)]));
  }

  /** Distinct signatures (in first-seen order) that have no entry for this device and options. */
  missingSignatures(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): string[] {
    const wanted = unique(signatures);
    const present = new Set(this.statements.presentIn.all(deviceId, canonicalRuntimeOptions(runtimeOptions), JSON.stringify(wanted)));
    return wanted.filter((s) => !present.has(s));
  }

  coverage(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Coverage {
    const wanted = unique(signatures);
    const missing = this.missingSignatures(deviceId, runtimeOptions, wanted).length;
    const present = wanted.length - missing;
    return { requested: wanted.length, present, missing, fraction: wanted.length === 0 ? 1 : present / wanted.length };
  }

  /** Every entry of one table (device + options), ordered by signature. */
  tableEntries(deviceId: string, runtimeOptions: string): LatencyEntry[] {
    return this.statements.tableEntries.all(deviceId, canonicalRuntimeOptions(runtimeOptions)).map(entryFromRow);
  }

  /** The tables (runtime options) a device has, with their entry counts. */
  listTables(deviceId?: string): { deviceId: string; runtimeOptions: string; entries: number; newestMeasuredAt: string }[] {
    const sql = `SELECT device_id AS deviceId, runtime_options AS runtimeOptions, count(*) AS entries,
                        max(measured_at) AS newestMeasuredAt
                 FROM latency_entries ${deviceId === undefined ? '' : 'WHERE device_id = ?'}
                 GROUP BY device_id, runtime_options ORDER BY device_id, runtime_options`;
    const statement = this.db.prepare<unknown[], { deviceId: string; runtimeOptions: string; entries: number; newestMeasuredAt: string }>(sql);
    return deviceId === undefined ? statement.all() : statement.all(deviceId);
  }

  stats(deviceId: string, runtimeOptions?: string): DeviceStats {
    const options = runtimeOptions === undefined ? undefined : canonicalRuntimeOptions(runtimeOptions);
    const where = options === undefined ? 'WHERE device_id = ?' : 'WHERE device_id = ? AND runtime_options = ?';
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
        `SELECT runtime_options AS runtimeOptions, count(*) AS count FROM latency_entries ${where}
         GROUP BY runtime_options ORDER BY runtime_options`,
      )
      .all(...params);
    return {
      deviceId,
      total: totals.total,
      byOp,
      byRuntimeOptions,
      flagged: totals.flagged,
      oldestMeasuredAt: totals.oldest,
      newestMeasuredAt: totals.newest,
    };
  }

  // ---- whole-model measurements and the per-model overhead ---------------------------------------------------

  /** Records one whole-model measurement (a repeat of the same model key and time is ignored). */
  putModelMeasurement(input: ModelMeasurementInput): ModelMeasurement {
    const measurement = validateModelMeasurement(input);
    this.db
      .transaction(() => {
        if (!this.statements.getDevice.get(measurement.deviceId)) {
          throw new UserError(`device ${measurement.deviceId} is not in this workspace; record it before its measurements`);
        }
        this.statements.insertModel.run(modelToRow(measurement));
      })
      .immediate();
    return measurement;
  }

  modelMeasurements(deviceId: string, runtimeOptions: string): ModelMeasurement[] {
    return this.statements.tableModels.all(deviceId, canonicalRuntimeOptions(runtimeOptions)).map(modelFromRow);
  }

  /**
   * The constant per-model overhead (interpreter setup, input/output copies, ... that no single layer carries):
   * the MEDIAN of (measured − predicted sum) over the whole-model measurements of this table. A median, not a
   * least-squares intercept, because one disturbed measurement (thermal throttling, a background app) must not
   * move it, and because the slope of measured against predicted is ~1 by construction. The predicted sum is the
   * one recorded at measurement time. It may be negative (layer-by-layer timing can over-count). 0 when there are
   * no whole-model measurements.
   */
  overheadEstimate(deviceId: string, runtimeOptions: string): OverheadEstimate {
    const residuals = this.modelMeasurements(deviceId, runtimeOptions).map((m) => m.measuredUs - m.predictedSumUs);
    return { overheadUs: residuals.length === 0 ? 0 : median(residuals), samples: residuals.length };
  }

  overheadUs(deviceId: string, runtimeOptions: string): number {
    return this.overheadEstimate(deviceId, runtimeOptions).overheadUs;
  }

  // ---- export / import -----------------------------------------------------------------------------------------

  /** One device's table(s) as a shareable file object; all runtime options unless `runtimeOptions` is given. */
  exportTable(deviceId: string, runtimeOptions?: string): LutFile {
    const device = this.getDevice(deviceId);
    if (!device) throw new UserError(`no device ${deviceId} in this workspace`, this.knownDevicesHint());
    const options = runtimeOptions === undefined ? undefined : canonicalRuntimeOptions(runtimeOptions);
    const rows = options === undefined ? this.statements.deviceEntries.all(deviceId) : this.statements.tableEntries.all(deviceId, options);
    const models = options === undefined ? this.statements.deviceModels.all(deviceId) : this.statements.tableModels.all(deviceId, options);
    return {
      format: LUT_FORMAT,
      version: LUT_VERSION,
      device: { id: device.id, fingerprint: device.fingerprint, label: device.label },
      entries: rows.map((row) => {
        const e = entryFromRow(row);
        return {
          signature: e.signature,
          runtimeOptions: e.runtimeOptions,
          count: e.count,
          meanUs: e.meanUs,
          medianUs: e.medianUs,
          stdUs: e.stdUs,
          minUs: e.minUs,
          maxUs: e.maxUs,
          measuredAt: e.measuredAt,
          modelSha256: e.modelSha256,
          flags: [...e.flags],
        };
      }),
      modelMeasurements: models.map((row) => {
        const m = modelFromRow(row);
        return {
          runtimeOptions: m.runtimeOptions,
          modelKey: m.modelKey,
          measuredUs: m.measuredUs,
          predictedSumUs: m.predictedSumUs,
          measuredAt: m.measuredAt,
        };
      }),
    };
  }

  /** The same as `exportTable`, as CSV text (entries only; see lut-format.ts). */
  exportTableCsv(deviceId: string, runtimeOptions?: string): string {
    return lutToCsv(this.exportTable(deviceId, runtimeOptions));
  }

  /**
   * Imports a table from JSON or CSV text (or an already parsed JSON object), in ONE transaction: a file with any
   * invalid value imports nothing. The device comes from the file: created if new; if the workspace already has
   * that id with a different fingerprint, the import is refused rather than mixing two devices' latencies.
   */
  importTable(input: string | object, options: ImportOptions = {}): ImportReport {
    const source = options.source ?? 'the imported table';
    const file = typeof input === 'string' ? parseLutText(input, source) : parseLutJson(input, source);
    const fingerprint = canonicalFingerprint(file.device.fingerprint);
    const now = new Date().toISOString();
    return this.db
      .transaction((): ImportReport => {
        const existingDevice = this.statements.getDevice.get(file.device.id);
        if (existingDevice && existingDevice.fingerprint_json !== fingerprint) {
          throw fingerprintMismatch(file.device.id, existingDevice.fingerprint_json, fingerprint, `${source}'s fingerprint`);
        }
        if (!existingDevice) this.statements.insertDevice.run(file.device.id, fingerprint, file.device.label, now, now);
        let inserted = 0;
        let skipped = 0;
        let conflicts = 0;
        let overwritten = 0;
        const conflictExamples: string[] = [];
        for (const e of file.entries) {
          // A table exported before a signature version change: entries that still mean the same get today's key.
          const entry = lutEntryToEntry(file.device.id, { ...e, signature: upgradeSignature(e.signature) });
          const existingRow = this.statements.getEntry.get(entry.deviceId, entry.runtimeOptions, entry.signature);
          if (existingRow) {
            if (sameEntry(entryFromRow(existingRow), entry)) {
              skipped++;
              continue;
            }
            conflicts++;
            if (conflictExamples.length < 20) conflictExamples.push(entry.signature);
            if (!options.overwrite) continue;
            overwritten++;
          } else {
            inserted++;
          }
          this.statements.upsertEntry.run({ ...entryToRow(entry), op: signatureOp(entry.signature) });
        }
        let modelMeasurementsInserted = 0;
        for (const m of file.modelMeasurements) {
          modelMeasurementsInserted += this.statements.insertModel.run(modelToRow({ ...m, deviceId: file.device.id })).changes;
        }
        return {
          deviceId: file.device.id,
          deviceCreated: !existingDevice,
          inserted,
          skipped,
          conflicts,
          overwritten,
          conflictExamples,
          modelMeasurementsInserted,
        };
      })
      .immediate();
  }

  private knownDevicesHint(): string[] {
    const devices = this.listDevices();
    return devices.length === 0 ? ['this workspace has no devices yet'] : devices.map((d) => `known device: ${d.id} (${d.label})`);
  }
}

// ---- validation and row mapping ----------------------------------------------------------------------------------

function validateEntry(input: LatencyEntryInput): LatencyEntry {
  if (typeof input.deviceId !== 'string' || input.deviceId.trim() === '') throw new ValidationError('a latency entry has no device id');
  checkSignature(input.signature);
  const runtimeOptions = canonicalRuntimeOptions(input.runtimeOptions);
  const parsed = entryValuesSchema.safeParse({
    count: input.count,
    meanUs: input.meanUs,
    medianUs: input.medianUs,
    stdUs: input.stdUs,
    minUs: input.minUs,
    maxUs: input.maxUs,
    measuredAt: toIso(input.measuredAt),
    modelSha256: input.modelSha256 ?? null,
    flags: input.flags ?? [],
  });
  if (!parsed.success) {
    throw new ValidationError(
      `the latency entry for ${input.signature} is invalid`,
      describeIssues(parsed.error, (p) => p.map(String).join('.')),
    );
  }
  return { ...parsed.data, deviceId: input.deviceId, signature: input.signature, runtimeOptions };
}

function validateModelMeasurement(input: ModelMeasurementInput): ModelMeasurement {
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

function toIso(time: string | Date | undefined): string {
  if (time === undefined) return new Date().toISOString();
  return time instanceof Date ? time.toISOString() : time;
}

function lutEntryToEntry(deviceId: string, e: LutEntry): LatencyEntry {
  return { ...e, deviceId };
}

function entryToRow(e: LatencyEntry): EntryRow {
  return {
    device_id: e.deviceId,
    runtime_options: e.runtimeOptions,
    signature: e.signature,
    count: e.count,
    mean_us: e.meanUs,
    median_us: e.medianUs,
    std_us: e.stdUs,
    min_us: e.minUs,
    max_us: e.maxUs,
    measured_at: e.measuredAt,
    model_sha256: e.modelSha256,
    flags: e.flags.join(','),
  };
}

function entryFromRow(row: EntryRow): LatencyEntry {
  return {
    deviceId: row.device_id,
    runtimeOptions: row.runtime_options,
    signature: row.signature,
    count: row.count,
    meanUs: row.mean_us,
    medianUs: row.median_us,
    stdUs: row.std_us,
    minUs: row.min_us,
    maxUs: row.max_us,
    measuredAt: row.measured_at,
    modelSha256: row.model_sha256,
    flags: row.flags === '' ? [] : row.flags.split(','),
  };
}

function sameEntry(a: LatencyEntry, b: LatencyEntry): boolean {
  const values = (e: LatencyEntry): EntryValues & { runtimeOptions: string; signature: string } => ({
    signature: e.signature,
    runtimeOptions: e.runtimeOptions,
    count: e.count,
    meanUs: e.meanUs,
    medianUs: e.medianUs,
    stdUs: e.stdUs,
    minUs: e.minUs,
    maxUs: e.maxUs,
    measuredAt: e.measuredAt,
    modelSha256: e.modelSha256,
    flags: [...e.flags],
  });
  return JSON.stringify(values(a)) === JSON.stringify(values(b));
}

function modelToRow(m: ModelMeasurement): ModelRow {
  return {
    device_id: m.deviceId,
    runtime_options: m.runtimeOptions,
    model_key: m.modelKey,
    measured_us: m.measuredUs,
    predicted_sum_us: m.predictedSumUs,
    measured_at: m.measuredAt,
  };
}

function modelFromRow(row: ModelRow): ModelMeasurement {
  return {
    deviceId: row.device_id,
    runtimeOptions: row.runtime_options,
    modelKey: row.model_key,
    measuredUs: row.measured_us,
    predictedSumUs: row.predicted_sum_us,
    measuredAt: row.measured_at,
  };
}

function deviceFromRow(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    fingerprint: JSON.parse(row.fingerprint_json) as Record<string, unknown>,
    fingerprintJson: row.fingerprint_json,
    label: row.label,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}

function fingerprintMismatch(id: string, stored: string, incoming: string, incomingName: string): UserError {
  const a = JSON.parse(stored) as Record<string, unknown>;
  const b = JSON.parse(incoming) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return new UserError(
    `device ${id} is stored in this workspace with a different fingerprint than ${incomingName}; ` +
      'refusing to mix latencies of two different devices under one id',
    keys.slice(0, 10).map((k) => `${k}: workspace ${JSON.stringify(a[k])}, other ${JSON.stringify(b[k])}`),
  );
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

