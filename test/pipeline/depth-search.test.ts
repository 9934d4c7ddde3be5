/**
 * Issue #6 item 6, depth task: a tiny end-to-end search of a FastDepth-style network on the synthetic depth set —
 * a briefly trained super-network, MCD on MACs to 80 % of the full network, every sample scored by the
 * super-network evaluator with held-out δ1 (RMSE kept in the sample's metrics).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork } from '../../core/arch/index.ts';
import { openDataset } from '../../core/data/open.ts';
import { parseSearchConfig } from '../../pipeline/config.ts';
import { openSearchParts } from '../../pipeline/search-parts.ts';
import { SearchOptimizer } from '../../core/search/optimizer.ts';
import { trainSupernet } from '../../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../../core/tensor/backend.ts';
import { memoryStore } from '../core/search/helpers.ts';

const NETWORK = 'fastdepth-64';
const DATASET = 'synthetic-depth?size=64&trainSize=32&heldoutSize=16&testSize=0';
const HELDOUT_IMAGES = 16;
let dir = '';
let checkpoint = '';

beforeAll(async () => {
  await initBackend();
  const dataset = await openDataset(DATASET);
  dir = mkdtempSync(join(tmpdir(), 'depth-search-'));
  checkpoint = join(dir, 'ckpt');
  await trainSupernet({ spec: loadNetwork(NETWORK), dataset, config: { epochs: 1, batchSize: 16 }, outDir: checkpoint });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('depth estimation: end-to-end tiny MCD search with the super-network evaluator', () => {
  it('reaches 80 % of the MACs, every sample meets its iteration target, scores are held-out δ1 with RMSE recorded', async () => {
    const config = parseSearchConfig({
      network: NETWORK,
      dataset: DATASET,
      metric: 'macs',
      target: '80%',
      J: 2,
      L: 4,
      reduction: '10%',
      seed: 3,
      checkpoint,
      evaluator: { kind: 'supernet', calibrationBatches: 1, calibrationBatchSize: 16 },
    });
    const context = await openSearchParts(config);
    try {
      expect(context.scoreLabel).toBe('held-out δ1 accuracy');
      const store = memoryStore();
      const optimizer = new SearchOptimizer({ spec: context.spec, metric: context.metric, evaluator: context.evaluator, store });
      const result = await optimizer.start(context.params, config);

      expect(result.status).toBe('done');
      expect(result.best.resource).toBeLessThanOrEqual(result.finalTarget);
      expect(result.finalTarget).toBeCloseTo(0.8 * result.initialResource, 0);
      const iterations = store.listIterations(result.runId).filter((it) => it.iteration >= 0);
      expect(iterations.length).toBeGreaterThan(0);
      const samples = store.getSamples(result.runId);
      let searched = 0;
      for (const sample of samples) {
        expect(sample.score).not.toBeNull();
        const score = sample.score as number;
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        expect(sample.metrics?.delta1).toBe(score);
        expect(Number.isFinite(sample.metrics?.rmse)).toBe(true);
        expect(sample.metrics?.rmse).toBeGreaterThan(0);
        expect(sample.metrics?.images).toBe(HELDOUT_IMAGES);
        expect(sample.metrics?.macs).toBe(sample.resource);
        if (sample.iteration < 0) continue;
        searched++;
        const iteration = iterations.find((it) => it.iteration === sample.iteration);
        expect(iteration).toBeDefined();
        expect(sample.resource).toBeLessThanOrEqual((iteration as { target: number }).target);
      }
      expect(searched).toBeGreaterThanOrEqual(iterations.length);
      // The best of each iteration is the highest-scored of its samples.
      for (const it of iterations) {
        const ofIt = samples.filter((s) => s.iteration === it.iteration);
        const best = ofIt.find((s) => s.index === it.bestIndex);
        expect(best?.score).toBe(Math.max(...ofIt.map((s) => s.score as number)));
      }
    } finally {
      context.dispose();
    }
  }, 60_000);
});
