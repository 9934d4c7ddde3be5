/**
 * Entries a device could not measure, and the clock/temperature record of every measured batch. A failure stays
 * until the entry is measured (then it is removed in the same transaction as the entry) or retried and failed
 * again (its attempt count grows).
 */
import type Database from 'better-sqlite3';
import { ValidationError } from '../../core/errors.ts';
import type { BatchConditions, BatchConditionsInput, EntryFailure, EntryFailureInput } from './latency-types.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';
import { CONDITIONS_ROW, FAILURE_ROW } from './rows.ts';
import type { SqlValue } from './rows.ts';
import { checkSignature } from './signature.ts';
import { toIso, unique } from './entry-repository.ts';

const MAX_MESSAGE_LENGTH = 2_000;

export class FailureRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      upsert: db.prepare<[Record<string, SqlValue>]>(
        `INSERT INTO latency_failures (${FAILURE_ROW.columnList}) VALUES (${FAILURE_ROW.parameterList})
         ON CONFLICT (device_id, runtime_options, signature) DO UPDATE SET
           reason = excluded.reason, message = excluded.message, failed_at = excluded.failed_at, attempts = attempts + 1`,
      ),
      remove: db.prepare<[string, string, string]>('DELETE FROM latency_failures WHERE device_id = ? AND runtime_options = ? AND signature = ?'),
      table: db.prepare<[string, string], Record<string, unknown>>(
        `SELECT ${FAILURE_ROW.columnList} FROM latency_failures WHERE device_id = ? AND runtime_options = ? ORDER BY signature`,
      ),
      failedIn: db
        .prepare<[string, string, string], string>(
          'SELECT signature FROM latency_failures WHERE device_id = ? AND runtime_options = ? AND signature IN (SELECT value FROM json_each(?))',
        )
        .pluck(),
      insertConditions: db.prepare<[Record<string, SqlValue>]>(`INSERT INTO batch_conditions (${CONDITIONS_ROW.columnList}) VALUES (${CONDITIONS_ROW.parameterList})`),
      conditions: db.prepare<[string, string], Record<string, unknown>>(
        `SELECT ${CONDITIONS_ROW.columnList} FROM batch_conditions WHERE device_id = ? AND runtime_options = ? ORDER BY recorded_at, id`,
      ),
    };
  }

  /** Records (or counts again) a failure, inside the caller's transaction. */
  write(input: EntryFailureInput): void {
    checkSignature(input.signature);
    if (input.reason.trim() === '') throw new ValidationError(`the failure of ${input.signature} has no reason`);
    const failure: EntryFailure = {
      deviceId: input.deviceId,
      runtimeOptions: canonicalRuntimeOptions(input.runtimeOptions),
      signature: input.signature,
      reason: input.reason,
      message: input.message.slice(0, MAX_MESSAGE_LENGTH),
      attempts: 1,
      failedAt: toIso(input.failedAt),
    };
    this.statements.upsert.run(FAILURE_ROW.toRow(failure));
  }

  remove(deviceId: string, runtimeOptions: string, signature: string): void {
    this.statements.remove.run(deviceId, canonicalRuntimeOptions(runtimeOptions), signature);
  }

  table(deviceId: string, runtimeOptions: string): EntryFailure[] {
    return this.statements.table.all(deviceId, canonicalRuntimeOptions(runtimeOptions)).map((row) => FAILURE_ROW.fromRow(row));
  }

  /** Which of these signatures have a recorded failure. */
  failedAmong(deviceId: string, runtimeOptions: string, signatures: Iterable<string>): Set<string> {
    return new Set(this.statements.failedIn.all(deviceId, canonicalRuntimeOptions(runtimeOptions), JSON.stringify(unique(signatures))));
  }

  writeConditions(input: BatchConditionsInput): BatchConditions {
    const record: BatchConditions = { ...input, runtimeOptions: canonicalRuntimeOptions(input.runtimeOptions), recordedAt: toIso(input.recordedAt) };
    this.statements.insertConditions.run(CONDITIONS_ROW.toRow(record));
    return record;
  }

  conditions(deviceId: string, runtimeOptions: string): BatchConditions[] {
    return this.statements.conditions.all(deviceId, canonicalRuntimeOptions(runtimeOptions)).map((row) => CONDITIONS_ROW.fromRow(row));
  }
}
