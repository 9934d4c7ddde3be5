/**
 * The test step: the full network and the discovered network scored on the test split (data the search never saw)
 * with a checkpoint's weights, BN recalibrated on the training split.
 */
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import type { Evaluation } from '../../core/supernet/evaluate.ts';

export interface TestScores {
  full: Evaluation;
  discovered: Evaluation;
}

export async function testScoreStep(input: { spec: NetworkSpec; checkpoint: string; dataset: Dataset; subnet: SubnetConfig; calibrationBatches?: number }): Promise<TestScores> {
  const { loadSupernetEvaluator } = await import('../../core/supernet/evaluate.ts');
  const evaluator = loadSupernetEvaluator(input.checkpoint, input.spec, input.dataset, { split: 'test', calibrationBatches: input.calibrationBatches ?? 5 });
  try {
    return { full: await evaluator.evaluate(), discovered: await evaluator.evaluate(input.subnet) };
  } finally {
    evaluator.dispose();
  }
}
