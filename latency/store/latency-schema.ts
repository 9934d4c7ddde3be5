import { upgradeSignature } from '../../core/arch/signature.ts';
import { registerMigration } from '../../core/store/migrations.ts';
import type { Migration } from '../../core/store/migrations.ts';

/**
 * Tables of the latency lookup tables (namespace `latency`). Importing this module registers the migrations;
 * `LatencyStore` imports it, and calls `workspace.migrate()` when it is created.
 *
 * - devices: one row per device fingerprint id (a phone, or 'host'); the fingerprint is canonical JSON.
 * - latency_entries: one row per (device, runtime options, layer signature); `op` is the signature's `op=` field,
 *   kept for statistics; `flags` is a sorted comma-separated list (e.g. 'high-std').
 * - model_measurements: whole-model latencies next to the sum the table predicted for the same model at the time,
 *   from which the constant per-model overhead is estimated.
 *
 * latency-002: layer signatures v1 → v2 (core/arch/signature.ts). Entries whose layer computes the same under v2 get
 * the v2 key (their measurement stands; model_sha256 stays the hash of the v1 model file, whose operators were the
 * same); v1 residual projections keep their v1 key, so they are never found again and those layers are measured anew.
 * Whole-model measurements stay: each pairs a measured model with the sum predicted for it at the time.
 */
export const LATENCY_MIGRATIONS: readonly Migration[] = [
  {
    id: 'latency-001',
    up(db) {
      db.exec(`
        CREATE TABLE devices (
          id TEXT PRIMARY KEY CHECK (length(id) > 0),
          fingerprint_json TEXT NOT NULL CHECK (json_valid(fingerprint_json)),
          label TEXT NOT NULL,
          first_seen TEXT NOT NULL,
          last_seen TEXT NOT NULL
        ) STRICT;

        CREATE TABLE latency_entries (
          device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
          runtime_options TEXT NOT NULL,
          signature TEXT NOT NULL,
          op TEXT NOT NULL,
          count INTEGER NOT NULL CHECK (count > 0),
          mean_us REAL NOT NULL CHECK (mean_us >= 0),
          median_us REAL NOT NULL CHECK (median_us >= 0),
          std_us REAL NOT NULL CHECK (std_us >= 0),
          min_us REAL NOT NULL CHECK (min_us >= 0),
          max_us REAL NOT NULL CHECK (max_us >= min_us),
          measured_at TEXT NOT NULL,
          model_sha256 TEXT,
          flags TEXT NOT NULL DEFAULT '',
          PRIMARY KEY (device_id, runtime_options, signature)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE model_measurements (
          id INTEGER PRIMARY KEY,
          device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
          runtime_options TEXT NOT NULL,
          model_key TEXT NOT NULL,
          measured_us REAL NOT NULL CHECK (measured_us >= 0),
          predicted_sum_us REAL NOT NULL CHECK (predicted_sum_us >= 0),
          measured_at TEXT NOT NULL,
          UNIQUE (device_id, runtime_options, model_key, measured_at)
        ) STRICT;
      `);
    },
  },
  {
    id: 'latency-002',
    up(db) {
      const rows = db
        .prepare(`SELECT device_id, runtime_options, signature FROM latency_entries WHERE signature LIKE 'v1;%'`)
        .all() as { device_id: string; runtime_options: string; signature: string }[];
      const rename = db.prepare(
        `UPDATE OR IGNORE latency_entries SET signature = ? WHERE device_id = ? AND runtime_options = ? AND signature = ?`,
      );
      for (const row of rows) {
        const upgraded = upgradeSignature(row.signature);
        if (upgraded !== row.signature) rename.run(upgraded, row.device_id, row.runtime_options, row.signature);
      }
    },
  },
];

for (const migration of LATENCY_MIGRATIONS) registerMigration(migration);

/**
 * latency-003: entries that failed to measure (skipped by later builds unless retried) and the clock / temperature
 * conditions of each measured batch (with the cool-downs and re-measurements they caused).
 */
registerMigration({
  id: 'latency-003',
  up(db) {
    db.exec(`
      CREATE TABLE latency_failures (
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        runtime_options TEXT NOT NULL,
        signature TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (length(reason) > 0),
        message TEXT NOT NULL,
        attempts INTEGER NOT NULL CHECK (attempts > 0),
        failed_at TEXT NOT NULL,
        PRIMARY KEY (device_id, runtime_options, signature)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE batch_conditions (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        runtime_options TEXT NOT NULL,
        serial TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        models INTEGER NOT NULL CHECK (models >= 0),
        attempt INTEGER NOT NULL CHECK (attempt > 0),
        verdict TEXT NOT NULL,
        reasons TEXT NOT NULL CHECK (json_valid(reasons)),
        before_json TEXT NOT NULL CHECK (json_valid(before_json)),
        after_json TEXT NOT NULL CHECK (json_valid(after_json)),
        cooldown_ms INTEGER NOT NULL CHECK (cooldown_ms >= 0)
      ) STRICT;
      CREATE INDEX batch_conditions_table ON batch_conditions (device_id, runtime_options, recorded_at);
    `);
  },
});
