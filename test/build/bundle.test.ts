import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../build/bundle.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Two folders below the root, like dist/cli, so paths relative to the bundle resolve as they do there.
let outdir = '';

beforeAll(async () => {
  outdir = mkdtempSync(path.join(root, 'dist', 'test-cli-'));
  await buildCli(outdir);
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });

describe('CLI bundle (build/bundle.ts)', () => {
  it('prints the same top-level help as the CLI run from source', () => {
    const fromBundle = node([path.join(outdir, 'main.js'), '--help']);
    const fromSource = node(['--import', 'tsx', path.join(root, 'app/cli/main.ts'), '--help']);
    expect(fromBundle).toContain('train-supernet');
    expect(fromBundle).toBe(fromSource);
  }, 60_000);

  it('runs a command, loading only its module', () => {
    const out = node([path.join(outdir, 'main.js'), 'arch', 'mobilenet-v3-demo-32']);
    expect(out).toContain('conv_head');
  }, 60_000);

  it('starts the bundled job worker and runs a registry job in it', async () => {
    const worker = new Worker(pathToFileURL(path.join(outdir, 'job-worker.js')));
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        worker.on('message', (m: { type: string; result?: unknown; error?: { message: string } }) => {
          if (m.type === 'done') resolve(m.result);
          else if (m.type === 'error') reject(new Error(m.error?.message));
        });
        worker.on('error', reject);
        worker.postMessage({ type: 'start', task: { job: 'sampleSearchSpace', params: { network: 'mobilenet-v3-demo-32', samples: 20, seed: 1 } } });
      });
      expect(result).toMatchObject({ points: expect.any(Array) });
    } finally {
      await worker.terminate();
    }
  }, 60_000);
});
