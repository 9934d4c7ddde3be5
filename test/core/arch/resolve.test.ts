import { describe, expect, it } from 'vitest';
import {
  fullSubnet,
  layerSignature,
  loadNetwork,
  minimalSubnet,
  networkSignatures,
  parseNetworkSpec,
  parseSubnet,
  randomSubnet,
  resolveNetwork,
  searchSpace,
  subnetKey,
  subnetToJson,
  type NetworkSpecInput,
  type SubnetConfig,
} from '../../../core/arch/index.ts';
import { ValidationError } from '../../../core/errors.ts';
import { Rng } from '../../../core/random.ts';

const tiny: NetworkSpecInput = {
  name: 'tiny',
  task: 'classification',
  input: { height: 16, width: 16, channels: 3 },
  widthLevels: 5,
  layers: [
    { type: 'conv', name: 'stem', filters: 8, kernel: 3, stride: 2, act: 'relu' },
    { type: 'mbconv', name: 'b1', expand: 32, kernel: 5, stride: 1, out: 8, act: 'relu', se: 8 },
    { type: 'mbconv', name: 'b2', expand: 32, kernel: 3, stride: 2, out: 16, act: 'hswish', se: null, T: 8 },
    { type: 'conv', name: 'head', filters: 32, kernel: 1, act: 'hswish', T: 16 },
    { type: 'gap', name: 'pool' },
    { type: 'fc', name: 'fc', units: 10 },
  ],
};

function withChoice(spec: ReturnType<typeof parseNetworkSpec>, changes: Record<string, { level?: number; kernel?: number }>): SubnetConfig {
  return parseSubnet(spec, { layers: changes });
}

describe('shape inference', () => {
  const spec = parseNetworkSpec(tiny);

  it('lists searchable layers with ids, kernels and removability', () => {
    const space = searchSpace(spec);
    expect(space.layers.map((l) => l.id)).toEqual([
      'stem', 'b1.expand', 'b1.dw', 'b1.se', 'b1.project', 'b2.expand', 'b2.dw', 'b2.project', 'head',
    ]);
    expect(space.byId.get('b1.dw')?.kernels).toEqual([3, 5]);
    expect(space.layers.every((l) => l.minLevel === 0)).toBe(true);
  });

  it('a removed residual block (M = 0 everywhere) is the identity', () => {
    const sub = withChoice(spec, { 'b1.expand': { level: 0 }, 'b1.dw': { level: 0 }, 'b1.se': { level: 0 }, 'b1.project': { level: 0 } });
    const net = resolveNetwork(spec, sub);
    const block = net.layers.filter((l) => l.unit === 'b1');
    expect(block.every((l) => l.identity)).toBe(true);
    expect(block.reduce((s, l) => s + l.macs, 0)).toBe(0);
    const project = block.find((l) => l.role === 'project');
    expect(project?.output).toEqual({ height: 8, width: 8, channels: 8 });
    expect(networkSignatures(net.layers).some((s) => s.includes('op=conv;in=8x8x8;f=0'))).toBe(false);
  });

  it('a removed stride-2 block bypasses its input, subsampled, limited to T', () => {
    const sub = withChoice(spec, { 'b2.expand': { level: 0 }, 'b2.dw': { level: 0 }, 'b2.project': { level: 0 } });
    const net = resolveNetwork(spec, sub);
    const project = net.layers.find((l) => l.id === 'b2.project');
    // block input 8x8x8; expand bypasses min(8, T=8)=8 channels; dw (stride 2) bypasses 8 channels at 4x4;
    // projection bypasses min(8, 8) = 8
    expect(project?.output).toEqual({ height: 4, width: 4, channels: 8 });
    expect(net.layers.find((l) => l.id === 'b2.dw')?.output).toEqual({ height: 4, width: 4, channels: 8 });
    expect(net.layers.find((l) => l.id === 'b2.dw')?.identity).toBe(false); // it still subsamples
    expect(net.layers.find((l) => l.id === 'head')?.input.channels).toBe(8);
  });

  it('a bottleneck (T < C) narrows the output below the input width', () => {
    // head: C = 16 input channels, T = 16... use b2.project: C = 32 (dw output), T = 8, M = 4 -> Z = max(min(32,8),4) = 8
    const sub = withChoice(spec, { 'b2.project': { level: 1 } });
    const net = resolveNetwork(spec, sub);
    const project = net.layers.find((l) => l.id === 'b2.project');
    expect(project?.input.channels).toBe(32);
    expect(project?.filters).toBe(4);
    expect(project?.output.channels).toBe(8);
    expect(project?.bypassChannels).toBe(4);
    expect(net.layers.find((l) => l.id === 'head')?.input.channels).toBe(8);
  });

  it('depthwise filters never exceed the input channels; SE follows the depthwise output', () => {
    const sub = withChoice(spec, { 'b1.expand': { level: 1 }, 'b1.dw': { level: 4 } });
    const net = resolveNetwork(spec, sub);
    const expand = net.layers.find((l) => l.id === 'b1.expand');
    const dw = net.layers.find((l) => l.id === 'b1.dw');
    const se = net.layers.find((l) => l.id === 'b1.se');
    expect(expand?.output.channels).toBe(8); // max(min(8, T=32), 8)
    expect(dw?.filters).toBe(8);
    expect(se?.input.channels).toBe(8);
  });

  it('MACs shrink monotonically from the full to the minimal sub-network, and the minimal one still connects', () => {
    const space = searchSpace(spec);
    const full = resolveNetwork(spec, fullSubnet(space));
    const min = resolveNetwork(spec, minimalSubnet(space));
    expect(full.macs).toBe(resolveNetwork(spec).macs);
    expect(min.macs).toBeLessThan(full.macs);
    expect(min.output.channels).toBe(10);
    const rng = new Rng(7);
    for (let i = 0; i < 50; i++) {
      const net = resolveNetwork(spec, randomSubnet(space, rng));
      expect(net.macs).toBeLessThanOrEqual(full.macs);
      expect(net.macs).toBeGreaterThanOrEqual(min.macs);
      for (const l of net.layers) expect(l.output.channels).toBeGreaterThan(0);
    }
  });

  it('sub-network JSON round-trips', () => {
    const space = searchSpace(spec);
    const sub = randomSubnet(space, new Rng(3));
    const json = JSON.parse(JSON.stringify(subnetToJson(space, sub)));
    expect(subnetKey(parseSubnet(spec, json))).toBe(subnetKey(sub));
  });

  it('without CBC no layer can be removed and Z = M', () => {
    const noCbc = parseNetworkSpec({ ...tiny, name: 'tiny-nocbc', cbc: false });
    const space = searchSpace(noCbc);
    expect(space.layers.filter((l) => l.op !== 'se').every((l) => l.minLevel === 1)).toBe(true);
    const net = resolveNetwork(noCbc, minimalSubnet(space));
    const stem = net.layers.find((l) => l.id === 'stem');
    expect(stem?.output.channels).toBe(stem?.filters);
  });
});

describe('residual blocks carry every channel of the block input (y = x + f(x))', () => {
  const withoutUnit = (spec: ReturnType<typeof parseNetworkSpec>, unit: string) =>
    parseNetworkSpec({ ...spec, name: `${spec.name}-without-${unit}`, layers: spec.layers.filter((u) => u.name !== unit) });
  const removedBlock = (spec: ReturnType<typeof parseNetworkSpec>, unit: string): SubnetConfig => {
    const space = searchSpace(spec);
    const config = fullSubnet(space);
    space.layers.forEach((layer, i) => {
      if (layer.unit === unit) config.levels[i] = 0;
    });
    return config;
  };

  it('removing only b11 of the full netadaptv2-latency network keeps its 14×14×128 stream', () => {
    const spec = loadNetwork('netadaptv2-latency');
    const net = resolveNetwork(spec, removedBlock(spec, 'b11'));
    expect(net.layers.find((l) => l.id === 'b11.project')?.output).toEqual({ height: 14, width: 14, channels: 128 });
    expect(net.layers.find((l) => l.id === 'b12.expand')?.input.channels).toBe(128);
    const without = resolveNetwork(withoutUnit(spec, 'b11'));
    expect(net.macs).toBe(without.macs);
    expect(net.params).toBe(without.params);
  });

  it('every residual block of several zoo networks, removed, costs what the network without it costs', () => {
    for (const name of ['netadaptv2-macs', 'mobilenet-v3-large-32', 'mobilenet-v3-demo-deep-cbc-32']) {
      const spec = loadNetwork(name);
      const residualUnits = resolveNetwork(spec).layers.filter((l) => l.residual && l.limit > 0).map((l) => l.unit);
      expect(residualUnits.length).toBeGreaterThan(2);
      for (const unit of residualUnits) {
        const net = resolveNetwork(spec, removedBlock(spec, unit));
        const without = resolveNetwork(withoutUnit(spec, unit));
        expect(net.layers.filter((l) => l.unit === unit).every((l) => l.identity)).toBe(true);
        expect([net.macs, net.params, net.output]).toEqual([without.macs, without.params, without.output]);
      }
    }
  });

  it('a projection narrower than the block input (M < Cb, also below T) outputs max(Cb, M) channels', () => {
    // netadaptv2-latency b11: Cb = 128, T = 64, M = 32 of 128 -> 128 channels: 32 filtered + residual, 96 residual only.
    const spec = loadNetwork('netadaptv2-latency');
    const net = resolveNetwork(spec, parseSubnet(spec, { layers: { 'b11.project': { filters: 32 } } }));
    const project = net.layers.find((l) => l.id === 'b11.project');
    expect(project?.limit).toBe(64);
    expect([project?.filters, project?.output.channels, project?.bypassChannels]).toEqual([32, 128, 128]);
  });

  it('without bypass (T = 0) a residual block still keeps its input width when its projection shrinks', () => {
    const spec = loadNetwork('mobilenet-v3-demo-deep-32');
    const space = searchSpace(spec);
    const config = fullSubnet(space);
    const index = space.layers.findIndex((l) => l.id === 'b3.project');
    config.levels[index] = 1;
    const project = resolveNetwork(spec, config).layers[space.layers.length] && resolveNetwork(spec, config).layers.find((l) => l.id === 'b3.project');
    expect(project?.residual).toBe(true);
    expect(project?.limit).toBe(0);
    expect(project?.output.channels).toBe(project?.blockInput?.channels);
    expect(project?.filters).toBeLessThan(project?.blockInput?.channels ?? 0);
  });
});

describe('layer signatures', () => {
  it('are stable strings that capture the latency-relevant configuration', () => {
    const spec = parseNetworkSpec(tiny);
    const net = resolveNetwork(spec);
    const stem = net.layers[0];
    expect(stem && layerSignature(stem)).toBe('v2;op=conv;in=16x16x3;f=8;out=8;k=3;s=2;act=relu;bn=1;byp=0;res=0');
    const project = net.layers.find((l) => l.id === 'b1.project');
    expect(project && layerSignature(project)).toBe('v2;op=conv;in=8x8x32;f=8;out=8;k=1;s=1;act=none;bn=1;byp=8;res=1');
  });

  it('identical layers in different places share a signature (dedupe for the LUT)', () => {
    const net = resolveNetwork(loadNetwork('mobilenet-v1'));
    const signatures = networkSignatures(net.layers);
    expect(new Set(signatures).size).toBeLessThan(signatures.length);
  });
});

describe('validation', () => {
  const spec = parseNetworkSpec(tiny);
  const problems = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return [(error as ValidationError).message, ...(error as ValidationError).details];
    }
    throw new Error('expected a ValidationError');
  };

  it('bad network JSON gives one line per problem naming the layer', () => {
    const bad = structuredClone(tiny) as unknown as { layers: Record<string, unknown>[] };
    (bad.layers[0] as Record<string, unknown>).kernel = 4;
    (bad.layers[1] as Record<string, unknown>).type = 'transformer';
    delete (bad.layers[3] as Record<string, unknown>).filters;
    (bad.layers[5] as Record<string, unknown>).units = 'ten';
    const lines = problems(() => parseNetworkSpec(bad));
    expect(lines[0]).toContain('not a valid network');
    expect(lines.some((l) => l.includes('layers[0] "stem".kernel') && l.includes('odd'))).toBe(true);
    expect(lines.some((l) => l.includes('layers[1] "b1".type'))).toBe(true);
    expect(lines.some((l) => l.includes('layers[3] "head".filters'))).toBe(true);
    expect(lines.some((l) => l.includes('layers[5] "fc".units') && l.includes('"ten"'))).toBe(true);
  });

  it('bad sub-network JSON: unknown layer, even kernel, width above full, negative, wrong type, missing layers', () => {
    const lines = problems(() =>
      parseSubnet(spec, {
        layers: {
          nope: { level: 1 },
          'b1.dw': { kernel: 4 },
          stem: { filters: 9 },
          head: { level: -1 },
          'b2.expand': { level: 'big' },
          'b1.expand': { kernel: 7 },
        },
      }),
    );
    expect(lines.some((l) => l.includes('"nope"'))).toBe(true);
    expect(lines.some((l) => l.includes('"b1.dw".kernel') && l.includes('even'))).toBe(true);
    expect(lines.some((l) => l.includes('"stem".filters') && l.includes('above the full width 8'))).toBe(true);
    expect(lines.some((l) => l.includes('"head".level') && l.includes('outside'))).toBe(true);
    expect(lines.some((l) => l.includes('"b2.expand".level') && l.includes('integer'))).toBe(true);
    expect(lines.some((l) => l.includes('"b1.expand".kernel') && l.includes('not one of 1'))).toBe(true);
    expect(problems(() => parseSubnet(spec, { nothing: 1 })).some((l) => l.includes('"layers"'))).toBe(true);
  });

  it('an fc layer without pooling before it is reported', () => {
    const bad = { ...tiny, layers: tiny.layers.filter((l) => l.type !== 'gap') };
    expect(problems(() => resolveNetwork(parseNetworkSpec(bad))).join(' ')).toContain('gap');
  });
});

describe('enumerateLayerVariants', () => {
  it('contains every layer signature of every sampled sub-network, each once', async () => {
    const { enumerateLayerVariants } = await import('../../../core/arch/index.ts');
    for (const name of ['mobilenet-v3-large-32', 'fastdepth-64']) {
      const spec = loadNetwork(name);
      const variants = enumerateLayerVariants(spec);
      const rng = new Rng(5);
      const space = searchSpace(spec);
      for (let i = 0; i < 100; i++) {
        const config = i === 0 ? minimalSubnet(space) : i === 1 ? fullSubnet(space) : randomSubnet(space, rng);
        for (const signature of networkSignatures(resolveNetwork(spec, config).layers)) {
          expect(variants.has(signature), `${name}: ${signature}`).toBe(true);
        }
      }
    }
  });

  it('dedupes identical layers across positions', async () => {
    const { enumerateLayerVariants } = await import('../../../core/arch/index.ts');
    const spec = parseNetworkSpec(tiny);
    const variants = enumerateLayerVariants(spec, { levels: () => [4], kernels: (l) => [l.fullKernel] });
    expect(variants.size).toBe(networkSignatures(resolveNetwork(spec).layers).length);
  });
});
