import type { NetworkSpecInput } from '../spec.ts';
import { conv, dw, scaled, type UnitInput, type ZooOptions } from './common.ts';

/** The 13 depthwise-separable stages of MobileNetV1: [pointwise filters, stride of the depthwise layer]. */
export const MOBILENET_V1_STAGES: ReadonlyArray<readonly [number, 1 | 2]> = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/**
 * MobileNetV1 feature extractor (stem + 13 depthwise-separable pairs), shared with FastDepth's encoder.
 * `limits` gives T by output stride (default: each layer's full width); `stemStride` 1 is the CIFAR form.
 */
export function mobilenetV1Encoder(multiplier: number, limits?: (outputStride: number) => number, stemStride: 1 | 2 = 2): UnitInput[] {
  let outputStride = stemStride;
  const T = (filters: number) => (limits ? limits(outputStride) : filters);
  const stemFilters = scaled(32, multiplier);
  const units: UnitInput[] = [conv('conv1', stemFilters, 3, stemStride, 'relu', { T: T(stemFilters) })];
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

/**
 * MobileNetV1 for 32×32 inputs the CIFAR way: the stem has stride 1, so the network downsamples 16× (32 → 2×2 before
 * pooling) instead of 32× (the ImageNet-shaped mobilenet-v1-32 ends at 1×1, and does not train; issue 17). The
 * stride-2 depthwise layers are MobileNetV1's (dw3, dw5, dw7, dw13). Width 0.25 by default: 3.1M MACs, what the
 * ImageNet-shaped 0.5 network costs at 32×32 (the stride-1 stem quadruples the MACs), cheap enough to train several
 * super-networks and stand-alone networks on two CPU cores.
 * `cbc: true`: channel-level bypass with one T per resolution as in the paper's MobileNetV1-based Table 10 (a quarter
 * of the stage's pointwise width: 16·m at 32×32, doubling with each halving; T = ∞ for depthwise layers), so whole
 * layers can be removed. `cbc: false`: no bypass at all (Z = M; no layer can be removed), App. D's baseline.
 */
export function mobilenetV1Cifar(options: ZooOptions & { cbc?: boolean } = {}): NetworkSpecInput {
  const { inputSize = 32, widthMultiplier = 0.25, classes = 10, cbc = false } = options;
  const limits = cbc ? (outputStride: number) => Math.round(16 * widthMultiplier * outputStride) : undefined;
  return {
    name: `mobilenet-v1-cifar${cbc ? '-cbc' : ''}-${inputSize}`,
    task: 'classification',
    description: `MobileNetV1 ${widthMultiplier}, stride-1 stem (CIFAR form)${cbc ? ', channel-level bypass' : ', no bypass'}, ${inputSize}×${inputSize}`,
    input: { height: inputSize, width: inputSize, channels: 3 },
    widthLevels: 9,
    cbc,
    layers: [
      ...mobilenetV1Encoder(widthMultiplier, limits, 1),
      { type: 'gap', name: 'pool' },
      { type: 'fc', name: 'classifier', units: classes, dropout: 0.2 },
    ],
  };
}
