/**
 * `netadapt search` on int8 latency (issue 21): the host's int8 latency table (profiled lazily), a search to 70% of
 * the initial int8 latency, a short final training, then the discovered network exported as int8 and as float and
 * both scored in LiteRT on the test split (pipeline/steps/int8.ts), in the reports.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../../app/cli/commands/search.ts';
import { parseNetworkSpec } from '../../../core/arch/index.ts';
import { openDataset } from '../../../core/data/open.ts';
import { readTfliteModel } from '../../../core/export/tflite/reader.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { SupernetTrainer } from '../../../core/supernet/training/supernet-trainer.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { tintSpecInput } from '../../core/supernet/training/final-fixture.ts';
import { useTestBackend } from '../../core/supernet/backend.ts';
import { runCommand } from './run-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-int8-'));
const networkInput = tintSpecInput(3, 'cli-int8-net');
const dataset = { type: 'synthetic-classification', size: 8, classes: 3, trainSize: 96, heldoutSize: 48, testSize: 32, seed: 2, difficulty: 0 };

beforeAll(async () => {
  await useTestBackend();
  writeFileSync(join(dir, 'net.json'), JSON.stringify(networkInput));
  const trainer = SupernetTrainer.create({
    spec: parseNetworkSpec(networkInput as never),
    dataset: await openDataset(dataset as never),
    outDir: join(dir, 'supernet'),
    config: { epochs: 1, batchSize: 16, seed: 1, optimizer: 'sgd', lr: 0.05, orderedDropout: true },
  });
  await trainer.run();
  trainer.dispose();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('netadapt search on int8 latency', () => {
  it('searches on the int8 table, then exports the trained network as int8 and float and scores both in LiteRT', async () => {
    const config = join(dir, 'search.json');
    writeFileSync(config, JSON.stringify({
      network: join(dir, 'net.json'), dataset, metric: 'latency-lut', latency: { device: 'host', dtype: 'int8', lazyProfiling: true },
      target: '70%', J: 3, L: 2, reduction: '15%', seed: 3, workspace: 'ws.sqlite', output: 'out', checkpoint: './supernet',
      evaluator: { kind: 'supernet', calibrationBatches: 2 }, finalTraining: { mode: 'supernet', steps: 6, batchSize: 16 }, int8: { calibrationImages: 32 },
    }));
    const out = await runCommand(register, ['search', '--config', config, '--quiet']);
    expect(out).toMatch(/^done:/m);
    const workspace = openWorkspace(join(dir, 'ws.sqlite'));
    try {
      const tables = new LatencyStore(workspace).listTables();
      expect(tables).toHaveLength(1);
      expect(tables[0]?.runtimeOptions).toContain('dtype=int8');
    } finally {
      workspace.close();
    }
    const int8Model = readTfliteModel(new Uint8Array(readFileSync(join(dir, 'out', 'network-int8.tflite'))));
    expect(int8Model.subgraphs[0]?.tensors.filter((t) => t.name.endsWith('/weights')).every((t) => t.type === 'int8')).toBe(true);
    expect(existsSync(join(dir, 'out', 'network-float.tflite'))).toBe(true);
    const network = JSON.parse(readFileSync(join(dir, 'out', 'network.json'), 'utf8')) as {
      finalTraining?: { int8?: { split: string; int8: { score: number }; float: { score: number }; calibrationImages: number } };
    };
    const int8 = network.finalTraining?.int8;
    expect(int8?.split).toBe('test');
    expect(int8?.calibrationImages).toBe(32);
    expect(Math.abs((int8?.int8.score ?? 0) - (int8?.float.score ?? 1))).toBeLessThanOrEqual(0.1);
    expect(readFileSync(join(dir, 'out', 'report.md'), 'utf8')).toMatch(/\*\*int8 model \(LiteRT\)\*\*.*test top-1 [\d.]+% vs float top-1 [\d.]+%/);
  }, 90_000);

  it('refuses "int8" without the final training whose weights it exports', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ network: join(dir, 'net.json'), dataset, target: '50%', evaluator: { kind: 'synthetic' }, int8: {} }));
    await expect(runCommand(register, ['search', '--config', config])).rejects.toThrow(/"int8" exports the final-trained network: it needs "finalTraining"/);
  });
});
