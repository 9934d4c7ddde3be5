import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { minimalSubnet, searchSpace, type SubnetConfig } from '../../../../core/arch/index.ts';
import { classificationLoss } from '../../../../core/supernet/losses.ts';
import { distillationLoss } from '../../../../core/supernet/losses.ts';
import { subnetSliceMasks } from '../../../../core/supernet/slice-masks.ts';
import { trainSubnetwork } from '../../../../core/supernet/training/subnet-trainer.ts';
import { SupernetWeights } from '../../../../core/supernet/weights.ts';
import { useTestBackend } from '../backend.ts';
import { resumeFixture } from './train-fixture.ts';

beforeAll(async () => {
  await useTestBackend();
});

/** Half-width-ish sub-network: every layer one level down from full (kernels smallest). */
function midSubnet(spec = resumeFixture().spec): SubnetConfig {
  const space = searchSpace(spec);
  const min = minimalSubnet(space);
  return { levels: space.layers.map((l) => Math.max(l.minLevel, space.widthLevels - 3)), kernels: min.kernels };
}

const config = { batchSize: 8, seed: 5, lr: 0.02, optimizer: 'sgd' as const, warmupEpochs: 0, weightDecay: 1e-3 };

describe('trainSubnetwork', () => {
  it('changes only the sub-network slice of the weights, and lowers its loss', async () => {
    const { spec, dataset } = resumeFixture();
    const weights = SupernetWeights.init(spec, 11);
    const subnet = midSubnet(spec);
    const masks = subnetSliceMasks(weights, subnet);
    const before = weights.snapshot();
    const { losses, steps } = await trainSubnetwork({ weights, subnet, dataset, steps: 36, config });
    expect(steps).toBe(36);
    const after = weights.snapshot();
    let changedInside = 0;
    let outsideCount = 0;
    for (const [name, old] of before) {
      const mask = masks.get(name) as Uint8Array;
      const now = after.get(name) as Float32Array;
      for (let j = 0; j < old.length; j++) {
        if (mask[j] === 0) {
          outsideCount++;
          expect(now[j], `${name}[${j}] outside the slice`).toBe(old[j]);
        } else if (now[j] !== old[j]) changedInside++;
      }
    }
    expect(outsideCount).toBeGreaterThan(0);
    expect(changedInside).toBeGreaterThan(0);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-6))).toBeLessThan(mean(losses.slice(0, 6)));
    weights.dispose();
  }, 60_000);

  it('slice masks cover exactly the materialized channels', () => {
    const { spec } = resumeFixture();
    const weights = SupernetWeights.init(spec, 1);
    const subnet = midSubnet(spec);
    const masks = subnetSliceMasks(weights, subnet);
    const full = subnetSliceMasks(weights, { levels: searchSpace(spec).layers.map(() => searchSpace(spec).widthLevels - 1), kernels: searchSpace(spec).layers.map((l) => l.fullKernel) });
    const count = (m: Map<string, Uint8Array>) => [...m.values()].reduce((a, v) => a + v.reduce((s, x) => s + x, 0), 0);
    const total = [...full.values()].reduce((a, v) => a + v.length, 0);
    expect(count(full)).toBe(total);
    expect(count(masks)).toBeLessThan(total);
    // The stem's kernel [3,3,3,8]: the slice keeps the first M output channels of every tap.
    const stem = masks.get('stem.kernel') as Uint8Array;
    const kept = stem.slice(0, 8).reduce((s, x) => s + x, 0);
    for (let tap = 0; tap < 27; tap++) {
      const row = stem.slice(tap * 8, tap * 8 + 8);
      expect([...row]).toEqual([...Array.from({ length: kept }, () => 1), ...Array.from({ length: 8 - kept }, () => 0)]);
    }
    weights.dispose();
  });

  it('distillation loss equals the cross-entropy when alpha = 0, and adds the KL term otherwise', () => {
    tf.tidy(() => {
      const student = tf.tensor2d([[1, 2, 0.5], [0.1, -1, 2]]);
      const teacher = tf.tensor2d([[3, 0, 0], [0, 0, 3]]);
      const labels = tf.tensor1d([1, 2], 'int32');
      const ce = classificationLoss(student, labels, 0.1).dataSync()[0] as number;
      const d0 = distillationLoss(student, teacher, labels, { alpha: 0, temperature: 4, labelSmoothing: 0.1 }).dataSync()[0] as number;
      expect(d0).toBeCloseTo(ce, 6);
      const d1 = distillationLoss(student, teacher, labels, { alpha: 1, temperature: 2, labelSmoothing: 0.1 }).dataSync()[0] as number;
      // Hand-computed KL(softmax(t/2) ‖ softmax(s/2)) · 4.
      const softmax = (v: number[]) => {
        const e = v.map((x) => Math.exp(x / 2));
        const z = e.reduce((a, b) => a + b, 0);
        return e.map((x) => x / z);
      };
      const rows: [number[], number[]][] = [[[1, 2, 0.5], [3, 0, 0]], [[0.1, -1, 2], [0, 0, 3]]];
      let kl = 0;
      for (const [s, t] of rows) {
        const ps = softmax(s);
        const pt = softmax(t);
        kl += pt.reduce((a, p, i) => a + p * Math.log(p / (ps[i] as number)), 0);
      }
      expect(d1).toBeCloseTo((4 * kl) / 2, 5);
      // A student equal to the teacher has zero KL.
      expect(distillationLoss(teacher, teacher, labels, { alpha: 1, temperature: 3, labelSmoothing: 0 }).dataSync()[0]).toBeCloseTo(0, 6);
    });
  });

  it('trains with a teacher, deterministically, and resumes with the same losses', async () => {
    const { spec, dataset } = resumeFixture();
    const subnet = midSubnet(spec);
    const teacherWeights = SupernetWeights.init(spec, 99);
    const teacher = { weights: teacherWeights, alpha: 0.5, temperature: 2 };
    const run = async (stopAt?: number) => {
      const weights = SupernetWeights.init(spec, 3);
      const controller = new AbortController();
      // The optimizer is only valid during the callback: copy its slots there, as resume.ts does.
      let saved: { step: number; slots: Map<string, Float32Array> } | undefined;
      const first = await trainSubnetwork({
        weights, subnet, dataset, steps: 10, config, teacher, signal: controller.signal,
        onEvent: (e) => { if (stopAt !== undefined && e.step === stopAt) controller.abort(); },
        onCheckpoint: (s) => (saved = { step: s.step, slots: new Map(s.optimizer.stateTensors().map((t) => [t.key, t.data.slice()])) }),
      });
      if (stopAt === undefined) return { losses: first.losses, weights: weights.snapshot() };
      expect(first.interrupted).toBe(true);
      expect(saved?.step).toBe(stopAt);
      const state = saved as NonNullable<typeof saved>;
      const rest = await trainSubnetwork({ weights, subnet, dataset, steps: 10, config, teacher, startStep: state.step, optimizerState: (k) => state.slots.get(k) });
      expect(rest.steps).toBe(10);
      return { losses: [...first.losses, ...rest.losses], weights: weights.snapshot() };
    };
    const a = await run();
    const b = await run(4);
    expect(b.losses.length).toBe(10);
    a.losses.forEach((l, i) => expect(b.losses[i]).toBeCloseTo(l, 5));
    for (const [name, data] of a.weights) {
      const other = b.weights.get(name) as Float32Array;
      let diff = 0;
      for (let j = 0; j < data.length; j++) diff = Math.max(diff, Math.abs((data[j] as number) - (other[j] as number)));
      expect(diff, name).toBeLessThan(1e-5);
    }
    teacherWeights.dispose();
  }, 60_000);
});
