import type { NetworkSpecInput } from '../spec.ts';
import { conv, scaled, type UnitInput, type ZooOptions } from './common.ts';
import { mobilenetV1Encoder } from './mobilenet-v1.ts';

/** Decoder stages of FastDepth: depthwise kernel and pointwise filters; each is followed by ×2 nearest upsampling. */
const DECODER: ReadonlyArray<readonly [number, number]> = [[5, 512], [5, 256], [5, 128], [5, 64], [5, 32]];

/**
 * FastDepth (Wofk et al. 2019) as the initial network of the paper's depth experiment (App. A.2, Table 10):
 * MobileNetV1 encoder, depthwise-separable decoder with nearest-neighbour upsampling, a final 1×1 conv to one
 * channel (log-depth). One T per resolution (16 at 112×112 … 256 at 7×7), T = ∞ for depthwise layers.
 * FastDepth's additive encoder-decoder skip connections are not part of Table 10 and are not modelled.
 */
export function fastDepth(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier: m = 1 } = options;
  const limit = (outputStride: number) => Math.round(8 * m * outputStride);
  const layers: UnitInput[] = mobilenetV1Encoder(m, limit);
  let outputStride = 32;
  DECODER.forEach(([kernel, filters], i) => {
    layers.push({
      type: 'fd_decoder',
      name: `dec${i + 1}`,
      kernel,
      filters: scaled(filters, m),
      act: 'relu',
      T: limit(outputStride),
      upsample: 2,
    });
    outputStride /= 2;
  });
  layers.push(conv('depth_out', 1, 1, 1, 'none', { bn: false, searchable: false }));
  return {
    name: inputSize === 224 && m === 1 ? 'fastdepth' : `fastdepth-${m}-${inputSize}`,
    task: 'depth',
    description: `FastDepth ${m}-${inputSize}`,
    input: { height: inputSize, width: inputSize, channels: 3 },
    widthLevels: 9,
    layers,
  };
}
