import { describe, expect, it } from 'vitest';
import { fullSubnet, loadNetwork, searchSpace } from '../../core/arch/index.ts';
import { CBC_PAIRS, cbcGoals, describeSetting, parseAblationArgs, removedLayers, summarizeCbcRows, supernetCheckpointDir } from '../../bench/ablation.ts';

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
    expect(() => parseAblationArgs(['--depth-sampling', 'often'])).toThrow(/--depth-sampling takes one of coherent, random, single, multi/);
    expect(parseAblationArgs(['--cbc-metric', 'latency'])).toEqual({ quick: false, synthetic: false, cbcMetric: 'latency' });
    expect(parseAblationArgs(['--removal-share', '0.25'])).toEqual({ quick: false, synthetic: false, removalShare: 0.25 });
    expect(() => parseAblationArgs(['--removal-share', '0'])).toThrow(/--removal-share takes a fraction in \(0, 1\]/);
    expect(() => parseAblationArgs(['--cbc-metric', 'flops'])).toThrow(/--cbc-metric takes macs or latency \(got "flops"\)/);
    expect(parseAblationArgs(['--cbc-pair', 'deep'])).toEqual({ quick: false, synthetic: false, cbcPair: 'deep' });
    expect(parseAblationArgs(['--only', 'a', '--mcd-shrink', 'every-chosen-layer'])).toEqual({ quick: false, synthetic: false, only: ['a'], mcdShrink: 'every-chosen-layer' });
    expect(() => parseAblationArgs(['--mcd-shrink', 'all'])).toThrow(/--mcd-shrink takes one of stop-at-target, every-chosen-layer \(got "all"\)/);
    expect(() => parseAblationArgs(['--cbc-pair', 'wide'])).toThrow(/--cbc-pair takes demo, deep, mobilenet-v1 \(got "wide"\)/);
    expect(parseAblationArgs(['--cbc-seeds', '1,2,5', '--standalone-epochs', '12', '--supernet-dir', 'nets', '--out', 'b.json'])).toEqual({
      quick: false,
      synthetic: false,
      cbcSeeds: [1, 2, 5],
      standaloneEpochs: 12,
      supernetDir: 'nets',
      outFile: 'b.json',
    });
    expect(() => parseAblationArgs(['--cbc-seeds', '1,x'])).toThrow(/--cbc-seeds takes integers/);
    expect(() => parseAblationArgs(['--standalone-epochs', '-1'])).toThrow(/--standalone-epochs takes a number of epochs/);
    expect(() => parseAblationArgs(['--supernet-dir'])).toThrow(/--supernet-dir takes a directory/);
    expect(() => parseAblationArgs(['--out', '--quick'])).toThrow(/--out takes a file name/);
  });

  it('pairs networks that differ only in their bypass limits', () => {
    for (const pair of Object.values(CBC_PAIRS)) {
      const cbc = searchSpace(loadNetwork(pair.cbc));
      const plain = searchSpace(loadNetwork(pair.plain));
      expect(cbc.layers.map((l) => l.id)).toEqual(plain.layers.map((l) => l.id));
      // Every layer of the CBC network can be removed; the plain network only bypasses depthwise and SE layers.
      expect(cbc.layers.every((l) => l.minLevel === 0)).toBe(true);
      expect(plain.layers.filter((l) => l.minLevel === 0).every((l) => l.id.endsWith('.dw') || l.id.endsWith('.se'))).toBe(true);
    }
  });

  it('keeps one super-network checkpoint directory per network, recipe and data set', () => {
    const spec = loadNetwork('mobilenet-v3-demo-deep-cbc-32');
    const data = { trainSize: 100, heldoutSize: 10, testSize: 10 };
    const dir = supernetCheckpointDir('nets', spec, { epochs: 12 }, data);
    expect(dir).toMatch(/^nets[\\/]mobilenet-v3-demo-deep-cbc-32-[0-9a-f]{12}$/);
    expect(supernetCheckpointDir('nets', spec, { epochs: 12 }, data)).toBe(dir);
    expect(supernetCheckpointDir('nets', spec, { epochs: 6 }, data)).not.toBe(dir);
    expect(supernetCheckpointDir('nets', spec, { epochs: 12 }, { ...data, trainSize: 200 })).not.toBe(dir);
    expect(supernetCheckpointDir('nets', loadNetwork('mobilenet-v3-demo-deep-32'), { epochs: 12 }, data)).not.toBe(dir);
  });

  it('summarizes part (b) per side over search seeds', () => {
    const row = (cbc: boolean, seed: number, removed: number, test: number) => ({
      cbc,
      seed,
      removedLayerCount: removed,
      superNetworkHeldoutTop1: test - 0.2,
      afterFinalTraining: { steps: 1, trainSeconds: 1, heldoutTop1: test - 0.01, testTop1: test },
    });
    const summary = summarizeCbcRows([
      row(true, 1, 3, 0.85), row(true, 2, 0, 0.8), row(true, 3, 2, 0.9),
      row(false, 1, 0, 0.82), row(false, 2, 0, 0.83), row(false, 3, 0, 0.84),
    ]);
    expect(summary.cbc.removedLayerCounts).toEqual([3, 0, 2]);
    expect(summary.cbc.medianRemovedLayers).toBe(2);
    expect(summary.cbc.medianFinalTestTop1).toBe(0.85);
    expect(summary.noCbc.medianFinalTestTop1).toBe(0.83);
    expect(summary.noCbc.medianFinalHeldoutTop1).toBeCloseTo(0.82);
    expect(summary.cbcHigherInSeeds).toBe(2); // seeds 1 and 3; seed 2 lost
    expect(summary.cbc.medianStandaloneTestTop1).toBeUndefined();
    expect(summary.cbcStandaloneHigherInSeeds).toBeUndefined();
    const alone = (r: ReturnType<typeof row>, test: number) => ({ ...r, standalone: { steps: 9, trainSeconds: 1, heldoutTop1: test, testTop1: test } });
    const withAlone = summarizeCbcRows([
      alone(row(true, 1, 3, 0.85), 0.93), alone(row(true, 2, 0, 0.8), 0.9),
      alone(row(false, 1, 0, 0.82), 0.91), alone(row(false, 2, 0, 0.83), 0.92),
    ]);
    expect(withAlone.cbc.medianStandaloneTestTop1).toBeCloseTo(0.915);
    expect(withAlone.noCbc.medianStandaloneTestTop1).toBeCloseTo(0.915);
    expect(withAlone.cbcStandaloneHigherInSeeds).toBe(1);
    expect(() => summarizeCbcRows([row(true, 1, 0, 0.5)])).toThrow(/no no-CBC rows/);
  });

  it("judges part (b)'s goals: stand-alone training decides when present, an unreachable target is not comparable", () => {
    const row = (cbc: boolean, seed: number, removed: number, short: number, alone?: number) => ({
      cbc,
      seed,
      removedLayerCount: removed,
      superNetworkHeldoutTop1: 0.5,
      afterFinalTraining: { steps: 1, trainSeconds: 1, heldoutTop1: short, testTop1: short },
      ...(alone === undefined ? {} : { standalone: { steps: 1, trainSeconds: 1, heldoutTop1: alone, testTop1: alone } }),
    });
    // Lower after the short training, higher trained alone: the stand-alone comparison decides.
    const both = cbcGoals([row(true, 1, 2, 0.8, 0.93), row(false, 1, 0, 0.85, 0.92)], [], 6);
    expect(both.removesWholeLayers.met).toBe(true);
    expect(both.scoresHigher).toMatchObject({ met: true, shortFinalTrainingHigher: false });
    const shortOnly = cbcGoals([row(true, 1, 2, 0.8), row(false, 1, 0, 0.85)], [], 0);
    expect(shortOnly.scoresHigher.met).toBe(false);
    expect(shortOnly.scoresHigher.criterion).toMatch(/short final training/);
    const removedNone = cbcGoals([row(true, 1, 0, 0.9), row(false, 1, 0, 0.85)], [], 0);
    expect(removedNone.removesWholeLayers.met).toBe(false);
    expect(removedNone.scoresHigher.met).toBe(true);
    const unreachable = cbcGoals([row(true, 1, 1, 0.9)], [{ network: 'plain', cbc: false, message: 'unreachable' }], 6);
    expect(unreachable.summary).toBeUndefined();
    expect(unreachable.removesWholeLayers.met).toBe(true);
    expect(unreachable.scoresHigher).toMatchObject({ met: false, criterion: expect.stringMatching(/not comparable/) });
  });

  it('labels optimizer settings', () => {
    expect(describeSetting({ algorithm: 'mcd', samplesPerIteration: 8, layersPerSample: 4, reduction: 0.05 })).toBe('MCD J=8 L=4 r=5%');
    expect(describeSetting({ algorithm: 'scd', samplesPerIteration: 1, layersPerSample: 1, reduction: 0.015 })).toBe('SCD r=1.5%');
  });
});
