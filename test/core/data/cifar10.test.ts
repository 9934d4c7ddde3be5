import { mkdtempSync, rmSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASS_NAMES, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, openCifar10 } from '../../../core/data/cifar10.ts';
import { FileFormatError } from '../../../core/errors.ts';

const RECORD = 3073;
const root = mkdtempSync(path.join(os.tmpdir(), 'netadapt-cifar-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Record r of file f: label (f * 7 + r) % 10; red pixel 0 = f, green pixel 0 = r (identity); else (r + c·50 + p) % 256. */
function record(f: number, r: number): Buffer {
  const out = Buffer.alloc(RECORD);
  out[0] = (f * 7 + r) % 10;
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[1 + c * 1024 + p] = (r + c * 50 + p) % 256;
  out[1] = f;
  out[1 + 1024] = r;
  return out;
}

function writeCifar(dir: string, recordsPerFile = 20): void {
  mkdirSync(dir, { recursive: true });
  [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].forEach((name, f) => {
    writeFileSync(path.join(dir, name), Buffer.concat(Array.from({ length: recordsPerFile }, (_, r) => record(f, r))));
  });
}

async function expectFileError(promise: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileFormatError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(problem);
}

describe('CIFAR-10 binary reader', () => {
  it('reads planar RGB records into NHWC [-1, 1] with labels; held-out from the training batches; test = test_batch', async () => {
    const dir = path.join(root, 'ok');
    writeCifar(dir);
    const ds = await openCifar10({ dir, heldoutSize: 10, seed: 3 });
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual([...CIFAR10_CLASS_NAMES]);
    expect(ds.split('train').size).toBe(90);
    expect(ds.split('heldout').size).toBe(10);
    expect(ds.split('test').size).toBe(20);

    // Training pool index 45 = file 2 (data_batch_3), record 5. Find where it landed.
    const train = ds.split('train');
    const heldout = ds.split('heldout');
    const expected = record(2, 5);
    const toUnit = (b: number): number => Math.fround(b / 127.5 - 1);
    const findIn = (split: typeof train): number => {
      const b = split.get(Array.from({ length: split.size }, (_, i) => i));
      for (let i = 0; i < b.size; i++) {
        const img = b.images.subarray(i * 3072, (i + 1) * 3072);
        if (img[0] === toUnit(2) && img[1] === toUnit(5)) {
          expect(img[2]).toBe(toUnit(expected[1 + 2048] as number));
          // pixel 33 (row 1, column 1), blue channel
          expect(img[33 * 3 + 2]).toBe(toUnit(expected[1 + 2048 + 33] as number));
          expect(b.labels?.[i]).toBe(expected[0]);
          return 1;
        }
      }
      return 0;
    };
    expect(findIn(train) + findIn(heldout)).toBe(1);

    const test = ds.split('test').get([4]);
    const t = record(5, 4);
    expect(test.labels?.[0]).toBe(t[0]);
    expect(test.images[0]).toBe(toUnit(t[1] as number));
    expect(test.images[3 * 1023 + 1]).toBe(toUnit(t[1 + 1024 + 1023] as number));
  });

  it('train and held-out together hold every training record exactly once (disjoint by identity)', async () => {
    const dir = path.join(root, 'ok');
    const ds = await openCifar10({ dir, heldoutSize: 25, seed: 9 });
    const ids = (which: 'train' | 'heldout'): string[] => {
      const split = ds.split(which);
      const b = split.get(Array.from({ length: split.size }, (_, i) => i));
      return Array.from({ length: b.size }, (_, i) => `${Math.round(((b.images[i * 3072] as number) + 1) * 127.5)}/${Math.round(((b.images[i * 3072 + 1] as number) + 1) * 127.5)}`);
    };
    const train = ids('train');
    const heldout = ids('heldout');
    expect(heldout.length).toBe(25);
    expect(new Set([...train, ...heldout]).size).toBe(100);
    expect(heldout.filter((id) => train.includes(id))).toEqual([]);
  });

  it('finds the files inside cifar-10-batches-bin/ as the official archive unpacks', async () => {
    writeCifar(path.join(root, 'archive', 'cifar-10-batches-bin'), 3);
    const ds = await openCifar10({ dir: path.join(root, 'archive'), heldoutSize: 1 });
    expect(ds.split('train').size).toBe(14);
  });

  it('a truncated file → FileFormatError naming the file and the byte count', async () => {
    const dir = path.join(root, 'truncated');
    writeCifar(dir, 4);
    const file = path.join(dir, 'data_batch_3.bin');
    truncateSync(file, 4 * RECORD - 100);
    await expectFileError(openCifar10({ dir }), file, /truncated.*12192 bytes is not a positive multiple of the 3073-byte record/);
  });

  it('a missing file → FileFormatError naming it', async () => {
    const dir = path.join(root, 'missing');
    writeCifar(dir, 2);
    rmSync(path.join(dir, CIFAR10_TEST_FILE));
    await expectFileError(openCifar10({ dir }), path.join(dir, CIFAR10_TEST_FILE), /missing/);
  });

  it('a label outside 0–9 → FileFormatError naming the file and record', async () => {
    const dir = path.join(root, 'badlabel');
    writeCifar(dir, 3);
    const bad = Buffer.concat([record(0, 0), record(0, 1), record(0, 2)]);
    bad[2 * RECORD] = 42;
    writeFileSync(path.join(dir, 'data_batch_1.bin'), bad);
    await expectFileError(openCifar10({ dir }), path.join(dir, 'data_batch_1.bin'), /record 2 has label 42/);
  });

  it('an empty file and a missing folder are reported', async () => {
    const dir = path.join(root, 'empty');
    writeCifar(dir, 1);
    writeFileSync(path.join(dir, 'data_batch_5.bin'), Buffer.alloc(0));
    await expectFileError(openCifar10({ dir }), path.join(dir, 'data_batch_5.bin'), /0 bytes/);
    await expectFileError(openCifar10({ dir: path.join(root, 'nowhere') }), path.join(root, 'nowhere'), /not found/);
  });
});
