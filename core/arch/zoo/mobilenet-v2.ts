import type { NetworkSpecInput } from '../spec.ts';
import { conv, mbconv, scaled, type UnitInput, type ZooOptions } from './common.ts';

/** Inverted-residual settings of MobileNetV2: expansion t, output channels c, repeats n, first stride s. */
const SETTINGS: ReadonlyArray<readonly [number, number, number, 1 | 2]> = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/** MobileNetV2 1.0-224 (Sandler et al. 2018): 300M MACs, 3.4M parameters. */
export function mobilenetV2(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier = 1, classes = 1000 } = options;
  const stem = scaled(32, widthMultiplier);
  const layers: UnitInput[] = [conv('conv1', stem, 3, 2, 'relu6')];
  let channels = stem;
  let block = 1;
  for (const [t, c, n, s] of SETTINGS) {
    const out = scaled(c, widthMultiplier);
    for (let i = 0; i < n; i++) {
      const expand = t === 1 ? null : channels * t;
      layers.push(mbconv(`b${block++}`, expand, 3, i === 0 ? s : 1, out, 'relu6', null));
      channels = out;
    }
  }
  const head = widthMultiplier > 1 ? scaled(1280, widthMultiplier) : 1280;
  layers.push(conv('conv_head', head, 1, 1, 'relu6'));
  layers.push({ type: 'gap', name: 'pool' });
  layers.push({ type: 'fc', name: 'classifier', units: classes, dropout: 0.2 });
  return {
    name: inputSize === 224 && widthMultiplier === 1 ? 'mobilenet-v2' : `mobilenet-v2-${widthMultiplier}-${inputSize}`,
    task: 'classification',
    description: `MobileNetV2 ${widthMultiplier}-${inputSize}`,
    input: { height: inputSize, width: inputSize, channels: 3 },
    widthLevels: 9,
    layers,
  };
}
