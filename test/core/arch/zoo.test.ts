import { describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork, zooNames } from '../../../core/arch/index.ts';

const relErr = (a: number, b: number) => Math.abs(a - b) / b;

describe('model zoo MACs and parameters (BN folded, conventions in core/arch/cost.ts)', () => {
  it('MobileNetV1 1.0-224: 569M MACs (1%), 4.2M params (2%)', () => {
    const n = resolveNetwork(loadNetwork('mobilenet-v1'));
    expect(relErr(n.macs, 569e6)).toBeLessThan(0.01);
    expect(relErr(n.params, 4.2e6)).toBeLessThan(0.02);
  });

  it('MobileNetV2 1.0-224: 300M MACs (1%); params equal the published weight count', () => {
    const n = resolveNetwork(loadNetwork('mobilenet-v2'));
    expect(relErr(n.macs, 300e6)).toBeLessThan(0.01);
    // The paper's "3.4M" truncates 3.47M: torchvision's MobileNetV2 has 3,504,872 parameters, of which 34,112 are
    // BN scale/shift (2 × 17,056 channels) -> 3,470,760 weights and classifier bias. Our count adds one folded-BN
    // bias per conv filter (17,056) on top of the weights: 3,487,816. Both conventions are checked exactly.
    const biases = n.layers.reduce((sum, l) => sum + (l.op === 'conv' || l.op === 'dwconv' ? l.filters : 0), 0);
    expect(biases).toBe(17_056);
    expect(n.params).toBe(3_470_760 + biases);
    expect(relErr(n.params, 3.4e6)).toBeLessThan(0.03);
  });

  it('MobileNetV3-Large 1.0-224: 219M MACs (2%), 5.4M params (2%)', () => {
    const n = resolveNetwork(loadNetwork('mobilenet-v3-large'));
    expect(relErr(n.macs, 219e6)).toBeLessThan(0.02);
    expect(relErr(n.params, 5.4e6)).toBeLessThan(0.02);
  });

  it('latency-guided initial network follows App. A.1: powers of 2, +2 kernels, extra blocks at 28x28 and 14x14, Table 8 T', () => {
    const n = resolveNetwork(loadNetwork('netadaptv2-latency'));
    const blocks = n.layers.filter((l) => l.role === 'project');
    expect(blocks).toHaveLength(17); // 15 MobileNetV3 blocks + 2
    for (const l of n.layers) {
      if (l.op === 'conv' && l.unit !== 'classifier') expect(Math.log2(l.fullFilters) % 1).toBe(0);
      if (l.op === 'dwconv') {
        expect([5, 7]).toContain(l.fullKernel);
        expect(l.limit).toBe(Number.POSITIVE_INFINITY);
      }
    }
    const dws = n.layers.filter((l) => l.role === 'dw');
    const at = (size: number) => dws.filter((l) => l.input.height === size && l.stride === 1);
    expect(at(28)).toHaveLength(3); // 3 stride-1 blocks at 28x28 in Table 8 (6, 7, 8)
    expect(at(14)).toHaveLength(6); // 10..15
    // One T per block, from the block's output resolution (Table 8: block 3, stride 2 from 112x112, has T = 16).
    const limitAt = (size: number) => new Set(n.layers.filter((l) => (l.role === 'project' || l.id === 'conv1') && l.output.height === size).map((l) => l.limit));
    expect([...limitAt(112)]).toEqual([8]);
    expect([...limitAt(56)]).toEqual([16]);
    expect([...limitAt(28)]).toEqual([32]);
    expect([...limitAt(14)]).toEqual([64]);
    expect(n.layers.find((l) => l.id === 'conv_last')?.limit).toBe(1024);
    expect(n.space.widthLevels).toBe(9);
  });

  it('MAC-guided initial network: widths x1.25, one more block at 7x7, 11 levels', () => {
    const lat = resolveNetwork(loadNetwork('netadaptv2-latency'));
    const mac = resolveNetwork(loadNetwork('netadaptv2-macs'));
    expect(mac.layers.filter((l) => l.role === 'project')).toHaveLength(18);
    expect(mac.space.widthLevels).toBe(11);
    expect(mac.layers.find((l) => l.id === 'conv_head')?.fullFilters).toBe(1280);
    expect(mac.macs).toBeGreaterThan(lat.macs);
  });

  it('FastDepth: MobileNetV1 encoder, decoder with nearest upsampling back to the input size, Table 10 T', () => {
    const n = resolveNetwork(loadNetwork('fastdepth'));
    expect(n.output).toEqual({ height: 224, width: 224, channels: 1 });
    expect(n.layers.filter((l) => l.op === 'upsample')).toHaveLength(5);
    expect(n.layers.find((l) => l.id === 'pw14')?.limit).toBe(256);
    expect(n.layers.find((l) => l.id === 'dec1.pw')?.limit).toBe(256);
    expect(n.layers.find((l) => l.id === 'dec5.pw')?.limit).toBe(16);
  });

  it('every zoo network resolves, and small-input variants are small enough for a 2-core CPU', () => {
    for (const name of zooNames()) {
      const n = resolveNetwork(loadNetwork(name));
      expect(n.macs).toBeGreaterThan(0);
      if (name.endsWith('-32')) {
        expect(n.spec.input.height).toBe(32);
        expect(n.macs).toBeLessThan(10e6);
      }
    }
    expect(resolveNetwork(loadNetwork('fastdepth-64')).output).toEqual({ height: 64, width: 64, channels: 1 });
  });
});
