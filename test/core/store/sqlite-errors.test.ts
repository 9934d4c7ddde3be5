import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../core/errors.ts';
import { guardConnection, translateSqliteError, WorkspaceError } from '../../../core/store/sqlite-errors.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-errors-'));

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('SQLite errors on a guarded connection name the workspace and what to do', () => {
  it('a read-only connection: writes are refused as read-only, reads still work', () => {
    const path = join(dir, 'ro.sqlite');
    const setup = new Database(path);
    setup.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
    setup.close();
    const db = guardConnection(new Database(path, { readonly: true }), path);
    const error = errorOf(() => db.prepare('INSERT INTO t VALUES (2)').run());
    expect(error).toBeInstanceOf(WorkspaceError);
    expect(error.message).toMatch(new RegExp(`^the workspace ${path} is read-only \\(SQLite: attempt to write a readonly database\\); copy it to a writable folder or fix its permissions`));
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    db.close();
  });

  it('a full database: the write fails as a full disk, committed rows are kept, in statements and transactions alike', () => {
    const path = join(dir, 'full.sqlite');
    const db = guardConnection(new Database(path), path);
    db.exec('CREATE TABLE t (x TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    insert.run('kept');
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${pages}`);
    const big = 'x'.repeat(64 * 1024);
    const single = errorOf(() => insert.run(big));
    expect(single).toBeInstanceOf(WorkspaceError);
    expect((single as WorkspaceError).code).toBe('SQLITE_FULL');
    expect(single.message).toMatch(new RegExp(`^the disk holding the workspace ${path} is full \\(SQLite: database or disk is full`));
    expect((single as WorkspaceError).details.join('\n')).toMatch(/run the same command again to continue/);
    const inTransaction = errorOf(() => db.transaction(() => insert.run(big)).immediate());
    expect((inTransaction as WorkspaceError).code).toBe('SQLITE_FULL');
    expect(db.prepare('SELECT x FROM t').pluck().all()).toEqual(['kept']);
    db.close();
  });

  it('a lock held by another connection is named as such', () => {
    const path = join(dir, 'busy.sqlite');
    const holder = new Database(path);
    holder.exec('CREATE TABLE t (x INTEGER)');
    holder.exec('BEGIN IMMEDIATE');
    const db = guardConnection(new Database(path, { timeout: 0 }), path);
    const error = errorOf(() => db.prepare('INSERT INTO t VALUES (1)').run());
    expect(error.message).toMatch(/is locked by another process .*wait for it to finish/);
    holder.exec('ROLLBACK');
    holder.close();
    db.close();
  });

  it('statements keep chaining (pluck, raw) and non-SQLite errors pass through unchanged', () => {
    const db = guardConnection(new Database(':memory:'), ':memory:');
    expect(db.prepare('SELECT 7 AS v').pluck().get()).toBe(7);
    expect(db.prepare('SELECT 1, 2').raw().all()).toEqual([[1, 2]]);
    const syntax = errorOf(() => db.prepare('SELEC 1'));
    expect(syntax).toBeInstanceOf(Database.SqliteError); // a bug in our SQL stays a bug
    const bug = new TypeError('boom');
    expect(translateSqliteError(bug, 'x')).toBe(bug);
    db.close();
  });

  it('a file that is not a database, opened as a workspace, is a FileFormatError naming it', () => {
    const path = join(dir, 'text.sqlite');
    writeFileSync(path, 'hello, this is not SQLite at all, not even close'.repeat(20));
    const error = errorOf(() => openWorkspace(path));
    expect(error).toBeInstanceOf(FileFormatError);
    expect(error.message).toContain(`${path} is not a NetAdapt Studio workspace`);
  });
});
