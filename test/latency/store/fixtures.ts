import type { LatencyEntryInput } from '../../../latency/store/latency-store.ts';

export const OPTIONS = 'threads=1;mask=f0;runs=50;warmup=10';
export const CANONICAL_OPTIONS = 'mask=f0;runs=50;threads=1;warmup=10';

export const PIXEL_FINGERPRINT = {
  model: 'Pixel',
  device: 'sailfish',
  abi: 'arm64-v8a',
  cpus: [{ core: 0, maxKHz: 1593600 }, { core: 2, maxKHz: 2150400 }],
  build: 'QP1A.191005.007.A3',
};

export function signature(i: number, op = 'conv'): string {
  return `v2;op=${op};in=${8 + (i % 32)}x${8 + (i % 32)}x16;f=${16 + i};out=${8 + (i % 32)};k=3;s=1;act=hswish;bn=1;byp=0;res=0`;
}

/** A valid entry whose values depend on i (so two different i give different values). */
export function entry(deviceId: string, i: number, overrides: Partial<LatencyEntryInput> = {}): LatencyEntryInput {
  const mean = 10 + i * 1.37;
  return {
    deviceId,
    runtimeOptions: OPTIONS,
    signature: signature(i),
    count: 50,
    meanUs: mean,
    medianUs: mean - 0.1,
    stdUs: 0.25 + i / 1000,
    minUs: mean - 1,
    maxUs: mean + 3.3,
    measuredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    modelSha256: (i % 16).toString(16).repeat(64),
    flags: i % 5 === 0 ? ['high-std'] : [],
    ...overrides,
  };
}
