/** Folded inference weights of a sub-network, sliced from a super-network checkpoint (core/supernet). */
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import { UserError } from '../errors.ts';
import type { FoldedWeights } from '../weights/folded.ts';

export async function loadCheckpointWeights(
  _checkpointDir: string,
  _spec: NetworkSpec,
  _subnet: SubnetConfig | undefined,
): Promise<FoldedWeights> {
  throw new UserError('exporting from a checkpoint needs core/supernet, which this build does not include yet');
}
