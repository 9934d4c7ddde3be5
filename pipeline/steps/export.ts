/**
 * The export step: a (sub-)network as a .tflite model, with the trained weights of a checkpoint folder (sliced and BN
 * folded) or random weights of the right shapes (good only for latency measurement). Every face exports through it.
 */
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import { resolveNetwork } from '../../core/arch/index.ts';
import { exportNetwork, type ExportOptions } from '../../core/export/network.ts';
import { randomFoldedWeights } from '../../core/export/random-weights.ts';
import { writeFileAtomically } from '../../core/fs-errors.ts';

export interface ExportStepInput {
  spec: NetworkSpec;
  subnet?: SubnetConfig;
  /** Checkpoint folder of the weights; absent: random weights from `seed`. */
  checkpoint?: string;
  seed?: number;
  out: string;
  options?: ExportOptions;
}

export interface ExportStepResult {
  path: string;
  bytes: number;
  macs: number;
  params: number;
  weights: 'checkpoint' | 'random';
}

export async function exportStep(input: ExportStepInput): Promise<ExportStepResult> {
  const network = resolveNetwork(input.spec, input.subnet);
  let weights;
  if (input.checkpoint !== undefined) {
    const { loadCheckpointWeights } = await import('../../core/supernet/checkpoint-weights.ts');
    weights = await loadCheckpointWeights(input.checkpoint, input.spec, input.subnet);
  } else {
    weights = randomFoldedWeights(network, input.seed ?? 1);
  }
  const bytes = exportNetwork(network, weights, input.options ?? {});
  writeFileAtomically(input.out, bytes, 'the model file');
  return { path: input.out, bytes: bytes.byteLength, macs: network.macs, params: network.params, weights: input.checkpoint !== undefined ? 'checkpoint' : 'random' };
}
