import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listImageFolder, openImageFolder } from '../../../core/data/image-folder.ts';
import { FileFormatError, type UserError } from '../../../core/errors.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'netadapt-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Rgb = [number, number, number];

/** A width × height image: `centre` colour, with bands of `edge` colour in the outer `band` columns on each side. */
async function writeImage(file: string, width: number, height: number, centre: Rgb, edge: Rgb = centre, band = 0): Promise<void> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = x < band || x >= width - band ? edge : centre;
      data.set(c, (y * width + x) * 3);
    }
  }
  const img = sharp(data, { raw: { width, height, channels: 3 } });
  mkdirSync(path.dirname(file), { recursive: true });
  await (file.endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

const RED: Rgb = [220, 30, 30];
const BLUE: Rgb = [30, 30, 220];
const GREEN: Rgb = [30, 200, 30];

describe('image folder dataset', () => {
  const good = path.join(root, 'good');
  beforeAll(async () => {
    // "cats" sorts before "dogs": label 0 = cats. Wide images with blue side bands cropped away by the centre crop.
    for (let i = 0; i < 6; i++) await writeImage(path.join(good, 'cats', `c${i}.png`), 90, 30, RED, BLUE, 15);
    for (let i = 0; i < 5; i++) await writeImage(path.join(good, 'dogs', `d${i}.JPG`), 30, 50, GREEN);
    // a greyscale JPEG and an RGBA PNG are accepted too
    await sharp(Buffer.alloc(20 * 20, 128), { raw: { width: 20, height: 20, channels: 1 } }).jpeg().toFile(path.join(good, 'dogs', 'grey.jpeg'));
    await sharp(Buffer.alloc(20 * 20 * 4, 200), { raw: { width: 20, height: 20, channels: 4 } }).png().toFile(path.join(good, 'dogs', 'rgba.png'));
    writeFileSync(path.join(good, 'dogs', 'notes.txt'), 'not an image, ignored');
    writeFileSync(path.join(good, 'cats', '.hidden.png'), 'hidden, ignored');
  });

  it('lists classes sorted by name and images per class, ignoring other and hidden files', async () => {
    const listing = await listImageFolder(good);
    expect(listing.classes).toEqual(['cats', 'dogs']);
    expect(listing.files.filter((f) => f.label === 0).length).toBe(6);
    expect(listing.files.filter((f) => f.label === 1).map((f) => path.basename(f.file))).toEqual(['d0.JPG', 'd1.JPG', 'd2.JPG', 'd3.JPG', 'd4.JPG', 'grey.jpeg', 'rgba.png']);
  });

  it('decodes every image to size × size RGB in [-1, 1] with a centre crop, labels by class, splits the pool', async () => {
    const progress: number[] = [];
    const ds = await openImageFolder({ dir: good, size: 16, heldoutSize: 3, seed: 2, onProgress: (done, total) => progress.push(done / total) });
    expect(ds.inputShape).toEqual([16, 16, 3]);
    expect(ds.numClasses).toBe(2);
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    expect(ds.split('train').size + ds.split('heldout').size).toBe(13);
    expect(ds.split('heldout').size).toBe(3);
    expect(ds.splitNames).not.toContain('test');
    expect(progress.at(-1)).toBe(1);

    const all = [...ds.split('train').batches(20, { seed: 1 }), ...ds.split('heldout').batches(20, { seed: 1 })];
    let cats = 0;
    for (const b of all) {
      for (let i = 0; i < b.size; i++) {
        const img = b.images.subarray(i * 768, (i + 1) * 768);
        if (b.labels?.[i] !== 0) continue;
        cats++;
        // every pixel, including the left and right columns, is red: the blue bands were cropped away
        for (const p of [0, 15, 8 * 16 + 8, 255]) {
          expect(img[p * 3]).toBeCloseTo(220 / 127.5 - 1, 1);
          expect(img[p * 3 + 2]).toBeCloseTo(30 / 127.5 - 1, 1);
        }
      }
      for (const v of b.images) if (v < -1 || v > 1) throw new Error(`value ${v} out of range`);
    }
    expect(cats).toBe(6);
  });

  it('a corrupt image → FileFormatError naming the file, and nothing is returned', async () => {
    const dir = path.join(root, 'corrupt');
    await writeImage(path.join(dir, 'a', 'ok.png'), 8, 8, RED);
    await writeImage(path.join(dir, 'b', 'ok.png'), 8, 8, BLUE);
    const bad = path.join(dir, 'b', 'broken.png');
    writeFileSync(bad, Buffer.from('this is not a PNG file at all'));
    const err = await openImageFolder({ dir, size: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toContain(bad);
  });

  it('a truncated JPEG → FileFormatError naming the file', async () => {
    const dir = path.join(root, 'truncated');
    const file = path.join(dir, 'a', 'photo.jpg');
    await writeImage(file, 64, 64, RED, BLUE, 20);
    await writeImage(path.join(dir, 'b', 'fine.jpg'), 64, 64, BLUE, RED, 20); // two classes: one is refused first
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await openImageFolder({ dir, size: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toContain(file);
  });

  it('an empty class folder, no class folders, a missing folder → clear UserErrors', async () => {
    const empty = path.join(root, 'emptyclass');
    await writeImage(path.join(empty, 'a', 'x.png'), 8, 8, RED);
    mkdirSync(path.join(empty, 'b'));
    await expect(openImageFolder({ dir: empty })).rejects.toThrow(new RegExp(`class folder\\(s\\) hold no .jpg/.jpeg/.png images`));
    const err = await openImageFolder({ dir: empty }).catch((e: unknown) => e);
    expect((err as UserError).details).toEqual([path.join(empty, 'b')]);

    const flat = path.join(root, 'flat');
    await writeImage(path.join(flat, 'x.png'), 8, 8, RED);
    await expect(openImageFolder({ dir: flat })).rejects.toThrow(/has no class folders/);
    await expect(openImageFolder({ dir: path.join(root, 'absent') })).rejects.toThrow(/image folder not found/);
  });

  it('a test folder must have the same classes; then it is the test split', async () => {
    const test = path.join(root, 'test-ok');
    await writeImage(path.join(test, 'cats', 't.png'), 8, 8, RED);
    await writeImage(path.join(test, 'dogs', 't.png'), 8, 8, GREEN);
    const ds = await openImageFolder({ dir: good, size: 8, testDir: test });
    expect(ds.split('test').size).toBe(2);
    expect(Array.from(ds.split('test').get([0, 1]).labels ?? [])).toEqual([0, 1]);

    const wrong = path.join(root, 'test-wrong');
    await writeImage(path.join(wrong, 'cats', 't.png'), 8, 8, RED);
    await writeImage(path.join(wrong, 'birds', 't.png'), 8, 8, GREEN);
    await expect(openImageFolder({ dir: good, testDir: wrong })).rejects.toThrow(/does not have the same class folders/);
  });
});
