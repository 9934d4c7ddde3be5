/** The shape/stride/padding grid every convolution gradient kernel is checked on. */
export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvCase {
  name: string;
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CHANNELS: readonly [number, number][] = [[3, 4], [5, 2], [8, 16], [16, 8]];

/** stride 1/2 × 'same'/'valid' × kernel 1/3/5/7 × odd/even size, batch 2–3, rotating channel counts; plus odd ones. */
export function convGrid(): ConvCase[] {
  const cases: ConvCase[] = [];
  let i = 0;
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      for (const kernel of [1, 3, 5, 7]) {
        for (const size of [7, 8]) {
          const [inChannels, outChannels] = CHANNELS[i % CHANNELS.length] ?? [3, 4];
          const batch = 2 + (i % 2);
          i++;
          cases.push({
            name: `k${kernel} s${stride} ${pad} ${size}x${size} n${batch} c${inChannels}->${outChannels}`,
            batch, height: size, width: size, inChannels, outChannels, kernel, stride, pad,
          });
        }
      }
    }
  }
  cases.push(
    { name: 'k3 s2 numeric pad 1', batch: 2, height: 9, width: 9, inChannels: 4, outChannels: 6, kernel: 3, stride: 2, pad: 1 },
    { name: 'k3 s2 numeric pad 2 ceil', batch: 1, height: 8, width: 8, inChannels: 3, outChannels: 5, kernel: 3, stride: 2, pad: 2, dimRoundingMode: 'ceil' },
    { name: 'k5 s1 explicit asymmetric pad', batch: 2, height: 6, width: 7, inChannels: 3, outChannels: 4, kernel: 5, stride: 1, pad: [[0, 0], [1, 3], [2, 0], [0, 0]] },
    { name: 'k3 s2 explicit pad larger than kernel', batch: 2, height: 6, width: 6, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, pad: [[0, 0], [3, 1], [0, 4], [0, 0]] },
    { name: 'k3 stride [2,1] rectangular same', batch: 2, height: 10, width: 6, inChannels: 4, outChannels: 4, kernel: 3, stride: [2, 1], pad: 'same' },
    { name: 'k1 s1 valid wide (pointwise matMul path, cin>cout)', batch: 3, height: 5, width: 4, inChannels: 24, outChannels: 6, kernel: 1, stride: 1, pad: 'valid' },
    { name: 'k3 s2 same 16x16 n4 c16', batch: 4, height: 16, width: 16, inChannels: 16, outChannels: 16, kernel: 3, stride: 2, pad: 'same' },
  );
  return cases;
}
