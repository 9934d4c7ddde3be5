import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { FileFormatError, UserError } from '../../../core/errors.ts';
import { lutCommand, register, registerLutIo } from '../../../app/cli/commands/lut-io.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { parseLutText } from '../../../latency/store/lut-format.ts';
import { OPTIONS, entry } from '../../latency/store/fixtures.ts';

// Tests of app/cli/commands/lut-io.ts.
const dir = mkdtempSync(join(tmpdir(), 'netadapt-lut-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function program(): Command {
  const p = new Command('netadapt').exitOverride();
  register(p);
  return p;
}

async function run(args: string[]): Promise<string> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    await program().parseAsync(args, { from: 'user' });
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}

function workspaceWithTable(name: string, entries: number): string {
  const path = join(dir, name);
  const ws = openWorkspace(path);
  const store = new LatencyStore(ws);
  store.upsertDevice('fp-1', { model: 'Pixel' }, 'Pixel 1 (sailfish)');
  for (let i = 0; i < entries; i++) store.putEntry(entry('fp-1', i));
  ws.close();
  return path;
}

describe('netadapt lut export / import', () => {
  it('exports CSV and JSON (format from the extension or --format) and imports them into another workspace', async () => {
    const source = workspaceWithTable('source.sqlite', 12);
    const csvFile = join(dir, 'table.csv');
    const jsonFile = join(dir, 'table.out');
    expect(await run(['lut', 'export', '--device', 'fp-1', '--out', csvFile, '--workspace', source])).toMatch(/exported 12 entries of device fp-1 .*\(csv\)/);
    await run(['lut', 'export', '--device', 'fp-1', '--out', jsonFile, '--workspace', source, '--options', 'runs=50;threads=1;warmup=10;mask=f0']);
    expect(readFileSync(csvFile, 'utf8').startsWith('"device_id"')).toBe(true);
    expect(JSON.parse(readFileSync(jsonFile, 'utf8')).entries).toHaveLength(12);
    expect(existsSync(`${csvFile}.${process.pid}.tmp`)).toBe(false);

    const target = join(dir, 'target.sqlite');
    const first = await run(['lut', 'import', csvFile, '--workspace', target]);
    expect(first).toMatch(/into device fp-1 \(new device\)/);
    expect(first).toMatch(/12 inserted, 0 already present, 0 conflicting/);
    const second = await run(['lut', 'import', jsonFile, '--workspace', target]);
    expect(second).toMatch(/0 inserted, 12 already present/);

    const ws = openWorkspace(target);
    expect(new LatencyStore(ws).tableEntries('fp-1', OPTIONS)).toHaveLength(12);
    ws.close();
  });

  it('reports conflicts and replaces them only with --overwrite', async () => {
    const source = workspaceWithTable('conflict-source.sqlite', 3);
    const file = join(dir, 'conflict.json');
    await run(['lut', 'export', '--device', 'fp-1', '--out', file, '--workspace', source]);
    const target = workspaceWithTable('conflict-target.sqlite', 0);
    const ws = openWorkspace(target);
    new LatencyStore(ws).putEntry(entry('fp-1', 1, { meanUs: 400, medianUs: 400, minUs: 300, maxUs: 500 }));
    ws.close();
    const kept = await run(['lut', 'import', file, '--workspace', target]);
    expect(kept).toMatch(/2 inserted, 0 already present, 1 conflicting/);
    expect(kept).toMatch(/--overwrite/);
    const replaced = await run(['lut', 'import', file, '--workspace', target, '--overwrite']);
    expect(replaced).toMatch(/1 conflicting entries replaced/);
  });

  it('writes to standard output with --out -', async () => {
    const source = workspaceWithTable('stdout.sqlite', 2);
    const out = await run(['lut', 'export', '--device', 'fp-1', '--out', '-', '--format', 'csv', '--workspace', source]);
    expect(parseLutText(out).entries).toHaveLength(2);
  });

  it('gives user errors for an unknown device, a missing file and a bad file', async () => {
    const source = workspaceWithTable('errors.sqlite', 1);
    await expect(run(['lut', 'export', '--device', 'nope', '--out', join(dir, 'x.json'), '--workspace', source])).rejects.toThrow(UserError);
    await expect(run(['lut', 'import', join(dir, 'missing.csv'), '--workspace', source])).rejects.toThrow(FileFormatError);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'hello,world\n1,2\n');
    await expect(run(['lut', 'import', bad, '--workspace', source])).rejects.toThrow(/lacks the column/);
  });

  it('lets other modules attach subcommands to the same `lut` parent', () => {
    const p = new Command('netadapt');
    const lut = lutCommand(p);
    lut.command('show');
    registerLutIo(lutCommand(p));
    expect(p.commands.filter((c) => c.name() === 'lut')).toHaveLength(1);
    expect(lut.commands.map((c) => c.name()).sort()).toEqual(['export', 'import', 'show']);
  });
});
