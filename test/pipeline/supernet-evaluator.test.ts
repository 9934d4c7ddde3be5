/**
 * End to end with the real super-network evaluator (core/supernet): a briefly trained checkpoint of a small
 * network, searched with MCD; and the loader's error for a checkpoint of another network.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork } from '../../core/arch/index.ts';
import { openDataset } from '../../core/data/open.ts';
import { parseSearchConfig } from '../../pipeline/config.ts';
import type { SearchConfigInput } from '../../pipeline/config.ts';
import { openSearchParts } from '../../pipeline/search-parts.ts';
import { SearchOptimizer } from '../../core/search/optimizer.ts';
import { trainSupernet } from '../../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../../core/tensor/backend.ts';
import { memoryStore } from '../core/search/helpers.ts';

const DATASET = 'synthetic?trainSize=32&heldoutSize=48&testSize=0&size=32&classes=10';
let checkpoint = '';

beforeAll(async () => {
  await initBackend();
  const dataset = await openDataset(DATASET);
  checkpoint = join(mkdtempSync(join(tmpdir(), 'search-supernet-')), 'ckpt');
  await trainSupernet({ spec: loadNetwork('mobilenet-v1-32'), dataset, config: { epochs: 1, batchSize: 32 }, outDir: checkpoint });
});

const base = (): SearchConfigInput => ({
  network: 'mobilenet-v1-32',
  dataset: DATASET,
  target: '75%',
  J: 2,
  L: 4,
  reduction: '15%',
  checkpoint,
  evaluator: { kind: 'supernet', calibrationBatches: 1, calibrationBatchSize: 32 },
});

describe('search with the super-network evaluator', () => {
  it('scores samples with held-out top-1 accuracy of the shared weights and reaches the target', async () => {
    const config = parseSearchConfig(base());
    const context = await openSearchParts(config);
    try {
      expect(context.scoreLabel).toBe('held-out top-1 accuracy');
      const store = memoryStore();
      const optimizer = new SearchOptimizer({ spec: context.spec, metric: context.metric, evaluator: context.evaluator, store });
      const result = await optimizer.start(context.params, config);
      expect(result.status).toBe('done');
      for (const sample of store.getSamples(result.runId)) {
        expect(sample.score).toBeGreaterThanOrEqual(0);
        expect(sample.score).toBeLessThanOrEqual(1);
        expect(sample.metrics?.macs).toBe(sample.resource);
        expect(sample.metrics?.images).toBe(48);
      }
    } finally {
      context.dispose();
    }
  });

  it('a checkpoint of another network is refused by the super-network loader', async () => {
    await expect(openSearchParts(parseSearchConfig({ ...base(), network: 'mobilenet-v2-32' }))).rejects.toThrow(/does not match the network/);
  });
});
