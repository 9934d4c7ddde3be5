/**
 * Bad data: datasets that cannot train or score the network (one class, a one-output classifier, unknown dataset
 * specs, missing folders, corrupt images). Refused before training starts; the checkpoint folder is never created.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { zooSpec } from '../../core/arch/zoo/index.ts';
import { cli, expectRefused } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'bad-input-data-'));
const oneClass = join(dir, 'one-class');
const broken = join(dir, 'broken');
let oneOutput: string;

async function png(path: string, shade: number): Promise<void> {
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: shade, g: 0, b: 0 } } }).png().toFile(path);
}

beforeAll(async () => {
  mkdirSync(join(oneClass, 'cats'), { recursive: true });
  for (let i = 0; i < 6; i++) await png(join(oneClass, 'cats', `${i}.png`), 20 * i);
  mkdirSync(join(broken, 'a'), { recursive: true });
  mkdirSync(join(broken, 'b'), { recursive: true });
  await png(join(broken, 'a', 'fine.png'), 10);
  writeFileSync(join(broken, 'b', 'bad.png'), 'not an image');
  const spec = structuredClone(zooSpec('mobilenet-v1-32')) as { name: string; layers: { units?: number }[] };
  spec.name = 'one-output';
  (spec.layers.at(-1) as { units: number }).units = 1;
  oneOutput = join(dir, 'one-output.json');
  writeFileSync(oneOutput, JSON.stringify(spec));
});

/** train-supernet with tiny settings; the refusal must come before its checkpoint folder exists. */
async function train(network: string, data: string, ...more: string[]) {
  const out = join(dir, `ckpt-${Math.random().toString(36).slice(2)}`);
  const outcome = await cli('train-supernet', '--network', network, '--data', data, '--epochs', '1', '--batch', '4', '--out', out, '--backend', 'cpu', ...more);
  expect(existsSync(out)).toBe(false);
  return outcome;
}

describe('bad data for training', () => {
  it('a one-class image folder (with a one-output network too)', async () => {
    expectRefused(await train(oneOutput, `folder:${oneClass}`), /image folder .*one-class has only one class folder \("cats"\): classification needs at least two/);
  });

  it('a one-output classifier on a 10-class dataset', async () => {
    expectRefused(await train(oneOutput, 'synthetic?trainSize=16&heldoutSize=4&testSize=4'), /network "one-output" has 1 output: a classifier needs at least 2 outputs/);
  });

  it('a synthetic dataset with one class', async () => {
    expectRefused(await train('mobilenet-v1-32', 'synthetic?classes=1'), /classes must be ≥ 2/);
  });

  it('an unknown dataset type and a missing folder', async () => {
    expectRefused(await train('mobilenet-v1-32', 'imagenet:/data'), /unknown dataset type "imagenet"/);
    expectRefused(await train('mobilenet-v1-32', `folder:${join(dir, 'nowhere')}`), /image folder not found: .*nowhere/);
    expectRefused(await train('mobilenet-v1-32', `cifar10:${join(dir, 'nowhere')}`), /nowhere/);
  });

  it('a corrupt image names the file', async () => {
    expectRefused(await train('mobilenet-v1-32', `folder:${broken}`), /bad\.png/);
  });

  it('a depth dataset for a classifier', async () => {
    expectRefused(await train('mobilenet-v1-32', 'synthetic-depth?size=32&trainSize=8&heldoutSize=4&testSize=4'), /is a depth dataset but network "mobilenet-v1-32" is for classification/);
  });
});
