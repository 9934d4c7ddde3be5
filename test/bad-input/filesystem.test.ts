/**
 * Filesystem errors: missing workspaces are never created by commands that only read, foreign or corrupt files are
 * named and left untouched, unwritable output paths are named, a busy port suggests another; a full disk and a
 * read-only file system (a tmpfs in a private mount namespace, `unshare -rm`; skipped where not permitted) are named
 * with what was saved and how to continue, and the search resumes once there is space again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserUi } from '../../app/api/browser-ui.ts';
import { openWorkspace } from '../../core/store/workspace.ts';
import type { CliOutcome } from './cli-in-process.ts';
import { scratchWithWorkspace, type Scratch } from './fixtures.ts';
import { cli, expectRefused, listing, workspaceHash } from './harness.ts';

let scratch: Scratch;
let before: string;
beforeAll(async () => {
  scratch = await scratchWithWorkspace('fs');
  before = workspaceHash(scratch.workspace);
});
afterAll(() => {
  expect(workspaceHash(scratch.workspace)).toBe(before);
});

const fileHash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('reading never creates a workspace', () => {
  it.each([
    ['runs', ['runs']],
    ['lut show', ['lut', 'show']],
    ['lut export', ['lut', 'export', '--device', 'host', '--out', 'x.json']],
    ['search --resume', ['search', '--resume', 'r1']],
  ])('%s on a missing folder or file', async (_name, args) => {
    const root = mkdtempSync(join(tmpdir(), 'bad-input-missing-'));
    for (const workspace of [join(root, 'no', 'such', 'dir', 'ws.sqlite'), join(root, 'ws.sqlite')]) {
      expectRefused(await cli(...args, '--workspace', workspace), /no workspace at .*ws\.sqlite \(the (folder .* does not exist|file does not exist)\)/);
    }
    expect(listing(root)).toEqual([]);
  });
});

describe('files that are not workspaces', () => {
  it('a text file and another application\'s SQLite database are named and left as they were', async () => {
    const text = scratch.json('notes.sqlite', 'just some notes');
    const foreign = join(scratch.dir, 'foreign.sqlite');
    const db = new Database(foreign);
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)');
    db.close();
    const hashes = [fileHash(text), fileHash(foreign)];
    expectRefused(await cli('runs', '--workspace', text), /notes\.sqlite is not a NetAdapt Studio workspace: the file is not an SQLite database or is corrupt/);
    expectRefused(await cli('search', '--config', scratch.config('foreign.json', { workspace: foreign }), '--quiet'), /foreign\.sqlite is an SQLite database but not a NetAdapt Studio workspace/);
    expect([fileHash(text), fileHash(foreign)]).toEqual(hashes);
  });
});

describe('unwritable output paths', () => {
  it('export --out under a file, or onto a folder, names the path', async () => {
    const file = scratch.json('plain.txt', 'x');
    expectRefused(await cli('export', '--network', 'mobilenet-v1-32', '--out', join(file, 'm.tflite')), /cannot write the model file .*plain\.txt\/m\.tflite: a (part of the path is a file, not a folder|file is in the way of a folder of that path)/);
    const folder = join(scratch.dir, 'a-folder.tflite');
    mkdirSync(folder);
    expectRefused(await cli('export', '--network', 'mobilenet-v1-32', '--out', folder), /cannot write the model file .*a-folder\.tflite: it is a folder, not a file/);
    expect(listing(folder)).toEqual([]);
  });

  it('search output under a file: the run is saved and the message names the folder', async () => {
    const file = scratch.json('blocker', 'x');
    const config = scratch.config('blocked.json', { workspace: join(scratch.dir, 'ws-out.sqlite'), output: join(file, 'out') });
    expectRefused(await cli('search', '--config', config, '--quiet'), /cannot write the discovered network file .*blocker\/out\/network\.json/);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only workspace file (permissions): writing is refused, reading works', async () => {
    const copy = join(scratch.dir, 'readonly.sqlite');
    copyFileSync(scratch.workspace, copy);
    chmodSync(copy, 0o444);
    chmodSync(scratch.dir, 0o555);
    try {
      expectRefused(await cli('search', '--config', scratch.config('ro.json', { workspace: copy }), '--quiet'), /the workspace .*readonly\.sqlite is read-only/);
      expect((await cli('runs', '--workspace', copy)).code).toBe(0);
    } finally {
      chmodSync(scratch.dir, 0o755);
    }
  });
});

describe('a busy port', () => {
  it('netadapt ui --port on a port in use suggests another and releases the workspace', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const staticDir = mkdtempSync(join(tmpdir(), 'bad-input-static-'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html>');
    const workspacePath = join(scratch.dir, 'ui.sqlite');
    try {
      const error = await startBrowserUi({ staticDir, port, workspacePath }).catch((e: unknown) => e);
      expect((error as Error).message).toBe(
        `port ${port} on 127.0.0.1 is already in use (another netadapt ui, or another program); choose another port, e.g. --port ${port + 1}, or --port 0 for a free one`,
      );
      // Nothing holds the workspace: another process can take its write lock at once.
      const workspace = openWorkspace(workspacePath, { busyTimeoutMs: 0 });
      workspace.db.exec('BEGIN IMMEDIATE; COMMIT');
      workspace.close();
    } finally {
      blocker.close();
    }
  });
});

/** Runs `steps` in a private mount namespace with a tmpfs of `size` at `mountpoint`; undefined where not permitted. */
function inNamespace(mountpoint: string, size: string, steps: unknown[]): CliOutcome[] {
  const output = execFileSync('unshare', ['-rm', process.execPath, '--import', 'tsx', 'test/bad-input/fixtures/namespace-steps.ts', mountpoint, size, JSON.stringify(steps)], {
    cwd: process.cwd(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return (JSON.parse(output.trim().split('\n').at(-1) as string) as CliOutcome[]).filter((o) => 'code' in o);
}

const namespaces = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"'], { encoding: 'utf8' });
const noNamespaces = namespaces.status === 0 ? undefined : `unshare -rm with a tmpfs mount is not permitted here (${(namespaces.stderr || namespaces.error?.message || '').trim()})`;
if (noNamespaces) console.log(`skipping the full-disk and read-only file system cases: ${noNamespaces}`);

describe.skipIf(noNamespaces !== undefined)('a full disk and a read-only file system (private tmpfs)', () => {
  it('a search on a full disk says what is saved and resumes once there is space; a read-only disk is named', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bad-input-ns-'));
    const disk = join(root, 'disk');
    const workspace = join(disk, 'ws.sqlite');
    const config = scratch.config('full.json', { workspace, output: join(root, 'out'), J: 60, target: '40%' });
    const [full, runs, resumed, readOnlySearch, readOnlyExport] = inNamespace(disk, '700k', [
      // Its own process, as a user's: whether the full disk still let it mark the run failed or not, once it exits
      // the listing offers the resume.
      { cliProcess: ['search', '--config', config, '--quiet'] },
      { sh: `mount -o remount,size=16m ${disk}` },
      { cli: ['runs', '--workspace', workspace] },
      { cli: ['search', '--resume', '$RUN', '--workspace', workspace, '--quiet'] },
      { sh: `mount -o remount,ro ${disk}` },
      { cli: ['search', '--config', config, '--quiet'] },
      { cli: ['export', '--network', 'mobilenet-v1-32', '--out', join(disk, 'm.tflite')] },
    ]) as [CliOutcome, CliOutcome, CliOutcome, CliOutcome, CliOutcome];
    expectRefused(full, /the disk holding the workspace .*disk\/ws\.sqlite is full/);
    expect(full.stderr).toMatch(/run \S+: \d+ iteration\(s\) finished and [1-9]\d* evaluated sample\(s\) are saved; resume with netadapt search --resume \S+/);
    expect(runs.stdout).toMatch(/(failed|interrupted \(its process \d+ is gone\)) — resume with netadapt search --resume/);
    expect(resumed.code).toBe(0);
    // The same search without a full disk, in this process: the resumed run ends exactly where it would have.
    const reference = await cli('search', '--config', scratch.config('reference.json', { workspace: join(root, 'ref.sqlite'), output: join(root, 'ref'), J: 60, target: '40%' }), '--quiet');
    const doneLine = (o: CliOutcome) => /^done: .*$/m.exec(o.stdout)?.[0];
    expect(doneLine(resumed)).toMatch(/^done: reached the target/);
    expect(doneLine(resumed)).toBe(doneLine(reference));
    expectRefused(readOnlySearch, /the workspace .*ws\.sqlite is on a read-only file system .*copy it to a writable folder/);
    expectRefused(readOnlyExport, /cannot write the model file .*m\.tflite: it is on a read-only file system/);
    expect(existsSync(join(root, 'out'))).toBe(true);
  }, 90_000);
});
