/**
 * Export of a device's tables to a shareable file object, and import of such a file (JSON or CSV) in ONE
 * transaction: a file with any invalid or implausible value imports nothing.
 */
import type Database from 'better-sqlite3';
import { UserError, ValidationError } from '../../core/errors.ts';
import type { DeviceRepository } from './device-repository.ts';
import type { EntryRepository } from './entry-repository.ts';
import { sameEntry } from './entry-repository.ts';
import type { LatencyEntry } from './latency-types.ts';
import { canonicalFingerprint } from './latency-types.ts';
import { LUT_FORMAT, LUT_VERSION, parseLutJson, parseLutText } from './lut-format.ts';
import type { LutEntry, LutFile } from './lut-format.ts';
import type { ModelMeasurementRepository } from './model-repository.ts';
import { implausibleLatency } from './plausibility.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';

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
  /** Entries of an older signature version whose layer changed meaning (left out: nothing would look them up). */
  readonly obsolete: number;
}

export interface LutRepositories {
  readonly devices: DeviceRepository;
  readonly entries: EntryRepository;
  readonly models: ModelMeasurementRepository;
}

export function exportTable(repositories: LutRepositories, deviceId: string, runtimeOptions?: string): LutFile {
  const device = repositories.devices.get(deviceId);
  if (!device) throw new UserError(`no device ${deviceId} in this workspace`, repositories.devices.knownDevicesHint());
  const options = runtimeOptions === undefined ? undefined : canonicalRuntimeOptions(runtimeOptions);
  const entries = options === undefined ? repositories.entries.ofDevice(deviceId) : repositories.entries.table(deviceId, options);
  const models = options === undefined ? repositories.models.ofDevice(deviceId) : repositories.models.table(deviceId, options);
  return {
    format: LUT_FORMAT,
    version: LUT_VERSION,
    device: { id: device.id, fingerprint: device.fingerprint, label: device.label },
    entries: entries.map(toLutEntry),
    modelMeasurements: models.map(({ deviceId: _deviceId, ...measurement }) => measurement),
  };
}

export function importTable(db: Database.Database, repositories: LutRepositories, input: string | object, options: ImportOptions = {}): ImportReport {
  const source = options.source ?? 'the imported table';
  const file = typeof input === 'string' ? parseLutText(input, source) : parseLutJson(input, source);
  const fingerprintJson = canonicalFingerprint(file.device.fingerprint);
  const now = new Date().toISOString();
  return db
    .transaction((): ImportReport => {
      const existingDevice = repositories.devices.get(file.device.id);
      if (existingDevice) repositories.devices.requireSameFingerprint(existingDevice, fingerprintJson, `${source}'s fingerprint`);
      else repositories.devices.insert({ id: file.device.id, fingerprintJson, label: file.device.label, firstSeen: now, lastSeen: now });
      let inserted = 0;
      let skipped = 0;
      let conflicts = 0;
      let overwritten = 0;
      const conflictExamples: string[] = [];
      const implausible: string[] = [];
      file.entries.forEach((e, index) => {
        const entry: LatencyEntry = { ...e, deviceId: file.device.id };
        const existing = repositories.entries.get(entry.deviceId, entry.runtimeOptions, entry.signature);
        const problem = existing ? implausibleLatency(entry.signature, entry.meanUs, existing.meanUs) : undefined;
        if (problem) {
          implausible.push(`${file.rowNames[index] ?? `entry ${index + 1}`} (signature ${entry.signature}): ${problem}`);
          return;
        }
        if (existing) {
          if (sameEntry(existing, entry)) {
            skipped++;
            return;
          }
          conflicts++;
          if (conflictExamples.length < 20) conflictExamples.push(entry.signature);
          if (!options.overwrite) return;
          overwritten++;
        } else inserted++;
        repositories.entries.write(entry);
      });
      if (implausible.length > 0) {
        // Throwing rolls the whole import back.
        throw new ValidationError(
          `${source} has ${implausible.length} entr${implausible.length === 1 ? 'y' : 'ies'} with implausible units; nothing was imported`,
          implausible.slice(0, 20),
        );
      }
      let modelMeasurementsInserted = 0;
      for (const m of file.modelMeasurements) modelMeasurementsInserted += repositories.models.write({ ...m, deviceId: file.device.id });
      return { deviceId: file.device.id, deviceCreated: !existingDevice, inserted, skipped, conflicts, overwritten, conflictExamples, modelMeasurementsInserted, obsolete: file.obsolete.length };
    })
    .immediate();
}

function toLutEntry({ deviceId: _deviceId, ...entry }: LatencyEntry): LutEntry {
  return { ...entry, flags: [...entry.flags] };
}
