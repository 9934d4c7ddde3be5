/** The CLI search tests' fixture: the tint network's JSON file in `dir` and a one-epoch super-network in dir/supernet. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNetworkSpec } from '../../../core/arch/index.ts';
import { openDataset } from '../../../core/data/open.ts';
import { SupernetTrainer } from '../../../core/supernet/training/supernet-trainer.ts';
import { tintSpecInput } from '../../core/supernet/training/final-fixture.ts';
import { useTestBackend } from '../../core/supernet/backend.ts';

/** A synthetic 3-class set the tint network learns in one epoch (the search configs name it as their dataset). */
export const TINT_CLI_DATASET = { type: 'synthetic-classification', size: 8, classes: 3, trainSize: 96, heldoutSize: 48, testSize: 32, seed: 2, difficulty: 0 };

export async function trainTintSupernet(dir: string, name: string): Promise<void> {
  await useTestBackend();
  const networkInput = tintSpecInput(3, name);
  writeFileSync(join(dir, 'net.json'), JSON.stringify(networkInput));
  const trainer = SupernetTrainer.create({
    spec: parseNetworkSpec(networkInput as never),
    dataset: await openDataset(TINT_CLI_DATASET as never),
    outDir: join(dir, 'supernet'),
    config: { epochs: 1, batchSize: 16, seed: 1, optimizer: 'sgd', lr: 0.05, orderedDropout: true },
  });
  await trainer.run();
  trainer.dispose();

}
