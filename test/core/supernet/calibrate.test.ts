import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveNetwork } from '../../../core/arch/index.ts';
import { openDataset } from '../../../core/data/open.ts';
import { calibrateActivationRanges, calibrationBatches } from '../../../core/supernet/calibrate.ts';
import { materialize } from '../../../core/supernet/materialize.ts';
import { INPUT_RANGE_KEY, rangeKey } from '../../../core/weights/activation-ranges.ts';
import { useTestBackend } from './backend.ts';
import { randomizedWeights, smallSpec } from './fixtures.ts';

const disposables: { dispose(): void }[] = [];
beforeAll(useTestBackend);
afterAll(() => disposables.forEach((d) => d.dispose()));

async function setup() {
  const spec = smallSpec();
  const dataset = await openDataset(`synthetic?size=${spec.input.height}&trainSize=48&heldoutSize=4`);
  const weights = randomizedWeights(spec, 3);
  const slim = materialize(weights);
  const images = calibrationBatches(dataset, 40, { batchSize: 16 });
  disposables.push(weights, slim, ...images);
  return { spec, slim, images };
}

const inputValues = (images: readonly tf.Tensor4D[]): Float32Array => Float32Array.from(images.flatMap((t) => Array.from(t.dataSync())));

describe('calibrateActivationRanges', () => {
  it('min/max gives the extremes of the calibration images; every output of the network has a range', async () => {
    const { spec, slim, images } = await setup();
    const ranges = calibrateActivationRanges(slim, images, { method: 'minmax' });
    const values = inputValues(images);
    expect(images.reduce((n, t) => n + (t.shape[0] as number), 0)).toBe(40);
    expect(ranges.get(INPUT_RANGE_KEY)).toEqual({ min: Math.min(...values), max: Math.max(...values) });
    for (const layer of resolveNetwork(spec).layers) {
      const r = ranges.get(rangeKey(layer.id, 'output'));
      expect(r, layer.id).toBeDefined();
      expect(r!.max, layer.id).toBeGreaterThanOrEqual(r!.min);
    }
  });

  it('a percentile clips each tail to at most its share of the values (within one histogram bin), inside the extremes', async () => {
    const { slim, images } = await setup();
    const extremes = calibrateActivationRanges(slim, images, { method: 'minmax' });
    const clipped = calibrateActivationRanges(slim, images, { method: 'percentile', percentile: 99 });
    const values = inputValues(images);
    const full = extremes.get(INPUT_RANGE_KEY)!;
    const r = clipped.get(INPUT_RANGE_KEY)!;
    const bin = (full.max - full.min) / 2048;
    expect(r.min).toBeGreaterThan(full.min);
    expect(r.max).toBeLessThan(full.max);
    const below = values.filter((v) => v < r.min - bin).length / values.length;
    const above = values.filter((v) => v > r.max + bin).length / values.length;
    expect(below).toBeLessThanOrEqual(0.01);
    expect(above).toBeLessThanOrEqual(0.01);
    for (const [key, range] of clipped) {
      const e = extremes.get(key)!;
      expect(range.min, key).toBeGreaterThanOrEqual(e.min - 1e-6);
      expect(range.max, key).toBeLessThanOrEqual(e.max + 1e-6);
    }
    // The default is percentile 99.99.
    expect(calibrateActivationRanges(slim, images)).toEqual(calibrateActivationRanges(slim, images, { method: 'percentile', percentile: 99.99 }));
  });

  it('refuses a percentile outside (50, 100] and an empty calibration set', async () => {
    const { slim, images } = await setup();
    expect(() => calibrateActivationRanges(slim, images, { method: 'percentile', percentile: 40 })).toThrow(/percentile must be in \(50, 100\], got 40/);
    expect(() => calibrateActivationRanges(slim, [])).toThrow(/at least one image/);
  });
});
