/**
 * The one translation of SQLite's errors into UserErrors that name the workspace file and say what to do (read-only
 * file, full disk, I/O error, locked, corrupt, cannot open). `guardConnection` installs it on a connection, so every
 * statement of every store (runs, latency tables) reports its failures this way without each store catching them.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FileFormatError, UserError } from '../errors.ts';
import { errnoCode, formatBytes, freeBytes } from '../fs-errors.ts';

/** A SQLite error the user can act on; `code` is SQLite's (SQLITE_FULL, SQLITE_READONLY_DBMOVED, …). */
export class WorkspaceError extends UserError {
  readonly code: string;
  constructor(code: string, message: string, details: readonly string[] = []) {
    super(message, details);
    this.code = code;
  }
}

/** Below this much free space an I/O error on write is reported as a full disk. */
const NEARLY_FULL_BYTES = 1024 * 1024;

const SAVED = 'everything saved before this point is kept in the workspace (each measured entry and evaluated sample is its own transaction)';

function writableProblem(path: string): 'EROFS' | 'EACCES' | 'ENOENT' | undefined {
  for (const target of existsSync(path) ? [path, dirname(path)] : [dirname(path)]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EROFS' || code === 'ENOENT') return code;
      if (code === 'EACCES' || code === 'EPERM') return 'EACCES';
    }
  }
  return undefined;
}

/** A WorkspaceError/FileFormatError for SQLite's errors on the workspace `path`; other errors pass through. */
export function translateSqliteError(error: unknown, path: string): unknown {
  if (error instanceof UserError || !(error instanceof Database.SqliteError)) return error;
  const code = error.code;
  const sqlite = `SQLite: ${error.message}`;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new FileFormatError(`${path} is not a NetAdapt Studio workspace: the file is not an SQLite database or is corrupt (${error.message}); restore it from a backup or choose another file`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new WorkspaceError(
      code,
      `the workspace ${path} is read-only (${sqlite}); copy it to a writable folder or fix its permissions, then run the command again`,
      ['commands that only read it (netadapt runs, lut show, lut export) still work on it as it is'],
    );
  }
  if (code === 'SQLITE_FULL') {
    const free = freeBytes(path);
    return new WorkspaceError(code, `the disk holding the workspace ${path} is full (${sqlite}${free === undefined ? '' : `; ${formatBytes(free)} free`})`, [
      SAVED,
      'free some space and run the same command again to continue where it stopped',
    ]);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    const free = freeBytes(path);
    if (free !== undefined && free < NEARLY_FULL_BYTES) {
      return new WorkspaceError(code, `the disk holding the workspace ${path} is full (${formatBytes(free)} free; ${sqlite})`, [
        SAVED,
        'free some space and run the same command again to continue where it stopped',
      ]);
    }
    return new WorkspaceError(code, `reading or writing the workspace ${path} failed (${sqlite}, ${code}): the disk may be failing, removed or full`, [
      SAVED,
      'check the disk, then run the same command again to continue',
    ]);
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new WorkspaceError(code, `the workspace ${path} is locked by another process (${sqlite}); wait for it to finish (or stop it) and run the command again`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    const problem = writableProblem(path);
    if (problem === 'EROFS') {
      return new WorkspaceError(code, `the workspace ${path} is on a read-only file system (${sqlite}); copy it to a writable folder (and give that with --workspace), then run the command again`);
    }
    if (problem === 'ENOENT') return new WorkspaceError(code, `cannot open the workspace ${path}: its folder ${dirname(path)} does not exist`);
    if (problem === 'EACCES') {
      return new WorkspaceError(code, `the workspace ${path} is read-only (permission denied on it or its folder; ${sqlite}); copy it to a writable folder or fix its permissions`);
    }
    return new WorkspaceError(code, `cannot open the workspace ${path} (${sqlite}); check the path and permissions`);
  }
  if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new WorkspaceError(code, `access to the workspace ${path} was denied (${sqlite}); check its permissions`);
  }
  if (code === 'SQLITE_NOLFS' || code === 'SQLITE_TOOBIG') {
    return new WorkspaceError(code, `the workspace ${path} cannot grow further on this file system (${sqlite}); move it to another disk`);
  }
  return error;
}

type AnyFunction = (...args: never[]) => unknown;

function translating<F extends AnyFunction>(fn: F, self: unknown, path: string): F {
  return function (this: unknown, ...args: Parameters<F>) {
    try {
      return (fn as unknown as (...a: unknown[]) => unknown).apply(self, args);
    } catch (error) {
      throw translateSqliteError(error, path);
    }
  } as unknown as F;
}

const STATEMENT_METHODS = ['run', 'get', 'all', 'iterate'] as const;
const TRANSACTION_VARIANTS = ['deferred', 'immediate', 'exclusive'] as const;

/**
 * Makes every statement, transaction, exec and pragma of `db` throw translated errors naming `path`. Statements keep
 * their identity (their methods are replaced on the object), so `.pluck()`, `.raw()` and chaining work as before.
 */
export function guardConnection(db: Database.Database, path: string): Database.Database {
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = translating(prepare, db, path)(source);
    for (const method of STATEMENT_METHODS) {
      const original = (statement as unknown as Record<string, AnyFunction>)[method] as AnyFunction;
      Object.defineProperty(statement, method, { value: translating(original, statement, path), configurable: true, writable: true });
    }
    return statement;
  }) as typeof db.prepare;
  db.exec = translating(db.exec.bind(db), db, path) as typeof db.exec;
  db.pragma = translating(db.pragma.bind(db), db, path) as typeof db.pragma;
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: AnyFunction) => {
    const original = transaction(fn as (...args: unknown[]) => unknown);
    const guarded = translating(original, undefined, path) as unknown as Record<string, unknown>;
    for (const variant of TRANSACTION_VARIANTS) guarded[variant] = translating(original[variant], undefined, path);
    guarded.default = guarded;
    return guarded;
  }) as unknown as typeof db.transaction;
  return db;
}
