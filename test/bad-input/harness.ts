/**
 * The bad-input suite's tools: the CLI run in-process (cli-in-process.ts), the refusal assertions, a workspace's
 * logical content hashed (so "no data changed" survives SQLite folding its WAL into the file on close), and a
 * folder's file listing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { CliOutcome } from './cli-in-process.ts';

export { cli, type CliOutcome } from './cli-in-process.ts';

/** Asserts the classes of a refused bad input: exit code 1, a message matching `problem`, no "internal error". */
export function expectRefused(outcome: CliOutcome, problem: RegExp): void {
  const text = `${outcome.stderr}${outcome.stdout}`;
  expect(text).not.toMatch(/internal error/);
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(outcome.stderr).toMatch(/^error: /m);
  expect(text).toMatch(problem);
  expect(outcome.code).toBe(1);
}

/** sha256 over every row of every table (sorted), read through a read-only connection. */
export function workspaceHash(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    for (const table of tables) {
      const rows = db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).all().map((row) => JSON.stringify(row)).sort();
      hash.update(`${table}\n${rows.join('\n')}\n`);
    }
    hash.update(`user_version ${String(db.pragma('user_version', { simple: true }))}`);
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

/** Every file and folder under `dir` (relative paths, sorted), for "nothing was created". */
export function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      out.push(relative(dir, path));
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out;
}
