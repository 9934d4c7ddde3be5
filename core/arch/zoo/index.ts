/** The model zoo: full-size networks of the papers and small-input variants that train on a 2-core CPU. */
import type { NetworkSpecInput } from '../spec.ts';
import type { ZooOptions } from './common.ts';
import { fastDepth } from './fastdepth.ts';
import { mobilenetV1, mobilenetV1Cifar } from './mobilenet-v1.ts';
import { mobilenetV2 } from './mobilenet-v2.ts';
import { mobilenetV3Demo, mobilenetV3DemoCbc, mobilenetV3DemoDeep, mobilenetV3Large, netadaptV2Latency, netadaptV2Macs } from './mobilenet-v3.ts';

interface ZooEntry {
  build: (options: ZooOptions) => NetworkSpecInput;
  options: ZooOptions;
  summary: string;
}

/** Small-input variants: 32×32 (64×64 for depth), widths ×0.5, 10 classes. */
const SMALL: ZooOptions = { inputSize: 32, widthMultiplier: 0.5, classes: 10 };

const ZOO: Record<string, ZooEntry> = {
  'mobilenet-v1': { build: mobilenetV1, options: {}, summary: 'MobileNetV1 1.0-224' },
  'mobilenet-v2': { build: mobilenetV2, options: {}, summary: 'MobileNetV2 1.0-224' },
  'mobilenet-v3-large': { build: mobilenetV3Large, options: {}, summary: 'MobileNetV3-Large 1.0-224' },
  'netadaptv2-latency': { build: netadaptV2Latency, options: {}, summary: 'NetAdaptV2 latency-guided initial network (App. A.1)' },
  'netadaptv2-macs': { build: netadaptV2Macs, options: {}, summary: 'NetAdaptV2 MAC-guided initial network (App. A.1)' },
  fastdepth: { build: fastDepth, options: {}, summary: 'FastDepth (MobileNetV1 encoder, NNConv5 decoder), 224×224' },
  'mobilenet-v1-32': { build: mobilenetV1, options: SMALL, summary: 'MobileNetV1 0.5, 32×32 input, 10 classes (ImageNet strides: ends at 1×1)' },
  'mobilenet-v1-cifar-32': { build: mobilenetV1Cifar, options: { inputSize: 32, classes: 10 }, summary: 'MobileNetV1 0.25 with a stride-1 stem (CIFAR form, ends at 2×2), no bypass: App. D baseline' },
  'mobilenet-v1-cifar-cbc-32': { build: (o) => mobilenetV1Cifar({ ...o, cbc: true }), options: { inputSize: 32, classes: 10 }, summary: 'the CIFAR-form MobileNetV1 with channel-level bypass (T per resolution), for the CBC ablation' },
  'mobilenet-v2-32': { build: mobilenetV2, options: SMALL, summary: 'MobileNetV2 0.5, 32×32 input, 10 classes' },
  'mobilenet-v3-large-32': { build: mobilenetV3Large, options: SMALL, summary: 'MobileNetV3-Large 0.5, 32×32 input, 10 classes' },
  'netadaptv2-latency-32': { build: netadaptV2Latency, options: SMALL, summary: 'latency-guided initial network 0.5, 32×32, 10 classes' },
  'netadaptv2-macs-32': { build: netadaptV2Macs, options: SMALL, summary: 'MAC-guided initial network 0.5, 32×32, 10 classes' },
  'mobilenet-v3-demo-32': { build: mobilenetV3Demo, options: { inputSize: 32, classes: 10 }, summary: 'MobileNetV3-style demo network (SE, hswish, residuals), 32×32, 10 classes, ~1M MACs' },
  'mobilenet-v3-demo-cbc-32': { build: mobilenetV3DemoCbc, options: { inputSize: 32, classes: 10 }, summary: 'the demo network with channel-level bypass (T per resolution as in the paper), for the CBC ablation' },
  'mobilenet-v3-demo-deep-32': { build: mobilenetV3DemoDeep, options: { inputSize: 32, classes: 10 }, summary: 'the demo network with an extra block at strides 4 and 8 (App. A.1 rule), no bypass' },
  'mobilenet-v3-demo-deep-cbc-32': { build: (o) => mobilenetV3DemoDeep({ ...o, cbc: true }), options: { inputSize: 32, classes: 10 }, summary: 'the deeper demo network with channel-level bypass, for the CBC ablation' },
  'fastdepth-64': { build: fastDepth, options: { inputSize: 64, widthMultiplier: 0.5 }, summary: 'FastDepth 0.5, 64×64 input' },
};

export function zooNames(): string[] {
  return Object.keys(ZOO);
}

export function zooSummary(name: string): string | undefined {
  return ZOO[name]?.summary;
}

/** The raw (unvalidated) spec of a zoo network; `loadNetwork` validates it. */
export function zooSpec(name: string): NetworkSpecInput | undefined {
  const entry = ZOO[name];
  if (!entry) return undefined;
  return { ...entry.build(entry.options), name };
}
