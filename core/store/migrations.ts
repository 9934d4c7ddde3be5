import type Database from 'better-sqlite3';

/**
 * Schema migrations of the workspace file. Each module that owns tables registers its migrations at import time:
 *
 *   registerMigration({ id: 'latency-001', up(db) { db.exec('CREATE TABLE ...') } });
 *
 * An id is `<namespace>-<NNN>` (e.g. `latency-001`, `search-runs-002`). Inside a namespace the numbers must be
 * registered in increasing order; migrations are applied in registration order (a migration may name others it
 * `requires`, e.g. a foreign key into another module's table). A migration is never edited once released: change
 * a schema by adding the next number.
 */
export interface Migration {
  readonly id: string;
  /** Runs inside the migration's own transaction; throw to roll it back. */
  up(db: Database.Database): void;
  /** Ids of migrations (usually of other namespaces) that must be applied first. */
  readonly requires?: readonly string[];
}

const MIGRATION_ID = /^([a-z][a-z0-9_]*(?:-[a-z][a-z0-9_]*)*)-(\d{3,})$/;

const registry: Migration[] = [];

export interface ParsedMigrationId {
  readonly namespace: string;
  readonly number: number;
}

export function parseMigrationId(id: string): ParsedMigrationId | undefined {
  const match = MIGRATION_ID.exec(id);
  if (!match) return undefined;
  return { namespace: match[1] as string, number: Number(match[2]) };
}

export function registerMigration(migration: Migration): void {
  const parsed = parseMigrationId(migration.id);
  if (!parsed) {
    throw new Error(`migration id "${migration.id}" must look like "<namespace>-<NNN>", e.g. "latency-001"`);
  }
  const existing = registry.find((m) => m.id === migration.id);
  if (existing) {
    // The same module evaluated twice (e.g. loaded under two URLs) registers an identical migration: harmless.
    if (existing.up.toString() === migration.up.toString()) return;
    throw new Error(`two different migrations are registered with the id "${migration.id}"`);
  }
  const newestInNamespace = registry
    .map((m) => parseMigrationId(m.id))
    .filter((p): p is ParsedMigrationId => p !== undefined && p.namespace === parsed.namespace)
    .reduce((max, p) => Math.max(max, p.number), 0);
  if (parsed.number <= newestInNamespace) {
    throw new Error(
      `migration "${migration.id}" is registered after a higher number of namespace "${parsed.namespace}"; ` +
        'register migrations in increasing order',
    );
  }
  registry.push(migration);
}

/** All migrations registered in this process, in registration order. */
export function registeredMigrations(): readonly Migration[] {
  return registry;
}
