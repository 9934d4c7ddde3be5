import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, searchSpace } from '../../core/arch/index.ts';
import { describeSetting, parseAblationArgs, removedLayers } from '../../bench/ablation.ts';

describe('ablation bench helpers', () => {
  it('removedLayers lists the non-SE layers a sub-network removes entirely', () => {
    const spec = loadNetwork('mobilenet-v3-demo-cbc-32');
    const space = searchSpace(spec);
    const full = fullSubnet(space);
    expect(removedLayers(spec, full)).toEqual([]);
    const config = { levels: full.levels.slice(), kernels: full.kernels.slice() };
    const byId = (id: string) => space.layers.find((l) => l.id === id)!.index;
    config.levels[byId('b3.expand')] = 0;
    config.levels[byId('b4.se')] = 0; // removing SE is not removing a layer of the network's depth
    expect(removedLayers(spec, config)).toEqual(['b3.expand']);
  });

  it('parses the command line and refuses unknown parts', () => {
    expect(parseAblationArgs(['--quick', '--only', 'a,c'])).toEqual({ quick: true, synthetic: false, only: ['a', 'c'] });
    expect(parseAblationArgs([])).toEqual({ quick: false, synthetic: false });
    expect(() => parseAblationArgs(['--only', 'x'])).toThrow(/parts a, b, c/);
    expect(parseAblationArgs(['--only', 'b', '--cbc-target', '0.2'])).toEqual({ quick: false, synthetic: false, only: ['b'], cbcTarget: 0.2 });
    expect(() => parseAblationArgs(['--cbc-target', '1.5'])).toThrow(/fraction between 0 and 1/);
    expect(parseAblationArgs(['--only', 'b', '--depth-sampling', 'coherent'])).toEqual({ quick: false, synthetic: false, only: ['b'], depthSampling: 'coherent' });
    expect(() => parseAblationArgs(['--depth-sampling', 'often'])).toThrow(/--depth-sampling takes one of coherent, random, single/);
    expect(parseAblationArgs(['--cbc-metric', 'latency'])).toEqual({ quick: false, synthetic: false, cbcMetric: 'latency' });
    expect(parseAblationArgs(['--removal-share', '0.25'])).toEqual({ quick: false, synthetic: false, removalShare: 0.25 });
    expect(() => parseAblationArgs(['--removal-share', '0'])).toThrow(/--removal-share takes a fraction in \(0, 1\]/);
    expect(() => parseAblationArgs(['--cbc-metric', 'flops'])).toThrow(/--cbc-metric takes macs or latency \(got "flops"\)/);
  });

  it('labels optimizer settings', () => {
    expect(describeSetting({ algorithm: 'mcd', samplesPerIteration: 8, layersPerSample: 4, reduction: 0.05 })).toBe('MCD J=8 L=4 r=5%');
    expect(describeSetting({ algorithm: 'scd', samplesPerIteration: 1, layersPerSample: 1, reduction: 0.015 })).toBe('SCD r=1.5%');
  });
});
