import type { NetworkSpecInput } from '../spec.ts';
import { conv, dw, scaled, type UnitInput, type ZooOptions } from './common.ts';

/** The 13 depthwise-separable stages of MobileNetV1: [pointwise filters, stride of the depthwise layer]. */
export const MOBILENET_V1_STAGES: ReadonlyArray<readonly [number, 1 | 2]> = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/** MobileNetV1 feature extractor (stem + 13 depthwise-separable pairs), shared with FastDepth's encoder. */
export function mobilenetV1Encoder(multiplier: number, limits?: (outputStride: number) => number): UnitInput[] {
  let outputStride = 2;
  const T = (filters: number) => (limits ? limits(outputStride) : filters);
  const stemFilters = scaled(32, multiplier);
  const units: UnitInput[] = [conv('conv1', stemFilters, 3, 2, 'relu', { T: T(stemFilters) })];
  MOBILENET_V1_STAGES.forEach(([filters, stride], i) => {
    outputStride *= stride;
    const width = scaled(filters, multiplier);
    units.push(dw(`dw${i + 2}`, 3, stride, 'relu'));
    units.push(conv(`pw${i + 2}`, width, 1, 1, 'relu', { T: T(width) }));
  });
  return units;
}

/** MobileNetV1 1.0-224 (Howard et al. 2017): 569M MACs, 4.2M parameters. */
export function mobilenetV1(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier = 1, classes = 1000 } = options;
  return {
    name: inputSize === 224 && widthMultiplier === 1 ? 'mobilenet-v1' : `mobilenet-v1-${widthMultiplier}-${inputSize}`,
    task: 'classification',
    description: `MobileNetV1 ${widthMultiplier}-${inputSize}`,
    input: { height: inputSize, width: inputSize, channels: 3 },
    widthLevels: 9,
    layers: [
      ...mobilenetV1Encoder(widthMultiplier),
      { type: 'gap', name: 'pool' },
      { type: 'fc', name: 'classifier', units: classes, dropout: 0.2 },
    ],
  };
}
