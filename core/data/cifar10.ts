/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html): data_batch_1.bin … data_batch_5.bin and
 * test_batch.bin, each a sequence of 3073-byte records: 1 label byte (0–9), then 1024 red, 1024 green and 1024 blue
 * bytes of a 32×32 image in row-major order. The files are read whole into memory (≈ 180 MB for the full set).
 * The held-out split is drawn from the five training batches; test_batch.bin is the test split.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FileFormatError } from '../errors.ts';
import type { Dataset } from './dataset.ts';
import { BYTE_TO_UNIT, SplitDataset, makeSplits, type BatchTarget, type SampleSource } from './indexed-split.ts';

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

const SIDE = 32;
const PIXELS = SIDE * SIDE;
const RECORD_BYTES = 1 + 3 * PIXELS;

export interface Cifar10Options {
  /** Folder with the .bin files, or its parent holding cifar-10-batches-bin/ (as the official archive unpacks). */
  readonly dir: string;
  /** Training images kept out of training for evaluation (default 5000 of the 50000). */
  readonly heldoutSize?: number;
  /** Seed of the held-out selection (default 1). */
  readonly seed?: number;
}

export async function openCifar10(options: Cifar10Options): Promise<Dataset> {
  const dir = await resolveCifarDir(options.dir);
  const trainFiles = await Promise.all(CIFAR10_TRAIN_FILES.map((name) => readCifarFile(path.join(dir, name))));
  const testFile = await readCifarFile(path.join(dir, CIFAR10_TEST_FILE));
  const pool = new CifarSource(trainFiles);
  const heldoutSize = options.heldoutSize ?? Math.min(5000, Math.floor(pool.count / 10));
  return new SplitDataset(
    {
      kind: 'classification',
      name: `cifar10 (${dir})`,
      inputShape: [SIDE, SIDE, 3],
      numClasses: CIFAR10_CLASS_NAMES.length,
      classNames: await readClassNames(dir),
    },
    makeSplits(pool, heldoutSize, options.seed ?? 1, new CifarSource([testFile])),
  );
}

async function resolveCifarDir(dir: string): Promise<string> {
  const nested = path.join(dir, 'cifar-10-batches-bin');
  const isDir = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
  if (await isDir(nested)) return nested;
  if (await isDir(dir)) return dir;
  throw new FileFormatError(`CIFAR-10 folder not found: ${dir}`, [
    'expected a folder holding data_batch_1.bin … data_batch_5.bin and test_batch.bin (the "binary version" of CIFAR-10)',
  ]);
}

interface CifarFile {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly records: number;
}

/** Reads and validates one batch file: size a positive multiple of 3073, every label 0–9. */
export async function readCifarFile(file: string): Promise<CifarFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new FileFormatError(`CIFAR-10 file missing: ${file}`, [
        'the binary version of CIFAR-10 has data_batch_1.bin … data_batch_5.bin and test_batch.bin in one folder',
      ]);
    }
    throw new FileFormatError(`cannot read CIFAR-10 file ${file}: ${(err as Error).message}`);
  }
  if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
    throw new FileFormatError(
      `CIFAR-10 file ${file} is truncated or not CIFAR-10 binary: ${bytes.length} bytes is not a positive multiple of the ${RECORD_BYTES}-byte record`,
      [`each record is 1 label byte + ${3 * PIXELS} pixel bytes; ${bytes.length % RECORD_BYTES} bytes are left over`],
    );
  }
  const records = bytes.length / RECORD_BYTES;
  for (let r = 0; r < records; r++) {
    const label = bytes[r * RECORD_BYTES] as number;
    if (label >= CIFAR10_CLASS_NAMES.length) {
      throw new FileFormatError(`CIFAR-10 file ${file} is corrupt: record ${r} has label ${label}, labels must be 0–9`, [
        'CIFAR-100 binary files (2 label bytes per record) are not CIFAR-10',
      ]);
    }
  }
  return { file, bytes, records };
}

/** batches.meta.txt (one class name per line) when present and sensible, else the standard names. */
async function readClassNames(dir: string): Promise<readonly string[]> {
  const text = await readFile(path.join(dir, 'batches.meta.txt'), 'utf8').catch(() => '');
  const names = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return names.length === CIFAR10_CLASS_NAMES.length ? names : [...CIFAR10_CLASS_NAMES];
}

class CifarSource implements SampleSource {
  readonly kind = 'classification';
  readonly height = SIDE;
  readonly width = SIDE;
  readonly count: number;
  /** Index of the first record of each file, plus the total at the end. */
  private readonly starts: number[];

  constructor(private readonly files: readonly CifarFile[]) {
    this.starts = [0];
    for (const f of files) this.starts.push((this.starts[this.starts.length - 1] as number) + f.records);
    this.count = this.starts[files.length] as number;
  }

  write(index: number, target: BatchTarget, slot: number): void {
    let f = 0;
    while (index >= (this.starts[f + 1] as number)) f++;
    const bytes = (this.files[f] as CifarFile).bytes;
    const record = (index - (this.starts[f] as number)) * RECORD_BYTES;
    if (target.labels) target.labels[slot] = bytes[record] as number;
    const images = target.images;
    const out = slot * PIXELS * 3;
    const r = record + 1;
    const g = r + PIXELS;
    const b = g + PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[out + p * 3] = BYTE_TO_UNIT[bytes[r + p] as number] as number;
      images[out + p * 3 + 1] = BYTE_TO_UNIT[bytes[g + p] as number] as number;
      images[out + p * 3 + 2] = BYTE_TO_UNIT[bytes[b + p] as number] as number;
    }
  }
}
