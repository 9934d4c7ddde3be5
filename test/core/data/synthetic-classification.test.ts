import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/data/dataset.ts';
import { DEFAULT_DIFFICULTY, SHAPE_CLASS_NAMES, syntheticClassification } from '../../../core/data/synthetic-classification.ts';

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);

describe('synthetic classification', () => {
  it('describes itself: 32×32×3 input, 10 named classes, train/heldout/test splits of the requested sizes', () => {
    const ds = syntheticClassification({ trainSize: 500, heldoutSize: 100, testSize: 50 });
    expect(ds.kind).toBe('classification');
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual(SHAPE_CLASS_NAMES.slice(0, 10));
    expect(ds.split('train').size).toBe(500);
    expect(ds.split('heldout').size).toBe(100);
    expect(ds.split('test').size).toBe(50);
  });

  it('sample i is the same image whatever order or batch it is generated in, and from a fresh dataset', () => {
    const a = syntheticClassification({ seed: 7 }).split('train');
    const b = syntheticClassification({ seed: 7 }).split('train');
    const forward = a.get([5, 6, 7]);
    const single = b.get([7]);
    expect(Array.from(single.images)).toEqual(Array.from(forward.images.subarray(2 * 3072)));
    expect(single.labels?.[0]).toBe(forward.labels?.[2]);
    const other = syntheticClassification({ seed: 8 }).split('train').get([7]);
    expect(Array.from(other.images)).not.toEqual(Array.from(single.images));
  });

  it('same seed → byte-identical epoch batches in the same order', () => {
    const run = (): Float32Array[] => [...syntheticClassification({ seed: 3, trainSize: 96, heldoutSize: 10 }).split('train').batches(32, { seed: 11, epoch: 1 })].map((x) => x.images);
    const first = run();
    const second = run();
    expect(first.length).toBe(3);
    first.forEach((images, i) => expect(Buffer.from(images.buffer).equals(Buffer.from((second[i] as Float32Array).buffer))).toBe(true));
  });

  it('values are in [-1, 1], use the range, and images differ within a class', () => {
    const b = syntheticClassification({}).split('train').get(range(200));
    let min = Infinity;
    let max = -Infinity;
    for (const v of b.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    expect(max - min).toBeGreaterThan(1.5);
    const labels = Array.from(b.labels ?? []);
    const sameClass = labels.flatMap((l, i) => (l === labels[0] ? [i] : []));
    expect(sameClass.length).toBeGreaterThan(5);
    const img = (i: number) => Array.from(b.images.subarray(i * 3072, (i + 1) * 3072));
    expect(img(sameClass[1] as number)).not.toEqual(img(sameClass[0] as number));
  });

  it('classes are balanced in train, and roughly in held-out and test', () => {
    const ds = syntheticClassification({ trainSize: 2000, heldoutSize: 500, testSize: 500, classes: 10 });
    const histogram = (split: 'train' | 'heldout' | 'test'): number[] => {
      const s = ds.split(split);
      const counts = new Array<number>(10).fill(0);
      const b = s.get(range(s.size));
      for (const l of b.labels ?? []) counts[l] = (counts[l] as number) + 1;
      return counts;
    };
    const pool = histogram('train').map((c, i) => c + (histogram('heldout')[i] as number));
    expect(pool).toEqual(new Array(10).fill(250));
    for (const c of histogram('heldout')) expect(c).toBeGreaterThan(25);
    expect(histogram('test')).toEqual(new Array(10).fill(50));
  });

  it('held-out samples are training-stream samples kept out of train, and test samples are different images', () => {
    const ds = syntheticClassification({ trainSize: 300, heldoutSize: 60, testSize: 60 });
    const key = (b: Batch, i: number): string => Buffer.from(b.images.buffer, i * 3072 * 4, 3072 * 4).toString('base64');
    const keys = (split: 'train' | 'heldout' | 'test'): Set<string> => {
      const s = ds.split(split);
      const b = s.get(range(s.size));
      return new Set(range(b.size).map((i) => key(b, i)));
    };
    const train = keys('train');
    const heldout = keys('heldout');
    const test = keys('test');
    expect(train.size).toBe(300);
    expect(heldout.size).toBe(60);
    for (const k of heldout) expect(train.has(k)).toBe(false);
    for (const k of test) expect(train.has(k) || heldout.has(k)).toBe(false);
  });

  it('size and classes are configurable', () => {
    const ds = syntheticClassification({ size: 48, classes: 12, trainSize: 24, heldoutSize: 0, testSize: 0 });
    const b = ds.split('train').get(range(24));
    expect(b.images.length).toBe(24 * 48 * 48 * 3);
    expect(new Set(b.labels).size).toBe(12);
    expect(ds.splitNames).toEqual(['train', 'heldout']);
    expect(() => syntheticClassification({ classes: 13 })).toThrow(/classes/);
  });

  it('generates fast (prints images per CPU-second; asserts only a loose floor)', () => {
    const split = syntheticClassification({ trainSize: 6000, heldoutSize: 0 }).split('train');
    split.get(range(200)); // warm-up
    const cpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    const wallStart = performance.now();
    const cpuStart = cpu();
    for (let i = 200; i < 6000; i += 200) split.get(range(200, i));
    const cpuSeconds = cpu() - cpuStart;
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const perCpuSecond = 5800 / cpuSeconds;
    console.log(`synthetic classification 32×32: ${perCpuSecond.toFixed(0)} images per CPU-second (${(5800 / wallSeconds).toFixed(0)}/s wall, one thread)`);
    expect(perCpuSecond).toBeGreaterThan(500);
  });
});

/**
 * Learnability without tfjs: rotation-invariant hand features (mean gradient magnitude, high-frequency ratio, and
 * the magnitudes of the first six angular harmonics of the gradient-orientation histogram) fed to a softmax
 * regression. It must beat chance clearly (the labels are learnable from the pixels) yet stay far below 100% (the
 * task needs more than a linear model on simple statistics), and it must score higher on clean images than on the
 * default difficulty (the difficulty knob works).
 */
describe('synthetic classification learnability (plain TS softmax regression on gradient features)', () => {
  const HARMONICS = 6;
  const F = HARMONICS + 2;

  function features(b: Batch): Float64Array {
    const s = b.width;
    const out = new Float64Array(b.size * F);
    const grey = new Float64Array(s * s);
    for (let n = 0; n < b.size; n++) {
      for (let p = 0; p < s * s; p++) {
        const o = (n * s * s + p) * 3;
        grey[p] = 0.299 * (b.images[o] as number) + 0.587 * (b.images[o + 1] as number) + 0.114 * (b.images[o + 2] as number);
      }
      const re = new Float64Array(HARMONICS);
      const im = new Float64Array(HARMONICS);
      let magnitude = 0;
      let laplacian = 0;
      for (let y = 1; y < s - 1; y++) {
        for (let x = 1; x < s - 1; x++) {
          const at = (yy: number, xx: number): number => grey[yy * s + xx] as number;
          const gx = at(y, x + 1) - at(y, x - 1);
          const gy = at(y + 1, x) - at(y - 1, x);
          const m = Math.hypot(gx, gy);
          const theta = Math.atan2(gy, gx);
          magnitude += m;
          for (let k = 0; k < HARMONICS; k++) {
            re[k] = (re[k] as number) + m * Math.cos((k + 1) * theta);
            im[k] = (im[k] as number) + m * Math.sin((k + 1) * theta);
          }
          laplacian += Math.abs(4 * at(y, x) - at(y, x + 1) - at(y, x - 1) - at(y + 1, x) - at(y - 1, x));
        }
      }
      for (let k = 0; k < HARMONICS; k++) out[n * F + k] = Math.hypot(re[k] as number, im[k] as number) / (magnitude + 1e-9);
      out[n * F + HARMONICS] = magnitude / (s * s);
      out[n * F + HARMONICS + 1] = laplacian / (magnitude + 1e-9);
    }
    return out;
  }

  function accuracy(difficulty: number): { train: number; test: number } {
    const ds = syntheticClassification({ difficulty, trainSize: 2000, heldoutSize: 0, testSize: 1000, seed: 5 });
    const classes = ds.numClasses as number;
    const train = ds.split('train').get(range(2000));
    const test = ds.split('test').get(range(1000));
    const a = features(train);
    const b = features(test);
    const mean = new Float64Array(F);
    const sd = new Float64Array(F);
    for (let i = 0; i < a.length; i++) mean[i % F] = (mean[i % F] as number) + (a[i] as number) / train.size;
    for (let i = 0; i < a.length; i++) sd[i % F] = (sd[i % F] as number) + ((a[i] as number) - (mean[i % F] as number)) ** 2 / train.size;
    for (const x of [a, b]) for (let i = 0; i < x.length; i++) x[i] = ((x[i] as number) - (mean[i % F] as number)) / Math.sqrt((sd[i % F] as number) + 1e-12);
    const w = new Float64Array(classes * F);
    const bias = new Float64Array(classes);
    const z = new Float64Array(classes);
    const scores = (x: Float64Array, n: number): void => {
      for (let c = 0; c < classes; c++) {
        let sum = bias[c] as number;
        for (let f = 0; f < F; f++) sum += (w[c * F + f] as number) * (x[n * F + f] as number);
        z[c] = sum;
      }
    };
    for (let epoch = 0; epoch < 30; epoch++) {
      const lr = 0.05 / (1 + 0.2 * epoch);
      for (let n = 0; n < train.size; n++) {
        scores(a, n);
        const max = Math.max(...z);
        let total = 0;
        for (let c = 0; c < classes; c++) total += (z[c] = Math.exp((z[c] as number) - max));
        for (let c = 0; c < classes; c++) {
          const g = (z[c] as number) / total - (c === train.labels?.[n] ? 1 : 0);
          bias[c] = (bias[c] as number) - lr * g;
          for (let f = 0; f < F; f++) w[c * F + f] = (w[c * F + f] as number) - lr * g * (a[n * F + f] as number);
        }
      }
    }
    const score = (x: Float64Array, labels: Int32Array | undefined, count: number): number => {
      let correct = 0;
      for (let n = 0; n < count; n++) {
        scores(x, n);
        if (z.indexOf(Math.max(...z)) === labels?.[n]) correct++;
      }
      return correct / count;
    };
    return { train: score(a, train.labels, train.size), test: score(b, test.labels, test.size) };
  }

  it('scores well above chance (10%) but far below 100%, and clean images are easier than the default', () => {
    const hard = accuracy(DEFAULT_DIFFICULTY);
    const clean = accuracy(0);
    console.log(
      `softmax regression on 8 gradient features, 10 classes: default difficulty test ${(hard.test * 100).toFixed(1)}% ` +
        `(train ${(hard.train * 100).toFixed(1)}%), difficulty 0 test ${(clean.test * 100).toFixed(1)}%`,
    );
    expect(hard.test).toBeGreaterThan(0.18);
    expect(hard.test).toBeLessThan(0.6);
    expect(clean.test).toBeGreaterThan(hard.test + 0.1);
  });
});
