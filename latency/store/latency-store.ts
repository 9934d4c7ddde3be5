/**
 * The latency tables of a workspace, behind one facade over small repositories: devices, entries, whole-model
 * measurements, failed entries and batch conditions, and the LUT exchange (export / import). The row mapping of
 * every record is in rows.ts.
 *
 * Writes of measurements are one transaction per entry: a measurement takes seconds on a phone, and a batch of
 * hundreds runs for many minutes. One transaction per entry means a crash, a disconnected phone or a bad value at
 * entry k keeps entries 1..k-1 (the next run measures only what `missingSignatures` reports), and other processes
 * (the UI, a search writing its runs) never wait behind a long-held write lock. With WAL and synchronous=NORMAL a
 * commit costs tens of microseconds, so nothing is gained by batching. Imports, in contrast, are all-or-nothing.
 */
import type Database from 'better-sqlite3';
import { UserError } from '../../core/errors.ts';
import type { Workspace } from '../../core/store/workspace.ts';
import './latency-schema.ts';
import { DeviceRepository } from './device-repository.ts';
import { EntryRepository, validateEntry } from './entry-repository.ts';
import type { Coverage, DeviceStats, TableSummary } from './entry-repository.ts';
import { FailureRepository } from './failure-repository.ts';
import type {
  BatchConditions,
  BatchConditionsInput,
  DeviceRecord,
  EntryFailure,
  EntryFailureInput,
  LatencyEntry,
  LatencyEntryInput,
  ModelMeasurement,
  ModelMeasurementInput,
} from './latency-types.ts';
import { exportTable, importTable } from './lut-exchange.ts';
import type { ImportOptions, ImportReport, LutRepositories } from './lut-exchange.ts';
import { lutToCsv } from './lut-format.ts';
import type { LutFile } from './lut-format.ts';
import { ModelMeasurementRepository, validateModelMeasurement } from './model-repository.ts';
import type { OverheadEstimate } from './model-repository.ts';

export type {
  BatchConditions,
  BatchConditionsInput,
  DeviceRecord,
  EntryFailure,
  EntryFailureInput,
  LatencyEntry,
  LatencyEntryInput,
  ModelMeasurement,
  ModelMeasurementInput,
} from './latency-types.ts';
export type { Coverage, DeviceStats, TableSummary } from './entry-repository.ts';
export type { OverheadEstimate } from './model-repository.ts';
export type { ImportOptions, ImportReport } from './lut-exchange.ts';

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

export class LatencyStore {
  readonly workspace: Workspace;
  private readonly db: Database.Database;
  private readonly devices: DeviceRepository;
  private readonly entries: EntryRepository;
  private readonly models: ModelMeasurementRepository;
  private readonly failures: FailureRepository;

  constructor(workspace: Workspace) {
    workspace.migrate();
    this.workspace = workspace;
    this.db = workspace.db;
    this.devices = new DeviceRepository(this.db);
    this.entries = new EntryRepository(this.db);
    this.models = new ModelMeasurementRepository(this.db);
    this.failures = new FailureRepository(this.db);
  }

  // ---- devices -------------------------------------------------------------------------------------------------

  /** Records a device (or refreshes its label and last-seen time); a known id with another fingerprint is refused. */
  upsertDevice(id: string, fingerprint: string | Readonly<Record<string, unknown>>, label: string, seenAt: Date = new Date()): DeviceRecord {
    return this.devices.upsert(id, fingerprint, label, seenAt);
  }

  getDevice(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }

  listDevices(): DeviceRecord[] {
    return this.devices.list();
  }

  // ---- entries -------------------------------------------------------------------------------------------------

  /**
   * Validates and commits one entry in its own transaction (replacing an older measurement of the same key); a
   * failure recorded for the same key is removed with it.
   */
  putEntry(input: LatencyEntryInput): LatencyEntry {
    const entry = validateEntry(input);
    this.db
      .transaction(() => {
        this.devices.require(entry.deviceId, 'entries');
        this.entries.write(entry);
        this.failures.remove(entry.deviceId, entry.runtimeOptions, entry.signature);
      })
      .immediate();
    return entry;
  }

  /**
   * Commits each entry in its own transaction (see the module comment for why not one transaction for the batch).
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
    return this.entries.get(deviceId, runtimeOptions, signature);
  }

  /** Entries present for these signatures (absent ones are simply not in the map). */
  getEntries(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Map<string, LatencyEntry> {
    return this.entries.getMany(deviceId, runtimeOptions, signatures);
  }

  /** Distinct signatures (in first-seen order) that have no entry for this device and options. */
  missingSignatures(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): string[] {
    return this.entries.missing(deviceId, runtimeOptions, signatures);
  }

  coverage(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Coverage {
    return this.entries.coverage(deviceId, runtimeOptions, signatures);
  }

  /** Every entry of one table (device + options), ordered by signature. */
  tableEntries(deviceId: string, runtimeOptions: string): LatencyEntry[] {
    return this.entries.table(deviceId, runtimeOptions);
  }

  /** The tables (runtime options) a device has, with their entry counts. */
  listTables(deviceId?: string): TableSummary[] {
    return this.entries.listTables(deviceId);
  }

  stats(deviceId: string, runtimeOptions?: string): DeviceStats {
    return this.entries.stats(deviceId, runtimeOptions);
  }

  // ---- failed entries and batch conditions ---------------------------------------------------------------------

  /** Records that an entry could not be measured (its own transaction); a repeated failure counts an attempt. */
  recordFailure(input: EntryFailureInput): void {
    this.db
      .transaction(() => {
        this.devices.require(input.deviceId, 'failures');
        this.failures.write(input);
      })
      .immediate();
  }

  /** The failed entries of one table, ordered by signature. */
  tableFailures(deviceId: string, runtimeOptions: string): EntryFailure[] {
    return this.failures.table(deviceId, runtimeOptions);
  }

  /** Which of these signatures have a recorded failure (and no entry). */
  failedSignatures(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Set<string> {
    return this.failures.failedAmong(deviceId, runtimeOptions, signatures);
  }

  recordBatchConditions(input: BatchConditionsInput): BatchConditions {
    return this.db
      .transaction(() => {
        this.devices.require(input.deviceId, 'batch conditions');
        return this.failures.writeConditions(input);
      })
      .immediate();
  }

  batchConditions(deviceId: string, runtimeOptions: string): BatchConditions[] {
    return this.failures.conditions(deviceId, runtimeOptions);
  }

  // ---- whole-model measurements and the per-model overhead ---------------------------------------------------

  /** Records one whole-model measurement (a repeat of the same model key and time is ignored). */
  putModelMeasurement(input: ModelMeasurementInput): ModelMeasurement {
    const measurement = validateModelMeasurement(input);
    this.db
      .transaction(() => {
        this.devices.require(measurement.deviceId, 'whole-model measurements');
        this.models.write(measurement);
      })
      .immediate();
    return measurement;
  }

  modelMeasurements(deviceId: string, runtimeOptions: string): ModelMeasurement[] {
    return this.models.table(deviceId, runtimeOptions);
  }

  overheadEstimate(deviceId: string, runtimeOptions: string): OverheadEstimate {
    return this.models.overheadEstimate(deviceId, runtimeOptions);
  }

  overheadUs(deviceId: string, runtimeOptions: string): number {
    return this.overheadEstimate(deviceId, runtimeOptions).overheadUs;
  }

  // ---- export / import -----------------------------------------------------------------------------------------

  /** One device's table(s) as a shareable file object; all runtime options unless `runtimeOptions` is given. */
  exportTable(deviceId: string, runtimeOptions?: string): LutFile {
    return exportTable(this.repositories(), deviceId, runtimeOptions);
  }

  /** The same as `exportTable`, as CSV text (entries only; see lut-format.ts). */
  exportTableCsv(deviceId: string, runtimeOptions?: string): string {
    return lutToCsv(this.exportTable(deviceId, runtimeOptions));
  }

  /**
   * Imports a table from JSON or CSV text (or an already parsed JSON object), all or nothing. The device comes from
   * the file: created if new; a known id with a different fingerprint is refused. Unknown or malformed signatures
   * and latencies in the wrong unit are refused, naming the row.
   */
  importTable(input: string | object, options: ImportOptions = {}): ImportReport {
    return importTable(this.db, this.repositories(), input, options);
  }

  private repositories(): LutRepositories {
    return { devices: this.devices, entries: this.entries, models: this.models };
  }
}
