import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork, resolveNetwork } from '../../../core/arch/index.ts';
import { depthLoss } from '../../../core/supernet/losses.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG } from '../../../core/supernet/training/recipes.ts';
import { useTestBackend } from './backend.ts';

beforeAll(async () => {
  await useTestBackend();
});

describe('berHu depth loss', () => {
  it('has a gradient (no comparison op on the tape) equal to the berHu derivative with c held constant', () => {
    // log-depth errors d = [0.1, -0.5, 1.0, 0] (last pixel has no measurement); c = 0.2 · max|d| = 0.2.
    const depth = tf.tensor4d([1, 1, 1, 0], [1, 2, 2, 1]);
    const pred = tf.tensor4d([0.1, -0.5, 1.0, 3], [1, 2, 2, 1]);
    const grad = tf.grad((p: tf.Tensor) => depthLoss(p as tf.Tensor4D, depth, 'berhu'))(pred);
    const g = Array.from(grad.dataSync());
    const value = depthLoss(pred, depth, 'berhu').dataSync()[0] as number;
    const c = 0.2;
    const berhu = (d: number) => (Math.abs(d) <= c ? Math.abs(d) : (d * d + c * c) / (2 * c));
    expect(value).toBeCloseTo((berhu(0.1) + berhu(-0.5) + berhu(1.0)) / 3, 5);
    // d/dd: sign(d) inside c, d / c outside; averaged over the 3 valid pixels; 0 where there is no measurement.
    expect(g[0]).toBeCloseTo(1 / 3, 5);
    expect(g[1]).toBeCloseTo(-0.5 / c / 3, 5);
    expect(g[2]).toBeCloseTo(1.0 / c / 3, 5);
    expect(g[3]).toBeCloseTo(0, 6);
    tf.dispose([depth, pred, grad]);
  });
});

describe('demo network', () => {
  it('is a small MobileNetV3-style classifier with SE, hswish and residual blocks', () => {
    const spec = loadNetwork(DEMO_NETWORK);
    const full = resolveNetwork(spec);
    expect(full.macs).toBeLessThan(1.5e6);
    expect(full.output.channels).toBe(10);
    expect(full.layers.some((l) => l.op === 'se')).toBe(true);
    expect(full.layers.some((l) => l.act === 'hswish')).toBe(true);
    expect(full.layers.some((l) => l.residual)).toBe(true);
    expect(DEMO_TRAIN_CONFIG.epochs).toBeGreaterThan(0);
  });
});
