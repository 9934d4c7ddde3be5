/** The devices of the workspace: one row per fingerprint id, with its canonical fingerprint. */
import type Database from 'better-sqlite3';
import { UserError, ValidationError } from '../../core/errors.ts';
import { canonicalFingerprint } from './latency-types.ts';
import type { DeviceRecord } from './latency-types.ts';
import { DEVICE_ROW, deviceFromRow } from './rows.ts';

export class DeviceRepository {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      get: db.prepare<[string], Record<string, unknown>>(`SELECT ${DEVICE_ROW.columnList} FROM devices WHERE id = ?`),
      list: db.prepare<[], Record<string, unknown>>(`SELECT ${DEVICE_ROW.columnList} FROM devices ORDER BY last_seen DESC, id`),
      insert: db.prepare(`INSERT INTO devices (${DEVICE_ROW.columnList}) VALUES (${DEVICE_ROW.parameterList})`),
      touch: db.prepare<[string, string, string]>('UPDATE devices SET label = ?, last_seen = ? WHERE id = ?'),
    };
  }

  /**
   * Records a device (or refreshes its label and last-seen time). An id that is already stored with a DIFFERENT
   * fingerprint is refused, because its entries would then describe another device.
   */
  upsert(id: string, fingerprint: string | Readonly<Record<string, unknown>>, label: string, seenAt: Date = new Date()): DeviceRecord {
    if (id.trim() === '') throw new ValidationError('a device id is empty');
    const fingerprintJson = canonicalFingerprint(fingerprint);
    const now = seenAt.toISOString();
    this.db
      .transaction(() => {
        const existing = this.get(id);
        if (!existing) this.insert({ id, fingerprintJson, label, firstSeen: now, lastSeen: now });
        else {
          this.requireSameFingerprint(existing, fingerprintJson, 'the new fingerprint');
          this.statements.touch.run(label, now, id);
        }
      })
      .immediate();
    return this.get(id) as DeviceRecord;
  }

  /** Inserts a new device (inside the caller's transaction). */
  insert(record: Omit<DeviceRecord, 'fingerprint'>): void {
    this.statements.insert.run(DEVICE_ROW.toRow({ ...record, fingerprint: {} }));
  }

  get(id: string): DeviceRecord | undefined {
    const row = this.statements.get.get(id);
    return row ? deviceFromRow(row) : undefined;
  }

  list(): DeviceRecord[] {
    return this.statements.list.all().map(deviceFromRow);
  }

  /** Throws unless the device is stored (entries and measurements reference it). */
  require(id: string, what: string): void {
    if (!this.statements.get.get(id)) throw new UserError(`device ${id} is not in this workspace; record it (upsertDevice) before its ${what}`);
  }

  requireSameFingerprint(existing: DeviceRecord, incomingJson: string, incomingName: string): void {
    if (existing.fingerprintJson === incomingJson) return;
    const a = existing.fingerprint;
    const b = JSON.parse(incomingJson) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    throw new UserError(
      `device ${existing.id} is stored in this workspace with a different fingerprint than ${incomingName}; ` +
        'refusing to mix latencies of two different devices under one id',
      keys.slice(0, 10).map((k) => `${k}: workspace ${JSON.stringify(a[k])}, other ${JSON.stringify(b[k])}`),
    );
  }

  knownDevicesHint(): string[] {
    const devices = this.list();
    return devices.length === 0 ? ['this workspace has no devices yet'] : devices.map((d) => `known device: ${d.id} (${d.label})`);
  }
}
