import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FileFormatError, UserError } from '../../../core/errors.ts';
import { registerMigration } from '../../../core/store/migrations.ts';
import { defaultWorkspacePath, openWorkspace, WORKSPACE_APPLICATION_ID } from '../../../core/store/workspace.ts';

const dir = mkdtempSync(join(tmpdir(), 'netadapt-workspace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (): string => join(dir, `ws-${++fileCounter}`, 'netadapt.sqlite');

// Test migrations (the registry is per test file: vitest gives each file its own module graph).
let wstestUpRuns = 0;
registerMigration({
  id: 'wstest-001',
  up(db) {
    wstestUpRuns++;
    db.exec('CREATE TABLE wstest_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT');
  },
});
registerMigration({
  id: 'wstest-002',
  up(db) {
    db.exec('ALTER TABLE wstest_items ADD COLUMN size INTEGER');
  },
});

describe('openWorkspace', () => {
  it('creates the folder and file, applies every migration once, records them and bumps user_version', () => {
    const path = freshPath();
    const before = wstestUpRuns;
    const ws = openWorkspace(path);
    expect(existsSync(path)).toBe(true);
    expect(ws.appliedMigrations().map((m) => m.id)).toEqual(['wstest-001', 'wstest-002']);
    for (const m of ws.appliedMigrations()) expect(Number.isNaN(Date.parse(m.appliedAt))).toBe(false);
    expect(ws.schemaVersion()).toBe(2);
    expect(wstestUpRuns).toBe(before + 1);
    ws.db.prepare('INSERT INTO wstest_items (name, size) VALUES (?, ?)').run('a', 3);
    ws.close();
    expect(ws.isOpen).toBe(false);
  });

  it('re-opening is idempotent: no migration runs twice and data stays', () => {
    const path = freshPath();
    openWorkspace(path).close();
    const before = wstestUpRuns;
    const ws = openWorkspace(path);
    expect(wstestUpRuns).toBe(before);
    expect(ws.migrate()).toEqual([]);
    expect(ws.schemaVersion()).toBe(2);
    expect(ws.appliedMigrations()).toHaveLength(2);
    ws.close();
  });

  it('turns on WAL, foreign keys, synchronous=NORMAL and a busy timeout, and marks the file as ours', () => {
    const ws = openWorkspace(freshPath(), { busyTimeoutMs: 1234 });
    expect(ws.journalMode()).toBe('wal');
    expect(ws.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(ws.db.pragma('synchronous', { simple: true })).toBe(1); // 1 = NORMAL
    expect(ws.db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(ws.db.pragma('application_id', { simple: true })).toBe(WORKSPACE_APPLICATION_ID);
    expect(ws.integrityCheck()).toEqual([]);
    ws.close();
  });

  it('opens an in-memory workspace with the same migrations', () => {
    const ws = openWorkspace(':memory:');
    expect(ws.path).toBe(':memory:');
    expect(ws.appliedMigrations().map((m) => m.id)).toContain('wstest-001');
    ws.close();
  });

  it('refuses a file written by a newer app (unknown migration of a namespace it knows)', () => {
    const path = freshPath();
    const ws = openWorkspace(path);
    // What a newer NetAdapt Studio would have left behind: a wstest-003 this version has never heard of.
    ws.db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES ('wstest-003', '2030-01-01T00:00:00.000Z')").run();
    ws.db.pragma('user_version = 3');
    ws.close();
    let error: unknown;
    try {
      openWorkspace(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('written by a newer NetAdapt Studio (schema 3)');
    expect((error as UserError).message).toContain('upgrade');
    expect((error as UserError).details.join('\n')).toContain('wstest-003');
  });

  it('tolerates migrations of a namespace no loaded module registered (another module\'s tables)', () => {
    const path = freshPath();
    const ws = openWorkspace(path);
    ws.db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES ('othermodule-001', '2030-01-01T00:00:00.000Z')").run();
    ws.close();
    const again = openWorkspace(path);
    expect(again.appliedMigrations().map((m) => m.id)).toContain('othermodule-001');
    again.close();
  });

  it('a file that is not SQLite gives a FileFormatError naming the path', () => {
    const path = join(dir, 'not-a-db.sqlite');
    writeFileSync(path, 'this is a text file, not a database\n'.repeat(200));
    const original = readFileSync(path, 'utf8');
    expect(() => openWorkspace(path)).toThrow(FileFormatError);
    expect(() => openWorkspace(path)).toThrow(path);
    expect(readFileSync(path, 'utf8')).toBe(original); // untouched
  });

  it('a corrupted workspace gives a FileFormatError naming the path', () => {
    const path = freshPath();
    const ws = openWorkspace(path);
    ws.db.pragma('wal_checkpoint(TRUNCATE)');
    ws.close();
    const bytes = readFileSync(path);
    bytes.fill(0x5a, 0, 100); // overwrite the SQLite header
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      openWorkspace(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toContain(path);
  });

  it('a workspace with damaged pages (valid header) gives a FileFormatError naming the path', () => {
    const path = freshPath();
    const ws = openWorkspace(path);
    const insert = ws.db.prepare('INSERT INTO wstest_items (name, size) VALUES (?, ?)');
    for (let i = 0; i < 2000; i++) insert.run(`item number ${i} with some padding text`, i);
    ws.db.pragma('wal_checkpoint(TRUNCATE)');
    ws.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    for (let page = 2; page * pageSize < bytes.length; page += 2) bytes.fill(0xff, page * pageSize, page * pageSize + 64);
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      openWorkspace(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toContain(path);
  });

  it('refuses an SQLite database of another application instead of adding tables to it', () => {
    const path = join(dir, 'someone-elses.db');
    const other = new Database(path);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    other.close();
    expect(() => openWorkspace(path)).toThrow(/not a NetAdapt Studio workspace/);
    const check = new Database(path);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type='table'").pluck().all()).toEqual(['invoices']);
    check.close();
  });

  it('a migration registered after opening is applied by migrate(), in its own transaction', () => {
    const ws = openWorkspace(freshPath());
    let fail = true;
    registerMigration({
      id: 'late-001',
      up(db) {
        db.exec('CREATE TABLE late_table (x INTEGER)');
        if (fail) throw new Error('boom');
      },
    });
    expect(() => ws.migrate()).toThrow(/late-001 failed.*boom/);
    // Rolled back: neither the table nor the record exists, the version did not move.
    expect(ws.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'late_table'").pluck().get()).toBe(0);
    expect(ws.appliedMigrations().map((m) => m.id)).not.toContain('late-001');
    expect(ws.schemaVersion()).toBe(2);
    fail = false;
    expect(ws.migrate()).toEqual(['late-001']);
    expect(ws.schemaVersion()).toBe(3);
    ws.close();
  });
});

describe('defaultWorkspacePath', () => {
  it('is ./workspace/netadapt.sqlite unless NETADAPT_WORKSPACE says otherwise', () => {
    expect(defaultWorkspacePath({})).toBe(join(process.cwd(), 'workspace', 'netadapt.sqlite'));
    expect(defaultWorkspacePath({ NETADAPT_WORKSPACE: '/data/team.sqlite' })).toBe('/data/team.sqlite');
    expect(defaultWorkspacePath({ NETADAPT_WORKSPACE: '  ' })).toBe(join(process.cwd(), 'workspace', 'netadapt.sqlite'));
  });
});
