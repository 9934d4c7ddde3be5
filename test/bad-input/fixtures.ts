/** A scratch folder with a real workspace (one finished synthetic search) that bad inputs must leave unchanged. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './harness.ts';

export interface Scratch {
  dir: string;
  workspace: string;
  /** Writes `value` as JSON into dir/name and returns its path. */
  json(name: string, value: unknown): string;
  /** A valid synthetic search config on the workspace, with `changes` applied (undefined deletes a key). */
  config(name: string, changes?: Record<string, unknown>): string;
}

export const BASE_CONFIG = {
  network: 'mobilenet-v1-32',
  metric: 'macs',
  target: '60%',
  J: 6,
  L: 3,
  reduction: 0.1,
  evaluator: { kind: 'synthetic', seed: 3 },
  workspace: './ws.sqlite',
  output: './out',
};

export async function scratchWithWorkspace(prefix: string): Promise<Scratch> {
  const dir = mkdtempSync(join(tmpdir(), `bad-input-${prefix}-`));
  const scratch: Scratch = {
    dir,
    workspace: join(dir, 'ws.sqlite'),
    json(name, value) {
      const path = join(dir, name);
      writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
      return path;
    },
    config(name, changes = {}) {
      const config: Record<string, unknown> = { ...BASE_CONFIG };
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) delete config[key];
        else config[key] = value;
      }
      return scratch.json(name, config);
    },
  };
  const made = await cli('search', '--config', scratch.config('good.json'), '--quiet');
  if (made.code !== 0) throw new Error(`the fixture search failed: ${made.stderr}`);
  return scratch;
}
