import { describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork } from '../../core/arch/index.ts';
import { checkNetworkFitsMemory, estimateNetworkMemory, requiredBytes, ResourceLimitError } from '../../core/resource-limits.ts';

const mnv1 = resolveNetwork(loadNetwork('mobilenet-v1-32'));

describe('network memory limits', () => {
  it('estimates weights from the parameter count and activations from every layer output', () => {
    const estimate = estimateNetworkMemory(mnv1);
    expect(estimate.weightBytes).toBe(mnv1.params * 4);
    const outputs = mnv1.layers.reduce((n, l) => n + l.output.height * l.output.width * l.output.channels, 0);
    expect(estimate.activationBytesPerImage).toBe(outputs * 4);
    // Training scales with the batch; export does not.
    expect(requiredBytes(estimate, { purpose: 'training', batchSize: 64 })).toBeGreaterThan(requiredBytes(estimate, { purpose: 'training', batchSize: 32 }));
    expect(requiredBytes(estimate, { purpose: 'export' })).toBe(2 * estimate.weightBytes);
  });

  it('refuses a use above the memory with both numbers, and accepts it below', () => {
    const needed = requiredBytes(estimateNetworkMemory(mnv1), { purpose: 'training', batchSize: 64 });
    expect(() => checkNetworkFitsMemory(mnv1, { purpose: 'training', batchSize: 64 }, needed)).not.toThrow();
    let error: unknown;
    try {
      checkNetworkFitsMemory(mnv1, { purpose: 'training', batchSize: 64 }, needed - 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResourceLimitError);
    expect((error as Error).message).toMatch(/network "mobilenet-v1-32" needs about [\d.]+ MB of memory for training at batch 64, more than this computer's [\d.]+ MB/);
    expect(() => checkNetworkFitsMemory(mnv1, { purpose: 'evaluation', batchSize: 0 })).toThrow(/batch size must be a whole number ≥ 1/);
  });
});
