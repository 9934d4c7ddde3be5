/**
 * A search killed with kill -9 (the CLI in a child process): `netadapt runs` and the API's run listing show it as
 * interrupted with the command that resumes it (reading changes nothing), and `search --resume` ends with exactly
 * the samples and result of the same search run without interruption.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createDefaultEngine } from '../../app/api/engine-default.ts';
import type { RunSummary } from '../../app/api/contract/types.ts';
import { BASE_CONFIG } from './fixtures.ts';
import { cli, workspaceHash } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'bad-input-kill-'));
const config = (name: string, workspace: string) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ ...BASE_CONFIG, J: 8, target: '45%', evaluator: { kind: 'synthetic', seed: 3, noise: 0.1, delayMs: 15 }, workspace, output: join(dir, `out-${name}`) }));
  return path;
};

function samples(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT iteration, idx, key, resource, score, changed_json FROM search_samples ORDER BY iteration, idx').raw().all();
  } finally {
    db.close();
  }
}

function evaluated(path: string): number {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return Number(db.prepare('SELECT count(*) FROM search_samples WHERE score IS NOT NULL').pluck().get());
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet, or its tables not yet
  }
}

describe('a search killed with kill -9', () => {
  it('is listed as interrupted by the CLI and the API, and resumes to the same result', async () => {
    const workspace = join(dir, 'killed.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'search', '--config', config('killed.json', workspace), '--quiet'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 60_000;
    while (evaluated(workspace) < 12) {
      if (Date.now() > deadline) throw new Error(`the search never got going: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const runId = /search run (\S+)/.exec(output)?.[1] as string;
    expect(runId).toBeDefined();
    const kept = evaluated(workspace);
    const before = workspaceHash(workspace);

    const listed = await cli('runs', '--workspace', workspace);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${runId}\\s+interrupted\\s+mobilenet-v1-32`));
    expect(listed.stdout).toContain(`${runId}: interrupted (its process ${child.pid} is gone) — resume with netadapt search --resume ${runId}`);

    const engine = createDefaultEngine({ workspacePath: workspace });
    try {
      const [summary] = (await engine.listRuns({ limit: 10 })) as RunSummary[];
      expect(summary).toMatchObject({
        runId,
        status: 'interrupted',
        interrupted: true,
        resumeCommand: `netadapt search --resume ${runId}`,
        message: `interrupted (its process ${child.pid} is gone) — resume with netadapt search --resume ${runId}`,
      });
    } finally {
      await engine.dispose();
    }
    expect(workspaceHash(workspace)).toBe(before); // listing read, never wrote

    const resumed = await cli('search', '--resume', runId, '--workspace', workspace, '--quiet');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming run /m);
    const reference = await cli('search', '--config', config('reference.json', join(dir, 'reference.sqlite')), '--quiet');
    const done = (text: string) => /^done: .*$/m.exec(text)?.[0];
    expect(done(resumed.stdout)).toMatch(/^done: reached the target/);
    expect(done(resumed.stdout)).toBe(done(reference.stdout));
    expect(samples(workspace)).toEqual(samples(join(dir, 'reference.sqlite')));
    expect(samples(workspace).length).toBeGreaterThan(kept);
    expect((await cli('runs', '--workspace', workspace)).stdout).toMatch(new RegExp(`${runId}\\s+done`));
  }, 90_000);
});
