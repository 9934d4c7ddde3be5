/**
 * MAC and parameter counting conventions (one place, used by every caller):
 * - Batch norm is folded into the preceding conv: every conv/depthwise/fc layer has one bias per filter, no BN params.
 * - conv: outH·outW·k²·C_in·M MACs; depthwise: outH·outW·k²·M; fc: C_in·units. Bypassed channels cost nothing.
 * - squeeze-and-excitation: its two fully connected layers, C·M + M·C MACs (plus biases as params); the global
 *   pooling, the hard-sigmoid and the channel-wise scaling are not counted.
 * - Activations (including hard-swish), residual additions, global average pooling and upsampling count 0 MACs.
 * These are the conventions of the MobileNet papers, whose published totals the tests check.
 */
import type { ResolvedLayer } from './layers.ts';

export interface LayerCost {
  macs: number;
  params: number;
}

export function layerCost(layer: Pick<ResolvedLayer, 'op' | 'input' | 'output' | 'filters' | 'kernel'>): LayerCost {
  const { op, input, output, filters: m, kernel: k } = layer;
  const outPixels = output.height * output.width;
  switch (op) {
    case 'conv':
      return { macs: outPixels * k * k * input.channels * m, params: m === 0 ? 0 : k * k * input.channels * m + m };
    case 'dwconv':
      return { macs: outPixels * k * k * m, params: m === 0 ? 0 : k * k * m + m };
    case 'se': {
      const c = input.channels;
      return { macs: m === 0 ? 0 : 2 * c * m, params: m === 0 ? 0 : c * m + m + m * c + c };
    }
    case 'fc':
      return { macs: input.channels * m, params: input.channels * m + m };
    case 'gap':
    case 'upsample':
      return { macs: 0, params: 0 };
  }
}
