import { describe, expect, it } from 'vitest';
import { combineCbcParts } from '../../bench/ablation-combine.ts';

const training = (testTop1: number) => ({ steps: 10, trainSeconds: 1, heldoutTop1: testTop1, testTop1 });
const row = (cbc: boolean, seed: number, standaloneTest: number, removedLayerCount = cbc ? 2 : 0) => ({
  network: cbc ? 'net-cbc' : 'net',
  cbc,
  seed,
  removedLayerCount,
  removedLayers: [],
  superNetworkTrainSeconds: 1,
  superNetworkHeldoutTop1: 0.5,
  superNetworkTestTop1: 0.5,
  search: {},
  afterFinalTraining: training(0.8),
  standalone: training(standaloneTest),
});
const part = (rows: unknown[], overrides: Record<string, unknown> = {}) => ({
  b_cbcVsNoCbc: { pair: 'deep', metric: 'macs', targetFraction: 0.2, setting: 'MCD J=10 L=4 r=5%', finalTrainingSteps: 150, standaloneEpochs: 12, unreachable: [], rows, ...overrides },
});

describe('combining part (b) results', () => {
  it('judges the goals over the seeds of all runs', () => {
    // Run A alone: CBC 0.90 vs 0.95 (lower); pooled with run B the CBC median is higher.
    const a = part([row(true, 1, 0.9), row(false, 1, 0.95)]);
    const b = part([row(true, 2, 0.96), row(true, 3, 0.97), row(false, 2, 0.9), row(false, 3, 0.91)]);
    const combined = combineCbcParts([{ name: 'a.json', result: a }, { name: 'b.json', result: b }]);
    expect(combined['seeds']).toEqual([1, 2, 3]);
    expect(combined['sources']).toEqual(['a.json', 'b.json']);
    const goals = combined['goals'] as Record<string, { met: boolean; cbcStandaloneHigherInSeeds?: number }>;
    expect(goals['b_cbcScoresHigher']!.met).toBe(true);
    expect(goals['b_cbcScoresHigher']!.cbcStandaloneHigherInSeeds).toBe(2);
    expect(goals['b_cbcRemovesWholeLayers']!.met).toBe(true);
    expect(combineCbcParts([{ name: 'a.json', result: a }])['goals']).toMatchObject({ b_cbcScoresHigher: { met: false } });
  });

  it('refuses runs of different settings, repeated seeds and files without part (b)', () => {
    const a = part([row(true, 1, 0.9), row(false, 1, 0.95)]);
    expect(() => combineCbcParts([{ name: 'a.json', result: a }, { name: 'b.json', result: part([row(true, 2, 0.9), row(false, 2, 0.9)], { targetFraction: 0.3 }) }])).toThrow(
      /b\.json differs from a\.json in targetFraction \(0\.3 vs 0\.2\)/,
    );
    expect(() => combineCbcParts([{ name: 'a.json', result: a }, { name: 'a2.json', result: a }])).toThrow(/CBC seed 1 appears in more than one result/);
    expect(() => combineCbcParts([{ name: 'c.json', result: { benchmark: 'ablation' } }])).toThrow(/c\.json has no part \(b\) result/);
    expect(() => combineCbcParts([])).toThrow(/no results/);
  });

  it('keeps a target one network could not reach as not comparable', () => {
    const unreachable = [{ network: 'net', cbc: false, message: 'target below the smallest sub-network' }];
    const combined = combineCbcParts([{ name: 'a.json', result: part([row(true, 1, 0.9)], { unreachable }) }]);
    expect(combined['goals']).toMatchObject({ b_cbcScoresHigher: { met: false, criterion: expect.stringMatching(/not comparable/) } });
  });
});
