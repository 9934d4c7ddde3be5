import { describe, expect, it } from 'vitest';
import { randomCropFlip, randomFlip } from '../../../core/data/augment.ts';
import type { Batch } from '../../../core/data/dataset.ts';

/** N samples of H×W whose pixel (y, x) channel c holds a unique value; depth = y * 100 + x. */
function numbered(n: number, h: number, w: number): Batch {
  const images = new Float32Array(n * h * w * 3);
  const depth = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) images[((i * h + y) * w + x) * 3 + c] = 1 + i * 10000 + y * 100 + x + c * 0.25;
        depth[(i * h + y) * w + x] = 1 + y * 100 + x;
      }
    }
  }
  return { size: n, height: h, width: w, images, depth, labels: Int32Array.from({ length: n }, (_, i) => i), indices: Int32Array.from({ length: n }, (_, i) => i) };
}

/** Recovers (dy, dx, mirrored) of sample i from its output: some in-bounds pixel tells where it came from. */
function transformOf(out: Batch, i: number): { dy: number; dx: number; mirror: boolean } {
  const { height: h, width: w } = out;
  const at = (y: number, x: number): number => out.images[((i * h + y) * w + x) * 3] as number;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w - 1; x++) {
      const v = at(y, x);
      const next = at(y, x + 1);
      if (v === 0 || next === 0) continue;
      const local = v - 1 - i * 10000;
      const sy = Math.floor(local / 100);
      const sx = local - sy * 100;
      const mirror = next < v;
      return { dy: sy - y, dx: mirror ? sx - (w - 1 - x) : sx - x, mirror };
    }
  }
  throw new Error('no source pixel found');
}

describe('augmentation', () => {
  it('random crop with padding + flip: every output pixel is the shifted/mirrored input or 0, same for all channels', () => {
    const input = numbered(40, 8, 8);
    const out = randomCropFlip(input, { seed: 5, padding: 2 });
    const mirrors = new Set<boolean>();
    const shifts = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const { dy, dx, mirror } = transformOf(out, i);
      expect(Math.abs(dy)).toBeLessThanOrEqual(2);
      expect(Math.abs(dx)).toBeLessThanOrEqual(2);
      mirrors.add(mirror);
      shifts.add(`${dy},${dx}`);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const sy = y + dy;
          const sx = (mirror ? 7 - x : x) + dx;
          for (let c = 0; c < 3; c++) {
            const got = out.images[((i * 8 + y) * 8 + x) * 3 + c];
            const inside = sy >= 0 && sy < 8 && sx >= 0 && sx < 8;
            expect(got).toBe(inside ? input.images[((i * 8 + sy) * 8 + sx) * 3 + c] : 0);
          }
          // depth follows the same transform
          const inside = sy >= 0 && sy < 8 && sx >= 0 && sx < 8;
          expect(out.depth?.[(i * 8 + y) * 8 + x]).toBe(inside ? 1 + sy * 100 + sx : 0);
        }
      }
    }
    expect(mirrors.size).toBe(2);
    expect(shifts.size).toBeGreaterThan(8);
    expect(Array.from(out.labels ?? [])).toEqual(Array.from(input.labels ?? []));
  });

  it('is pure and deterministic: same seed same output, input untouched, other seeds differ', () => {
    const input = numbered(16, 6, 6);
    const copy = Float32Array.from(input.images);
    const a = randomCropFlip(input, { seed: 1 });
    const b = randomCropFlip(input, { seed: 1 });
    const c = randomCropFlip(input, { seed: 2 });
    expect(Array.from(input.images)).toEqual(Array.from(copy));
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    expect(Array.from(a.images)).not.toEqual(Array.from(c.images));
  });

  it('randomFlip (depth) only mirrors: image and depth flipped together, no shift, no zeros', () => {
    const input = numbered(30, 4, 5);
    const out = randomFlip(input, { seed: 3 });
    let flipped = 0;
    for (let i = 0; i < 30; i++) {
      const t = transformOf(out, i);
      expect(t.dy).toBe(0);
      expect(t.dx).toBe(0);
      if (t.mirror) flipped++;
      const firstDepth = out.depth?.[i * 20];
      expect(firstDepth).toBe(t.mirror ? 1 + 4 : 1);
    }
    expect(flipped).toBeGreaterThan(5);
    expect(flipped).toBeLessThan(25);
    expect(Array.from(out.images).every((v) => v !== 0)).toBe(true);
  });
});
