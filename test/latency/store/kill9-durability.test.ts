import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const writer = fileURLToPath(new URL('./kill9-writer.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'netadapt-kill9-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it printed `linesBeforeKill` committed keys (plus whatever it prints meanwhile), then SIGKILLs it. */
function runAndKill(path: string, round: number, linesBeforeKill: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, String(round)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const committed: string[] = [];
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('committed ')) committed.push(line.slice('committed '.length));
      if (!killed && committed.length >= linesBeforeKill) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      // A partial last line was not fully printed: its key does not count as reported.
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (${signal ?? _code}): ${stderr}`));
      else resolve(committed);
    });
  });
}

describe('kill -9 durability', () => {
  it('every entry reported as committed survives SIGKILL; no duplicates; the file stays intact', async () => {
    const path = join(dir, 'kill9.sqlite');
    // Several rounds on the same file, killed at different points (also across WAL checkpoints: ~1000 pages).
    const kills = [700, 1500, 300];
    const reported: string[][] = [];
    for (const [round, count] of kills.entries()) reported.push(await runAndKill(path, round, count));

    const workspace = openWorkspace(path);
    try {
      expect(workspace.integrityCheck()).toEqual([]);
      const store = new LatencyStore(workspace);
      const rows = workspace.db
        .prepare<[], { signature: string; mean_us: number }>("SELECT signature, mean_us FROM latency_entries WHERE device_id = 'kill9-device'")
        .all();
      const stored = new Set(rows.map((r) => r.signature));
      expect(stored.size).toBe(rows.length); // no duplicate keys
      for (const [round, keys] of reported.entries()) {
        expect(keys.length).toBeGreaterThanOrEqual(kills[round] as number);
        expect(new Set(keys).size).toBe(keys.length);
        expect(store.missingSignatures('kill9-device', 'threads=1;runs=50', keys)).toEqual([]);
        // At most the one entry that committed between its print and the kill is stored beyond what was reported.
        const storedThisRound = rows.filter((r) => r.signature.includes(`;round=${round};`)).length;
        expect(storedThisRound - keys.length).toBeGreaterThanOrEqual(0);
        expect(storedThisRound - keys.length).toBeLessThanOrEqual(1);
      }
      // Values are intact, not just keys.
      for (const row of rows) expect(row.mean_us).toBe(100 + Number(/;i=(\d+)$/.exec(row.signature)?.[1]));
      console.log(`kill -9 test: ${reported.map((k) => k.length).join(' + ')} reported entries, ${rows.length} stored, integrity ok`);
    } finally {
      workspace.close();
    }
  });
});
