import { describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork } from '../../../core/arch/index.ts';
import { maxTrainBatch, trainingBytesPerImage, WASM_HEAP_BYTES } from '../../../core/supernet/batch-memory.ts';

describe('training batch memory', () => {
  it('stays inside what was measured: batch 512 of mobilenet-v3-demo-32 trained (2.26 GB heap), 960 filled the 4 GiB heap', () => {
    const demo = resolveNetwork(loadNetwork('mobilenet-v3-demo-32'));
    expect(maxTrainBatch(demo)).toBeGreaterThanOrEqual(512);
    expect(maxTrainBatch(demo)).toBeLessThan(960);
    // The estimate is above what a step took per image (4.18–4.90 MB).
    expect(trainingBytesPerImage(demo)).toBeGreaterThan(4.9e6);
  });

  it('refuses the batch of issue 16 (4096 images of mobilenet-v1-32 ended in "memory access out of bounds")', () => {
    const v1 = resolveNetwork(loadNetwork('mobilenet-v1-32'));
    expect(maxTrainBatch(v1)).toBeLessThan(4096);
    expect(maxTrainBatch(v1, WASM_HEAP_BYTES / 4)).toBeLessThan(maxTrainBatch(v1) / 3);
  });
});
