import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TABLE_8, TABLE_9, paperMismatches } from '../../core/arch/paper-tables.ts';

const run = promisify(execFile);
const cli = ['--import', 'tsx', 'app/cli/main.ts'];

async function netadapt(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [...cli, ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('netadapt arch', () => {
  it('prints the Table-8-style architecture table with totals', async () => {
    const { code, stdout } = await netadapt('arch', 'mobilenet-v1');
    expect(code).toBe(0);
    expect(stdout).toMatch(/#\s+name\s+type\s+T\s+k\s+s\s+BN\s+act\s+exp\s+dw\s+pw\s+se\s+output\s+MACs\s+params/);
    expect(stdout).toContain('total: 568.74M MACs');
  });

  it('applies a sub-network file and marks removed blocks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arch-'));
    const file = join(dir, 'sub.json');
    writeFileSync(file, JSON.stringify({ layers: { 'b3.expand': { level: 0 }, 'b3.dw': { level: 0 }, 'b3.project': { level: 0 } } }));
    const { code, stdout } = await netadapt('arch', 'mobilenet-v3-large-32', '--subnet', file);
    expect(code).toBe(0);
    expect(stdout).toMatch(/b3\s+mnv3 block \(res\) \[removed\]/);
  });

  it.each([
    ['netadaptv2-latency', 'table8.json', TABLE_8, 225e6, 0.01],
    ['netadaptv2-macs', 'table9.json', TABLE_9, 314e6, 0.02],
  ] as const)('%s --subnet core/arch/zoo/paper/%s --json: the paper\'s table, row by row, and its MACs', async (network, file, table, macs, tolerance) => {
    const { code, stdout } = await netadapt('arch', network, '--subnet', `core/arch/zoo/paper/${file}`, '--json');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { rows: Parameters<typeof paperMismatches>[0]; totals: { macs: number } };
    expect(Math.abs(printed.totals.macs - macs) / macs).toBeLessThan(tolerance);
    expect(paperMismatches(printed.rows, table)).toEqual([]);
    const text = await netadapt('arch', network, '--subnet', `core/arch/zoo/paper/${file}`);
    expect(text.stdout).toMatch(/12\s+b11\s+mnv3 block \(res\) \[removed\]\s+64\s+0\s+1\s+✓\s+HS\s+0\s+0\s+0/);
  });

  it('bad JSON: one line per problem, non-zero exit, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arch-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'bad',
        task: 'classification',
        input: { height: 32, width: 32 },
        layers: [
          { type: 'conv', name: 'a', filters: 8, kernel: 2, act: 'relu' },
          { type: 'lstm', name: 'b' },
          { type: 'conv', name: 'c', filters: -3, kernel: 3, act: 'relu' },
          { type: 'conv', name: 'd', kernel: 3, act: 'relu' },
        ],
      }),
    );
    const { code, stderr } = await netadapt('arch', file);
    expect(code).not.toBe(0);
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toContain('is not a valid network');
    expect(lines.filter((l) => l.startsWith('  - '))).toHaveLength(4);
    expect(stderr).toContain('layers[0] "a".kernel');
    expect(stderr).toContain('layers[2] "c".filters');
    expect(stderr).toContain('layers[3] "d".filters');
  });

  it('unknown network and unreadable file give a clear message', async () => {
    const a = await netadapt('arch', 'resnet-50');
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('unknown network "resnet-50"');
    const b = await netadapt('arch', '/nonexistent/net.json');
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('/nonexistent/net.json does not exist');
  });
});
