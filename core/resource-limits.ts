/**
 * Limits from resources: whether a network's weights and activations fit this computer's memory for what is about to
 * be done with it (export, evaluation, training at a batch size), checked before the work starts so that an absurd
 * network or batch is refused with the numbers instead of dying minutes later in the allocator.
 *
 * The estimates count float32 tensors: weights (training adds their gradients and two optimizer slots), and the
 * output of every layer per image (training keeps them for the backward pass and adds their gradients).
 */
import { totalmem } from 'node:os';
import { UserError } from './errors.ts';
import { formatBytes } from './fs-errors.ts';

/** A configuration or network needs more of a resource than this computer has (or than is sane). */
export class ResourceLimitError extends UserError {}

/**
 * Elements one tensor may have: 2^30 float32 values are 4 GiB, the whole address space of the WebAssembly backend
 * and more than any layer of a network this tool searches (MobileNetV3-Large's largest weights: 1.2M).
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** What these checks read of a resolved network (core/arch's ResolvedNetwork; shared modules do not import core/arch). */
export interface ResolvedNetwork {
  readonly spec: { readonly name: string };
  readonly params: number;
  readonly layers: readonly { readonly id: string; readonly params: number; readonly output: { readonly height: number; readonly width: number; readonly channels: number } }[];
}

export type NetworkUse =
  | { readonly purpose: 'export' }
  | { readonly purpose: 'evaluation' | 'training'; readonly batchSize: number };

export interface MemoryEstimate {
  weightBytes: number;
  /** Sum of every layer's output, per image. */
  activationBytesPerImage: number;
  largestTensor: { layer: string; kind: 'weights' | 'output'; elements: number };
}

export function estimateNetworkMemory(network: ResolvedNetwork): MemoryEstimate {
  let activationElements = 0;
  let largest: MemoryEstimate['largestTensor'] = { layer: '-', kind: 'weights', elements: 0 };
  for (const layer of network.layers) {
    const output = layer.output.height * layer.output.width * layer.output.channels;
    activationElements += output;
    if (layer.params > largest.elements) largest = { layer: layer.id, kind: 'weights', elements: layer.params };
    if (output > largest.elements) largest = { layer: layer.id, kind: 'output', elements: output };
  }
  return { weightBytes: network.params * 4, activationBytesPerImage: activationElements * 4, largestTensor: largest };
}

/** Bytes a use of the network needs, by the estimate above. */
export function requiredBytes(estimate: MemoryEstimate, use: NetworkUse): number {
  switch (use.purpose) {
    case 'export':
      return 2 * estimate.weightBytes; // the weights and the flatbuffer they are written into
    case 'evaluation':
      return estimate.weightBytes + use.batchSize * estimate.activationBytesPerImage;
    case 'training':
      return 4 * estimate.weightBytes + 3 * use.batchSize * estimate.activationBytesPerImage;
  }
}

const PURPOSE: Record<NetworkUse['purpose'], string> = { export: 'export', evaluation: 'evaluation', training: 'training' };

/**
 * Throws ResourceLimitError naming the limit when `network` cannot be used for `use` in `memoryBytes` (default: this
 * computer's memory): one tensor above MAX_TENSOR_ELEMENTS, or an estimate above the memory.
 */
export function checkNetworkFitsMemory(network: ResolvedNetwork, use: NetworkUse, memoryBytes = totalmem()): void {
  const estimate = estimateNetworkMemory(network);
  const name = `network "${network.spec.name}"`;
  const { largestTensor: largest } = estimate;
  if (largest.elements > MAX_TENSOR_ELEMENTS) {
    throw new ResourceLimitError(
      `${name} is too large: the ${largest.kind === 'weights' ? 'weights' : 'output'} of layer "${largest.layer}" would hold ${largest.elements.toExponential(2)} values, above the limit of ${MAX_TENSOR_ELEMENTS.toLocaleString('en-US')} (4 GiB of float32) for one tensor`,
      ['use fewer filters or a smaller input size in the network file'],
    );
  }
  if (use.purpose !== 'export' && (!Number.isInteger(use.batchSize) || use.batchSize < 1)) {
    throw new ResourceLimitError(`the batch size must be a whole number ≥ 1 (got ${use.batchSize})`);
  }
  const needed = requiredBytes(estimate, use);
  if (needed <= memoryBytes) return;
  const batch = use.purpose === 'export' ? '' : ` at batch ${use.batchSize}`;
  const perImage = formatBytes(estimate.activationBytesPerImage);
  throw new ResourceLimitError(
    `${name} needs about ${formatBytes(needed)} of memory for ${PURPOSE[use.purpose]}${batch}, more than this computer's ${formatBytes(memoryBytes)}`,
    [
      `weights ${formatBytes(estimate.weightBytes)} (${network.params.toLocaleString('en-US')} parameters); layer outputs ${perImage} per image`,
      use.purpose === 'export' ? 'use fewer filters in the network file' : 'use a smaller batch size, a smaller input size or fewer filters',
    ],
  );
}
