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

  it('NetAdaptV2 initial networks hold the tables: SE where either table has one, stage-wide SE widths, expansions', () => {
    const lat = resolveNetwork(loadNetwork('netadaptv2-latency'));
    const mac = resolveNetwork(loadNetwork('netadaptv2-macs'));
    const seOf = (n: typeof lat) => n.layers.filter((l) => l.role === 'project').map((p) => n.layers.find((l) => l.id === `${p.unit}.se`)?.fullFilters ?? 0);
    // b1..b17: MobileNetV3-Large's SE blocks plus its blocks 2, 7 and 9 (our b2, b8, b10); none at b1, b3, b9, b11.
    expect(seOf(lat)).toEqual([0, 32, 0, 32, 32, 32, 32, 64, 0, 64, 0, 256, 256, 256, 256, 256, 256]);
    expect(seOf(mac)).toEqual([0, 40, 0, 40, 40, 40, 40, 80, 0, 80, 0, 320, 320, 320, 320, 320, 320, 320]);
    const b1 = (n: typeof lat) => n.layers.find((l) => l.id === 'b1.expand');
    expect([b1(lat)?.fullFilters, b1(lat)?.limit]).toEqual([16, Number.POSITIVE_INFINITY]);
    expect(b1(mac)).toBeUndefined();
    for (const n of [lat, mac]) {
      for (const l of n.layers.filter((x) => x.role === 'expand')) expect(l.limit).toBe(Number.POSITIVE_INFINITY);
    }
    expect(mac.layers.find((l) => l.id === 'conv_last')?.fullFilters).toBe(2560);
    expect(lat.layers.find((l) => l.id === 'conv_last')?.fullFilters).toBe(2048);
  });

  it('CIFAR-form MobileNetV1: stride-1 stem, 2×2 before pooling, about the MACs of mobilenet-v1-32; with and without bypass', () => {
    const imagenetShaped = resolveNetwork(loadNetwork('mobilenet-v1-32'));
    expect(imagenetShaped.layers.find((l) => l.id === 'pool')?.input).toMatchObject({ height: 1, width: 1 });
    for (const name of ['mobilenet-v1-cifar-32', 'mobilenet-v1-cifar-cbc-32']) {
      const n = resolveNetwork(loadNetwork(name));
      expect(n.layers[0]?.stride).toBe(1);
      expect(n.layers.find((l) => l.id === 'pool')?.input).toEqual({ height: 2, width: 2, channels: 256 });
      expect(relErr(n.macs, imagenetShaped.macs)).toBeLessThan(0.15);
    }
    const plain = resolveNetwork(loadNetwork('mobilenet-v1-cifar-32'));
    expect(plain.space.layers.every((l) => l.minLevel === 1)).toBe(true);
    const cbc = resolveNetwork(loadNetwork('mobilenet-v1-cifar-cbc-32'));
    expect(cbc.space.layers.every((l) => l.minLevel === 0)).toBe(true);
    const limitAt = (size: number) => [...new Set(cbc.layers.filter((l) => l.op === 'conv' && l.output.height === size && l.id !== 'classifier').map((l) => l.limit))];
    expect([32, 16, 8, 4, 2].map(limitAt)).toEqual([[4], [8], [16], [32], [64]]);
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
