/** Folded inference weights of a sub-network, sliced from a super-network checkpoint. */
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import type { FoldedWeights } from '../weights/folded.ts';

/**
 * Loads the checkpoint (its loader refuses one of another network, naming the layer), slices the shared weights to
 * the sub-network and folds batch norm. tfjs is imported lazily: exporting with random weights never loads it.
 */
export async function loadCheckpointWeights(checkpointDir: string, spec: NetworkSpec, subnet: SubnetConfig | undefined): Promise<FoldedWeights> {
  const [{ initBackend }, { loadSupernetWeights }, { foldedWeights }] = await Promise.all([
    import('../tensor/backend.ts'),
    import('./evaluate.ts'),
    import('./materialize.ts'),
  ]);
  await initBackend();
  const weights = loadSupernetWeights(checkpointDir, spec);
  try {
    return foldedWeights(weights, subnet);
  } finally {
    weights.dispose();
  }
}
