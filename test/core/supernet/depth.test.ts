import { beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork } from '../../../core/arch/index.ts';
import { syntheticDepth } from '../../../core/data/synthetic-depth.ts';
import { createSupernetEvaluator } from '../../../core/supernet/evaluate.ts';
import { SupernetTrainer } from '../../../core/supernet/training/supernet-trainer.ts';
import { useTestBackend } from './backend.ts';

beforeAll(async () => {
  await useTestBackend();
});

describe('depth super-network (fastdepth-64)', () => {
  it('trains with the berHu loss on log-depth and is scored by δ1 and RMSE', async () => {
    const spec = loadNetwork('fastdepth-64');
    const dataset = syntheticDepth({ size: 64, trainSize: 16, heldoutSize: 8, testSize: 0 });
    const trainer = SupernetTrainer.create({ spec, dataset, config: { epochs: 1, batchSize: 8, depthLoss: 'berhu' } });
    await trainer.run();
    expect(trainer.losses).toHaveLength(2);
    for (const loss of trainer.losses) expect(Number.isFinite(loss) && loss > 0).toBe(true);
    const evaluator = createSupernetEvaluator({ weights: trainer.weights, dataset, calibrationBatches: 1, calibrationBatchSize: 8 });
    const result = await evaluator.evaluate();
    expect(result.score).toBe(result.metrics['delta1']);
    expect(result.score).toBeGreaterThanOrEqual(0);
    expect(result.score).toBeLessThanOrEqual(1);
    expect(result.metrics['rmse']).toBeGreaterThan(0);
    evaluator.dispose();
    trainer.dispose();
  });
});
