import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../../app/cli/commands/train-supernet.ts';
import { checkpointExists, loadCheckpoint } from '../../../core/supernet/checkpoint.ts';
import { smallSpecInput } from '../../core/supernet/fixtures.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'supernet-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command().exitOverride();
  register(program);
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
  try {
    await program.parseAsync(['node', 'netadapt', ...args]);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return { out, err };
}

describe('netadapt train-supernet', () => {
  it('trains, checkpoints, summarizes, and resumes to more epochs', async () => {
    const network = path.join(tmp, 'net.json');
    fs.writeFileSync(network, JSON.stringify(smallSpecInput));
    const out = path.join(tmp, 'ckpt');
    const data = 'synthetic?size=16&classes=5&trainSize=64&heldoutSize=16&testSize=0';
    const common = ['train-supernet', '--network', network, '--data', data, '--out', out, '--backend', 'wasm'];
    const first = await run([...common, '--epochs', '1', '--batch', '16', '--seed', '3']);
    expect(first.err).toContain('small-test on synthetic-classification: 1 epochs × 4 steps of 16 images');
    expect(first.out).toMatch(/full network +held-out top-1 \d+\.\d%/);
    expect(first.out).toMatch(/smallest subnet +held-out top-1/);
    expect(checkpointExists(out)).toBe(true);
    expect((loadCheckpoint(out).state as { step: number }).step).toBe(4);
    await expect(run([...common, '--epochs', '2'])).rejects.toThrow(/already holds a checkpoint/);
    const second = await run([...common, '--epochs', '2', '--resume']);
    expect(second.err).toContain('resuming at step 4');
    expect((loadCheckpoint(out).state as { step: number }).step).toBe(8);
  });

  it('passes --depth-sampling, --grad-clip and --removal-share into the checkpointed config, and names a bad value', async () => {
    const network = path.join(tmp, 'net2.json');
    fs.writeFileSync(network, JSON.stringify(smallSpecInput));
    const out = path.join(tmp, 'ckpt2');
    const data = 'synthetic?size=16&classes=5&trainSize=32&heldoutSize=16&testSize=0';
    const common = ['train-supernet', '--network', network, '--data', data, '--out', out, '--backend', 'wasm', '--epochs', '1', '--batch', '16'];
    await expect(run([...common, '--depth-sampling', 'sometimes'])).rejects.toThrow(/--depth-sampling must be one of coherent, random, single, multi \(got "sometimes"\)/);
    await run([...common, '--depth-sampling', 'random', '--grad-clip', '2', '--removal-share', '0.5']);
    const config = (loadCheckpoint(out).state as { info: { config: { depthSampling: string; gradClipNorm: number; removalShare: number } } }).info.config;
    expect(config.depthSampling).toBe('random');
    expect(config.gradClipNorm).toBe(2);
    expect(config.removalShare).toBe(0.5);
  });
});
