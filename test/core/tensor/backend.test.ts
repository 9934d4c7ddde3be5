import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { candidateOrder, resolvePreference } from '../../../core/tensor/backend.ts';
import { ValidationError } from '../../../core/errors.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/print-backend.ts', import.meta.url));

interface FixtureOutput {
  name: string;
  activeBackend: string;
  description: string;
  sameOnSecondCall: boolean;
  sum: number;
  logs: string[];
}

/** Each run is a fresh process: the backend choice is once per process by design. */
async function runFixture(opts: object, backendEnv?: string): Promise<FixtureOutput> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NETADAPT_BACKEND'];
  if (backendEnv !== undefined) env['NETADAPT_BACKEND'] = backendEnv;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', FIXTURE, JSON.stringify(opts)],
    { env, encoding: 'utf8', timeout: 90_000 },
  );
  return JSON.parse(stdout) as FixtureOutput;
}

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('resolvePreference', () => {
  it('uses NETADAPT_BACKEND only when the caller asked for auto', () => {
    expect(resolvePreference(undefined, { NETADAPT_BACKEND: 'cpu' })).toBe('cpu');
    expect(resolvePreference('auto', { NETADAPT_BACKEND: ' WASM ' })).toBe('wasm');
    expect(resolvePreference('node', { NETADAPT_BACKEND: 'cpu' })).toBe('node');
    expect(resolvePreference(undefined, {})).toBe('auto');
  });

  it('rejects an unknown NETADAPT_BACKEND with a message listing the valid values', () => {
    expect(() => resolvePreference(undefined, { NETADAPT_BACKEND: 'gpu' })).toThrow(ValidationError);
    expect(() => resolvePreference(undefined, { NETADAPT_BACKEND: 'gpu' })).toThrow(/node, wasm, cpu/);
  });
});

describe('candidateOrder', () => {
  it('falls back along node → wasm → cpu from the preferred backend', () => {
    expect(candidateOrder('auto')).toEqual(['node', 'wasm', 'cpu']);
    expect(candidateOrder('node')).toEqual(['node', 'wasm', 'cpu']);
    expect(candidateOrder('wasm')).toEqual(['wasm', 'cpu']);
    expect(candidateOrder('cpu')).toEqual(['cpu']);
  });
});

describe('initBackend (each case in a fresh process)', () => {
  let auto: FixtureOutput;
  let cpuFromEnv: FixtureOutput;
  let missingWasm: FixtureOutput;
  beforeAll(async () => {
    [auto, cpuFromEnv, missingWasm] = await Promise.all([
      runFixture({}),
      runFixture({}, 'cpu'),
      runFixture({ prefer: 'wasm', wasmDir: '/nonexistent-wasm-dir' }),
    ]);
  });

  it('auto: picks tfjs-node if installed, else wasm, logs the choice, and is idempotent', () => {
    const out = auto;
    const expected = tfjsNodeInstalled() ? 'tensorflow' : 'wasm';
    expect(out.name).toBe(expected);
    expect(out.activeBackend).toBe(expected);
    expect(out.sameOnSecondCall).toBe(true);
    expect(out.sum).toBe(6);
    expect(out.logs.filter((l) => l.startsWith('tensor backend:'))).toEqual([`tensor backend: ${out.description}`]);
    if (expected === 'wasm') {
      expect(out.description).toMatch(/^wasm \(SIMD, 1 thread\)$/);
      expect(out.logs.some((l) => l.includes('tfjs-node not available'))).toBe(true);
    }
  });

  it('NETADAPT_BACKEND=cpu overrides auto', () => {
    const out = cpuFromEnv;
    expect(out.name).toBe('cpu');
    expect(out.activeBackend).toBe('cpu');
  });

  it('falls back to cpu when the wasm binaries are missing', () => {
    const out = missingWasm;
    expect(out.name).toBe('cpu');
    expect(out.logs.some((l) => l.includes('wasm backend binaries not found'))).toBe(true);
    expect(out.sum).toBe(6);
  });
});
