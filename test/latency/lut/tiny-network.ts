import type { NetworkSpecInput } from '../../../core/arch/index.ts';

/** A small network whose full latency table (3 width levels) has a few dozen entries: fast to measure in tests. */
export const tinyLutNetwork: NetworkSpecInput = {
  name: 'tiny-lut',
  task: 'classification',
  input: { height: 16, width: 16, channels: 3 },
  widthLevels: 3,
  layers: [
    { type: 'conv', name: 'stem', filters: 8, kernel: 3, stride: 2, act: 'relu' },
    { type: 'mbconv', name: 'b1', expand: 16, kernel: 5, stride: 1, out: 8, act: 'hswish', se: 4 },
    { type: 'mbconv', name: 'b2', expand: 16, kernel: 3, stride: 2, out: 16, act: 'relu', se: null, T: 8 },
    { type: 'gap', name: 'pool' },
    { type: 'fc', name: 'fc', units: 10 },
  ],
};
