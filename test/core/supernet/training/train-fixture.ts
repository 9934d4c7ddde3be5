import type { NetworkSpec } from '../../../../core/arch/index.ts';
import type { Dataset } from '../../../../core/data/dataset.ts';
import { syntheticClassification } from '../../../../core/data/synthetic-classification.ts';
import type { SupernetTrainConfig } from '../../../../core/supernet/training/config.ts';
import { smallSpec } from '../fixtures.ts';

/** A run small enough for unit tests: 16×16 images, 5 classes, 6 steps per epoch of 8 images. */
export function resumeFixture(): { spec: NetworkSpec; dataset: Dataset; config: Partial<SupernetTrainConfig> } {
  return {
    spec: smallSpec(),
    dataset: syntheticClassification({ size: 16, classes: 5, trainSize: 48, heldoutSize: 16, testSize: 0, seed: 3 }),
    config: { epochs: 2, batchSize: 8, seed: 7, lr: 0.01, kernelSampling: 'per-image' },
  };
}
