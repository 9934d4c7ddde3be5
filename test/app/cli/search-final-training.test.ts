/** `netadapt search` with "finalTraining" (app/cli/commands/search.ts): the discovered network is trained, exported and reported. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../../app/cli/commands/search.ts';
import { runCommand } from './run-command.ts';
import { TINT_CLI_DATASET, trainTintSupernet } from './tint-supernet.ts';
import { openDataset } from '../../../core/data/open.ts';
import { loadTfliteRuntime } from '../../../core/export/runtime/litert.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-final-'));
const dataset = TINT_CLI_DATASET;

const netadapt = (...args: string[]): Promise<string> => runCommand(register, args);

beforeAll(async () => {
  await trainTintSupernet(dir, 'cli-final-net');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

describe('netadapt search with finalTraining', () => {
  it('trains the discovered network after the search, writes its .tflite and adds the scores to the reports', async () => {
    const config = join(dir, 'search.json');
    writeFileSync(config, JSON.stringify({
      network: join(dir, 'net.json'), dataset, metric: 'macs', target: '50%', J: 3, L: 2, reduction: '15%', seed: 3,
      workspace: 'ws.sqlite', output: 'out', checkpoint: './supernet', evaluator: { kind: 'supernet', calibrationBatches: 2 },
      finalTraining: { mode: 'supernet', steps: 6, distill: true, batchSize: 16 },
    }));
    const out = await netadapt('search', '--config', config, '--quiet');
    expect(out).toMatch(/^done:/m);
    expect(out).toMatch(/final held-out score: \d\.\d{4} \(top-1 [\d.]+%\), before the final training \d\.\d{4}/);
    expect(out).toMatch(/final test score: \d\.\d{4}/);
    const network = JSON.parse(readFileSync(join(dir, 'out', 'network.json'), 'utf8')) as { finalTraining?: { steps: number; mode: string; tflite: string } };
    expect(network.finalTraining?.steps).toBe(6);
    expect(network.finalTraining?.mode).toBe('supernet');
    expect(existsSync(join(dir, 'out', 'network-trained.tflite'))).toBe(true);
    expect(readFileSync(join(dir, 'out', 'network-trained.tflite')).subarray(4, 8).toString()).toBe('TFL3');
    expect(readFileSync(join(dir, 'out', 'report.md'), 'utf8')).toContain('**final held-out score**');
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toContain('final test score');

    // The .tflite computes what was scored: LiteRT on the test split agrees with the reported test score (the BN
    // statistics the score recalibrated are the ones exported), to within one image of floating-point ties.
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'final-training', 'summary.json'), 'utf8')) as { test: { score: number } };
    const model = await (await loadTfliteRuntime()).load(new Uint8Array(readFileSync(join(dir, 'out', 'network-trained.tflite'))));
    const test = (await openDataset(dataset as never)).split('test');
    let correct = 0;
    for (let i = 0; i < test.size; i++) {
      const sample = test.get(Int32Array.of(i));
      const logits = (await model.run([sample.images]))[0] as Float32Array;
      if (logits.indexOf(Math.max(...logits)) === (sample.labels as Int32Array)[0]) correct++;
    }
    model.close();
    expect(Math.abs(correct - summary.test.score * test.size)).toBeLessThanOrEqual(1);

    // --resume of the finished run finds the finished final training and reports the same scores.
    const runId = /search run (\S+)/.exec(out)?.[1] as string;
    const again = await netadapt('search', '--resume', runId, '--workspace', join(dir, 'ws.sqlite'), '--quiet');
    const score = (text: string) => /final held-out score: (\S+)/.exec(text)?.[1];
    expect(score(again)).toBe(score(out));
  }, 60_000);

  it('rejects a finalTraining without the super-network checkpoint it needs', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ network: join(dir, 'net.json'), dataset, target: '50%', evaluator: { kind: 'synthetic' }, finalTraining: { mode: 'trajectory' } }));
    await expect(netadapt('search', '--config', config)).rejects.toThrow(/needs "checkpoint"/);
  });
});

describe('netadapt search in NetAdaptV1 mode (fineTuneSteps)', () => {
  it('uses the default fine-tuner: every sample is fine-tuned from the checkpoint\'s network, and its bases are saved for resuming', async () => {
    const config = join(dir, 'v1.json');
    writeFileSync(config, JSON.stringify({
      network: join(dir, 'net.json'), dataset, metric: 'macs', target: '50%', algorithm: 'scd', reduction: '20%', seed: 3,
      workspace: 'v1.sqlite', output: 'v1-out', checkpoint: './supernet', fineTuneSteps: 2, fineTune: { batchSize: 16 },
    }));
    const out = await netadapt('search', '--config', config, '--quiet');
    expect(out).toMatch(/^done:/m);
    const runId = /search run (\S+)/.exec(out)?.[1] as string;
    const workspace = openWorkspace(join(dir, 'v1.sqlite'));
    const samples = new SqliteRunStore(workspace).getSamples(runId);
    workspace.close();
    expect(samples.length).toBeGreaterThan(1);
    for (const s of samples) expect(s.metrics?.['fineTuneSteps']).toBe(s.iteration < 0 ? 0 : 2);
    expect(existsSync(join(dir, 'finetune-state'))).toBe(true);
  }, 60_000);
});
