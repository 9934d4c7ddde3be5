import type { NetworkSpecInput } from '../spec.ts';
import { conv, dw, scaled, type UnitInput, type ZooOptions } from './common.ts';

/** The 13 depthwise-separable stages of MobileNetV1: [pointwise filters, stride of the depthwise layer]. */
export const MOBILENET_V1_STAGES: ReadonlyArray<readonly [number, 1 | 2]> = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/**
 * Channel-level bypass of a MobileNetV1: `full` lets every layer bypass as many channels as it has filters (the zoo's
 * default); `by-stage` is the paper's rule (App. A.1, T inversely proportional to resolution, which for MobileNetV1's
 * doubling widths is each stage's width) with a stem that cannot be removed; `none` is the network without CBC
 * (NetAdaptV1's search space, App. D: no layer, depthwise ones included, can be removed).
 */
export type MobilenetV1Bypass = 'full' | 'by-stage' | 'none';

/** MobileNetV1 feature extractor (stem + 13 depthwise-separable pairs), shared with FastDepth's encoder. */
export function mobilenetV1Encoder(multiplier: number, limits?: (outputStride: number) => number, bypass: MobilenetV1Bypass = 'full'): UnitInput[] {
  let outputStride = 2;
  const T = (filters: number) => (bypass === 'none' ? 0 : limits ? limits(outputStride) : filters);
  const stemFilters = scaled(32, multiplier);
  const units: UnitInput[] = [conv('conv1', stemFilters, 3, 2, 'relu', { T: bypass === 'full' ? T(stemFilters) : 0 })];
  MOBILENET_V1_STAGES.forEach(([filters, stride], i) => {
    outputStride *= stride;
    const width = scaled(filters, multiplier);
    units.push(dw(`dw${i + 2}`, 3, stride, 'relu', bypass === 'none' ? 0 : undefined));
    units.push(conv(`pw${i + 2}`, width, 1, 1, 'relu', { T: T(width) }));
  });
  return units;
}

/** MobileNetV1 1.0-224 (Howard et al. 2017): 569M MACs, 4.2M parameters. */
export function mobilenetV1(options: ZooOptions & { bypass?: MobilenetV1Bypass } = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier = 1, classes = 1000, bypass = 'full' } = options;
  const variant = bypass === 'full' ? '' : bypass === 'none' ? '-plain' : '-cbc';
  return {
    name: inputSize === 224 && widthMultiplier === 1 ? `mobilenet-v1${variant}` : `mobilenet-v1${variant}-${widthMultiplier}-${inputSize}`,
    task: 'classification',
    description: `MobileNetV1 ${widthMultiplier}-${inputSize}${bypass === 'none' ? ', no channel-level bypass' : bypass === 'by-stage' ? ', bypass limited to each stage\'s width' : ''}`,
    input: { height: inputSize, width: inputSize, channels: 3 },
    widthLevels: 9,
    layers: [
      ...mobilenetV1Encoder(widthMultiplier, undefined, bypass),
      { type: 'gap', name: 'pool' },
      { type: 'fc', name: 'classifier', units: classes, dropout: 0.2 },
    ],
  };
}
