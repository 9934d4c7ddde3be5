import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { FileFormatError, UserError } from '../errors.ts';
import { translateFileError } from '../fs-errors.ts';
import { parseMigrationId, registeredMigrations } from './migrations.ts';
import type { Migration } from './migrations.ts';
import { guardConnection, translateSqliteError } from './sqlite-errors.ts';

/**
 * The workspace: one SQLite file that holds everything a user measured and searched (latency tables, search runs).
 *
 * Pragmas, and why:
 * - `journal_mode=WAL`: readers (the UI, a second CLI) never block the writer and vice versa, and a commit is one
 *   append to the -wal file.
 * - `synchronous=NORMAL`: in WAL mode this is still crash-safe for the *application*: a transaction is in the WAL
 *   (the OS page cache) before `COMMIT` returns, so a killed process (kill -9, a crash, Ctrl-C) loses nothing it
 *   committed and never corrupts the file. Only a power loss / OS crash can roll back the last few commits (fsync
 *   happens at checkpoints instead of on every commit); the database stays consistent even then. Losing the last
 *   measured entry to a power cut costs one re-measurement, while an fsync per entry would cost on every commit.
 * - `foreign_keys=ON`: SQLite leaves it off by default; our tables rely on it (entries belong to a device).
 * - `busy_timeout`: another process writing at the same moment makes us wait instead of failing with SQLITE_BUSY.
 */

/** 'NAST' — marks the file as a NetAdapt Studio workspace (`PRAGMA application_id`). */
export const WORKSPACE_APPLICATION_ID = 0x4e415354;
export const DEFAULT_WORKSPACE_PATH = './workspace/netadapt.sqlite';
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** Files up to this size get a `quick_check` on open (tens of ms); larger ones only when asked (integrityCheck). */
const QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024;

export interface OpenWorkspaceOptions {
  /** How long to wait for another process's write lock before failing (ms). */
  readonly busyTimeoutMs?: number;
  /**
   * The command only reads the workspace: a missing file (or folder) is an error instead of a new, empty workspace.
   * Commands that create workspaces (search --config, lut build, train, demo, the app) leave this off.
   */
  readonly mustExist?: boolean;
}

/** The workspace file a reading command was given does not exist. */
export class WorkspaceMissingError extends UserError {}

export interface AppliedMigration {
  readonly id: string;
  readonly appliedAt: string;
}

/**
 * The Electron app in development (`npm start`) runs the engine in Electron's Node, whose ABI differs from the Node
 * that node_modules' better-sqlite3 was built for: electron/main.ts passes the Electron build's path here
 * (build/electron-native.ts). Unset everywhere else.
 */
export const SQLITE_BINDING_ENV = 'NETADAPT_SQLITE_BINDING';

function sqliteNativeBinding(): { nativeBinding?: string } {
  const path = process.env[SQLITE_BINDING_ENV];
  return path === undefined || path === '' ? {} : { nativeBinding: path };
}

/** The workspace path to use when the user gave none: $NETADAPT_WORKSPACE, else ./workspace/netadapt.sqlite. */
export function defaultWorkspacePath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.NETADAPT_WORKSPACE?.trim();
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_WORKSPACE_PATH);
}

/**
 * Opens (creating if needed, unless `mustExist`) the workspace file, or an in-memory one for ':memory:', and applies
 * migrations. Every SQLite error of the connection, now and later, names the file and what to do (sqlite-errors.ts).
 */
export function openWorkspace(path: string = defaultWorkspacePath(), options: OpenWorkspaceOptions = {}): Workspace {
  const inMemory = path === ':memory:';
  const resolvedPath = inMemory ? path : resolve(path);
  if (!inMemory && options.mustExist && !existsSync(resolvedPath)) {
    const folder = dirname(resolvedPath);
    throw new WorkspaceMissingError(
      existsSync(folder) ? `no workspace at ${resolvedPath} (the file does not exist)` : `no workspace at ${resolvedPath} (the folder ${folder} does not exist)`,
      ['give the workspace file with --workspace (or $NETADAPT_WORKSPACE); a workspace is created by netadapt search --config, lut build, lut import, demo or the app'],
    );
  }
  if (!inMemory) {
    try {
      mkdirSync(dirname(resolvedPath), { recursive: true });
    } catch (error) {
      throw translateFileError(error, { path: dirname(resolvedPath), what: 'the folder of the workspace', action: 'write' });
    }
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let db: Database.Database | undefined;
  try {
    db = guardConnection(
      new Database(resolvedPath, {
        timeout: busyTimeoutMs,
        ...(options.mustExist && !inMemory ? { fileMustExist: true } : {}),
        ...sqliteNativeBinding(),
      }),
      resolvedPath,
    );
    const workspace = new Workspace(db, resolvedPath);
    workspace.initialize(busyTimeoutMs);
    workspace.migrate();
    return workspace;
  } catch (error) {
    if (db?.open) db.close();
    throw asWorkspaceError(error, resolvedPath);
  }
}

export class Workspace {
  readonly db: Database.Database;
  /** Absolute path of the file, or ':memory:'. */
  readonly path: string;

  /** Use `openWorkspace`. */
  constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** @internal Pragmas, foreign-file check and the migrations table; called once by `openWorkspace`. */
  initialize(busyTimeoutMs: number): void {
    const db = this.db;
    // The first read of the header: a file that is not SQLite fails here with SQLITE_NOTADB.
    const applicationId = Number(db.pragma('application_id', { simple: true }));
    const tables = db
      .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all();
    const foreign =
      (applicationId !== 0 && applicationId !== WORKSPACE_APPLICATION_ID) ||
      (applicationId === 0 && tables.length > 0 && !tables.includes('schema_migrations'));
    if (foreign) {
      throw new FileFormatError(
        `${this.path} is an SQLite database but not a NetAdapt Studio workspace; ` +
          'choose another file (or an empty folder) for the workspace',
      );
    }
    this.quickCheckSmallFile();
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        id TEXT PRIMARY KEY,
        applied_at TEXT NOT NULL
      ) STRICT`);
      if (applicationId === 0) db.pragma(`application_id = ${WORKSPACE_APPLICATION_ID}`);
    }).immediate();
  }

  /** Corruption inside the file (not just its header) surfaces here instead of in the middle of later work. */
  private quickCheckSmallFile(): void {
    if (this.path === ':memory:' || statSync(this.path).size > QUICK_CHECK_MAX_BYTES) return;
    const problems = this.db.prepare<[], string>('PRAGMA quick_check(5)').pluck().all();
    if (problems.length === 1 && problems[0] === 'ok') return;
    throw new FileFormatError(
      `${this.path} is corrupt (SQLite quick_check failed); restore it from a backup or move it away to start a new workspace`,
      problems,
    );
  }

  /** `PRAGMA user_version`: the number of migrations applied to this file. */
  schemaVersion(): number {
    return Number(this.db.pragma('user_version', { simple: true }));
  }

  appliedMigrations(): AppliedMigration[] {
    return this.db
      .prepare<[], { id: string; applied_at: string }>('SELECT id, applied_at FROM schema_migrations ORDER BY rowid')
      .all()
      .map((row) => ({ id: row.id, appliedAt: row.applied_at }));
  }

  /**
   * Applies every registered migration the file does not have yet, each in its own transaction, and returns the
   * ids it applied. Stores call this when they are created, so a module imported after the workspace was opened
   * still gets its tables. Refuses a file that has migrations of a known namespace this app does not know: it was
   * written by a newer NetAdapt Studio and its tables may mean something this version would misread.
   */
  migrate(): string[] {
    const registered = registeredMigrations();
    this.refuseNewerSchema(registered);
    const appliedNow: string[] = [];
    const pending = registered.filter((m) => !this.isApplied(m.id));
    while (pending.length > 0) {
      const index = pending.findIndex((m) => (m.requires ?? []).every((id) => this.isApplied(id)));
      if (index < 0) {
        const blocked = pending.map((m) => `${m.id} (requires ${(m.requires ?? []).join(', ')})`).join('; ');
        throw new Error(`migrations cannot be ordered, their requirements are not registered: ${blocked}`);
      }
      const [migration] = pending.splice(index, 1) as [Migration];
      if (this.applyOne(migration)) appliedNow.push(migration.id);
    }
    return appliedNow;
  }

  /** `PRAGMA integrity_check`; an empty list means the file is sound. */
  integrityCheck(): string[] {
    const rows = this.db.prepare<[], string>('PRAGMA integrity_check').pluck().all();
    return rows.length === 1 && rows[0] === 'ok' ? [] : rows;
  }

  /** The journal mode in effect ('wal' for files, 'memory' for ':memory:'). */
  journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private isApplied(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').get(id) !== undefined;
  }

  /** Returns false when another process applied it between our check and our write lock. */
  private applyOne(migration: Migration): boolean {
    const db = this.db;
    try {
      return db
        .transaction(() => {
          if (this.isApplied(migration.id)) return false;
          migration.up(db);
          db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(
            migration.id,
            new Date().toISOString(),
          );
          const count = Number(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get());
          db.pragma(`user_version = ${count}`);
          return true;
        })
        .immediate();
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new Error(`workspace migration ${migration.id} failed (nothing of it was applied): ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  private refuseNewerSchema(registered: readonly Migration[]): void {
    const knownIds = new Set(registered.map((m) => m.id));
    const knownNamespaces = new Set(registered.map((m) => parseMigrationId(m.id)?.namespace));
    // A namespace nobody in this process registered belongs to a module that is not loaded; its tables are not
    // ours to judge. Unknown ids of a namespace we do know mean a newer schema of tables we are about to use.
    const unknown = this.appliedMigrations()
      .map((m) => m.id)
      .filter((id) => !knownIds.has(id) && knownNamespaces.has(parseMigrationId(id)?.namespace));
    if (unknown.length > 0) {
      throw new UserError(
        `this workspace was written by a newer NetAdapt Studio (schema ${this.schemaVersion()}); ` +
          `upgrade NetAdapt Studio to open ${this.path}`,
        [`migrations this version does not know: ${unknown.join(', ')}`],
      );
    }
  }
}

/** Maps SQLite's and the file system's errors to a UserError that names the file; other errors pass through. */
export function asWorkspaceError(error: unknown, path: string): unknown {
  if (error instanceof UserError) return error;
  if (error instanceof Database.SqliteError) return translateSqliteError(error, path);
  if (error instanceof Error && /directory does not exist/.test(error.message)) {
    return new FileFormatError(`cannot open the workspace ${path}: its folder ${dirname(path)} does not exist`);
  }
  return translateFileError(error, { path, what: 'the workspace', action: 'write' });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
