import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { listDepthPairs, openDepthPairs } from '../../../core/data/depth-pairs.ts';
import { FileFormatError } from '../../../core/errors.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'netadapt-depth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function writeRgb(file: string, width: number, height: number, value = 100): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(Buffer.alloc(width * height * 3, value), { raw: { width, height, channels: 3 } });
  await (file.endsWith('.png') ? img.png() : img.jpeg()).toFile(file);
}

/** 16-bit single-channel PNG with depth(x, y) in millimetres. */
async function writeDepth(file: string, width: number, height: number, mm: (x: number, y: number) => number): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = mm(x, y);
  await sharp(data, { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toFile(file);
}

describe('RGB/depth pair folders (rgb/<name>.png|jpg + depth/<name>.png, 16-bit millimetres)', () => {
  it('pairs files by name, resizes both with the same crop, depth in metres with nearest-neighbour sampling', async () => {
    const dir = path.join(root, 'good');
    for (let i = 0; i < 4; i++) {
      await writeRgb(path.join(dir, 'rgb', `scene${i}.${i % 2 ? 'jpg' : 'png'}`), 40, 40, 50 + i * 40);
      // left half 1000 mm, right half (1000 + 1000 i) mm, a 0 (no measurement) pixel in the top-left corner
      await writeDepth(path.join(dir, 'depth', `scene${i}.png`), 40, 40, (x, y) => (x === 0 && y === 0 ? 0 : x < 20 ? 1000 : 1000 + 1000 * i));
    }
    const pairs = await listDepthPairs(dir);
    expect(pairs.map((p) => p.name)).toEqual(['scene0', 'scene1', 'scene2', 'scene3']);
    const ds = await openDepthPairs({ dir, size: 8, heldoutSize: 1 });
    expect(ds.kind).toBe('depth');
    expect(ds.inputShape).toEqual([8, 8, 3]);
    expect(ds.split('train').size).toBe(3);
    const split = ds.split('train');
    const b = split.get([0, 1, 2]);
    expect(b.depth?.length).toBe(3 * 64);
    for (let i = 0; i < 3; i++) {
      const d = Array.from(b.depth?.subarray(i * 64, (i + 1) * 64) ?? []);
      const rightValue = d[8 + 7] as number;
      const allowed = new Set([0, 1, rightValue]);
      for (const v of d) expect(allowed.has(Math.round(v * 1000) / 1000)).toBe(true); // nothing blended
      expect(d[8]).toBeCloseTo(1, 6); // left column: 1 m
      expect([1, 2, 3, 4]).toContain(rightValue);
      // the colour image is the matching pair's: brightness encodes i, depth's right half encodes i as well
      const brightness = Math.round(((b.images[i * 192] as number) + 1) * 127.5);
      expect(Math.abs(brightness - (50 + (rightValue - 1) * 40))).toBeLessThanOrEqual(3);
    }
  });

  it('a colour image without its depth partner → FileFormatError naming both files', async () => {
    const dir = path.join(root, 'missing');
    await writeRgb(path.join(dir, 'rgb', 'a.png'), 8, 8);
    await writeDepth(path.join(dir, 'depth', 'a.png'), 8, 8, () => 1500);
    await writeRgb(path.join(dir, 'rgb', 'b.jpg'), 8, 8);
    const err = await openDepthPairs({ dir, size: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toContain(path.join(dir, 'rgb', 'b.jpg'));
    expect((err as Error).message).toContain(path.join(dir, 'depth', 'b.png'));
  });

  it('a depth map without its colour partner → FileFormatError naming it', async () => {
    const dir = path.join(root, 'orphan');
    await writeRgb(path.join(dir, 'rgb', 'a.png'), 8, 8);
    await writeDepth(path.join(dir, 'depth', 'a.png'), 8, 8, () => 1500);
    await writeDepth(path.join(dir, 'depth', 'z.png'), 8, 8, () => 1500);
    await expect(openDepthPairs({ dir })).rejects.toThrow(path.join(dir, 'depth', 'z.png'));
  });

  it('different sizes in a pair → FileFormatError naming both files and sizes', async () => {
    const dir = path.join(root, 'mismatch');
    await writeRgb(path.join(dir, 'rgb', 'a.png'), 16, 12);
    await writeDepth(path.join(dir, 'depth', 'a.png'), 16, 16, () => 1500);
    const err = await openDepthPairs({ dir, size: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toMatch(/16×12 but .*16×16/);
    expect((err as Error).message).toContain(path.join(dir, 'rgb', 'a.png'));
    expect((err as Error).message).toContain(path.join(dir, 'depth', 'a.png'));
  });

  it('an 8-bit depth PNG → FileFormatError explaining the 16-bit millimetre format', async () => {
    const dir = path.join(root, 'eightbit');
    await writeRgb(path.join(dir, 'rgb', 'a.png'), 8, 8);
    mkdirSync(path.join(dir, 'depth'), { recursive: true });
    await sharp(Buffer.alloc(64, 30), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(path.join(dir, 'depth', 'a.png'));
    await expect(openDepthPairs({ dir, size: 8 })).rejects.toThrow(/single-channel 16-bit PNG \(depth in millimetres\)/);
  });

  it('a folder without rgb/ → clear error', async () => {
    await expect(openDepthPairs({ dir: path.join(root, 'nothing-here') })).rejects.toThrow(/rgb folder of a depth-pairs dataset not found/);
  });
});
