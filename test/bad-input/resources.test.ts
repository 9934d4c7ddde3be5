/**
 * Limits from resources: a network and batch that cannot fit this computer's memory are refused before training,
 * evaluation or export starts, with the estimate and the limit in the message (nothing allocated, nothing written).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zooSpec } from '../../core/arch/zoo/index.ts';
import { cli, expectRefused, listing } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'bad-input-resources-'));
/** MobileNetV1 0.5 at 2048×2048: inside the network-file limits, ~0.5 GB of layer outputs per image. */
const large = join(dir, 'mnv1-2048.json');
const spec = structuredClone(zooSpec('mobilenet-v1-32')) as { name: string; input: { height: number; width: number } };
spec.name = 'mnv1-2048';
spec.input.height = 2048;
spec.input.width = 2048;
writeFileSync(large, JSON.stringify(spec));

describe('memory limits before work starts', () => {
  it('training at a batch whose activations cannot fit', async () => {
    const out = join(dir, 'ckpt');
    const outcome = await cli('train-supernet', '--network', large, '--data', 'synthetic?trainSize=8&heldoutSize=4&testSize=4', '--batch', '256', '--out', out, '--backend', 'cpu');
    expectRefused(outcome, /network "mnv1-2048" needs about [\d.]+ GB of memory for training at batch 256, more than this computer's [\d.]+ GB/);
    expect(outcome.stderr).toMatch(/layer outputs [\d.]+ MB per image/);
    expect(outcome.stderr).toMatch(/use a smaller batch size, a smaller input size or fewer filters/);
    expect(existsSync(out)).toBe(false);
  });

  it('a search whose super-network evaluator batch cannot fit', async () => {
    const config = join(dir, 'search.json');
    writeFileSync(config, JSON.stringify({
      network: large, target: '50%', dataset: 'synthetic?trainSize=8&heldoutSize=4&testSize=4', checkpoint: join(dir, 'ckpt'),
      evaluator: { kind: 'supernet', batchSize: 4096 }, workspace: join(dir, 'ws.sqlite'), output: join(dir, 'out'),
    }));
    const before = listing(dir);
    expectRefused(await cli('search', '--config', config, '--quiet'), /needs about [\d.]+ (GB|TB) of memory for evaluation at batch 4096/);
    expect(listing(dir)).toEqual(before);
  });

  it('the API caps what it accepts and names the cap', async () => {
    const config = join(dir, 'j.json');
    writeFileSync(config, JSON.stringify({ network: 'mobilenet-v1-32', target: '50%', J: 1e12, evaluator: { kind: 'synthetic' }, workspace: join(dir, 'ws2.sqlite') }));
    const started = Date.now();
    expectRefused(await cli('search', '--config', config), /J: must be a whole number from 1 to 10,000/);
    expect(Date.now() - started).toBeLessThan(5000); // refused up front, not after minutes of work
    expect(existsSync(join(dir, 'ws2.sqlite'))).toBe(false);
  });
});
