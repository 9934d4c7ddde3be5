/**
 * How large a training batch fits in memory. The wasm backend (tfjs-backend-wasm, wasm32) has one heap of at most
 * 4 GiB; a batch that needs more ends in "memory access out of bounds". A training step of the masked super-network
 * keeps, per image, about 80 bytes per activation element of the full network (forward activations, masks,
 * BN intermediates, gradients). Measured (Dec 2026, mobilenet-v3-demo-32, 56,874 activation elements per image): the
 * heap grew by 4.18 MB per image at batch 32, 4.90 MB at 128, 4.38 MB at 512 and 4.46 MB at 960 — which filled the
 * 4 GiB heap exactly; mobilenet-v1-32 (51,978 elements) 4.90 MB at 128. The estimate uses 90 bytes per element.
 */
import type { ResolvedNetwork } from '../arch/index.ts';

/** The wasm32 heap limit. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;
const BYTES_PER_ACTIVATION = 90;
/** Weights, their gradients, optimizer slots, EMA copies and the calibration batches: a few copies of the parameters. */
const BYTES_PER_PARAM = 4 * 8;

/** Estimated heap bytes one training image takes. */
export function trainingBytesPerImage(network: ResolvedNetwork): number {
  const activations = network.layers.reduce((sum, layer) => sum + layer.output.height * layer.output.width * layer.output.channels, 0);
  const input = network.spec.input.height * network.spec.input.width * network.spec.input.channels;
  return (activations + input) * BYTES_PER_ACTIVATION;
}

/** The largest training batch whose step fits in `heapBytes` (at least 1). */
export function maxTrainBatch(network: ResolvedNetwork, heapBytes = WASM_HEAP_BYTES): number {
  const free = heapBytes - network.params * BYTES_PER_PARAM - 64 * 1024 ** 2;
  return Math.max(1, Math.floor(free / trainingBytesPerImage(network)));
}
