/**
 * Classification images in class folders: `root/<class>/*.jpg|*.jpeg|*.png` (extensions case-insensitive; hidden
 * entries and other files ignored). Classes are the sub-folders sorted by name (code-point order), so class i is
 * the same on every machine. Every image is decoded once at open time (sharp, cover resize + centre crop, see
 * image-files.ts) into an in-memory byte cache of count × size × size × 3 bytes (3 KB per 32×32 image); opening
 * either loads every image or throws. The held-out split is drawn from root; `testDir` (same layout, same classes)
 * is the test split.
 */
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { Dataset } from './dataset.ts';
import { byName, decodeRgb, isImageFile, listFolder, loadAll, type LoadProgress } from './image-files.ts';
import { SplitDataset, makeSplits } from './indexed-split.ts';
import { MemorySource } from './memory-source.ts';

export interface ImageFolderOptions {
  readonly dir: string;
  /** Side of the square network input in pixels (default 32). */
  readonly size?: number;
  /** Training images kept out of training (default 10% of them, rounded down). */
  readonly heldoutSize?: number;
  /** Seed of the held-out selection (default 1). */
  readonly seed?: number;
  /** Optional separate test folder with the same class folders. */
  readonly testDir?: string;
  /** Images decoded at the same time (default 4). */
  readonly concurrency?: number;
  readonly onProgress?: LoadProgress;
}

export interface ImageFolderListing {
  readonly classes: readonly string[];
  readonly files: readonly { readonly file: string; readonly label: number }[];
}

export async function openImageFolder(options: ImageFolderOptions): Promise<Dataset> {
  const size = options.size ?? 32;
  const listing = await listImageFolder(options.dir);
  const testListing = options.testDir === undefined ? undefined : await listImageFolder(options.testDir);
  if (testListing && testListing.classes.join('\n') !== listing.classes.join('\n')) {
    throw new UserError(`test folder ${options.testDir} does not have the same class folders as ${options.dir}`, [
      `training classes: ${listing.classes.join(', ')}`,
      `test classes: ${testListing.classes.join(', ')}`,
    ]);
  }
  const total = listing.files.length + (testListing?.files.length ?? 0);
  let loadedBefore = 0;
  const progress = options.onProgress && ((done: number) => options.onProgress?.(loadedBefore + done, total));
  const pool = await loadImages(listing, size, options.concurrency ?? 4, progress);
  loadedBefore = listing.files.length;
  const test = testListing && (await loadImages(testListing, size, options.concurrency ?? 4, progress));
  const heldoutSize = options.heldoutSize ?? Math.floor(pool.count / 10);
  return new SplitDataset(
    {
      kind: 'classification',
      name: `image-folder (${options.dir})`,
      inputShape: [size, size, 3],
      numClasses: listing.classes.length,
      classNames: listing.classes,
    },
    makeSplits(pool, heldoutSize, options.seed ?? 1, test),
  );
}

/** Class folders (sorted) and their image files (sorted), with clear errors for an empty layout. */
export async function listImageFolder(dir: string): Promise<ImageFolderListing> {
  const entries = await listFolder(dir, 'image folder');
  const classes = entries.filter((e) => e.isDirectory).map((e) => e.name);
  if (classes.length === 0) {
    throw new UserError(`image folder ${dir} has no class folders`, ['expected one sub-folder per class: <dir>/<class>/*.jpg|*.jpeg|*.png']);
  }
  if (classes.length === 1) {
    throw new UserError(`image folder ${dir} has only one class folder ("${classes[0] as string}"): classification needs at least two`, [
      'expected one sub-folder per class: <dir>/<class>/*.jpg|*.jpeg|*.png',
    ]);
  }
  const files: { file: string; label: number }[] = [];
  const empty: string[] = [];
  for (const [label, name] of classes.entries()) {
    const classDir = path.join(dir, name);
    const images = (await listFolder(classDir, 'class folder')).filter((e) => e.isFile && isImageFile(e.name)).map((e) => e.name);
    if (images.length === 0) empty.push(classDir);
    for (const image of images.sort(byName)) files.push({ file: path.join(classDir, image), label });
  }
  if (empty.length > 0) {
    throw new UserError(`image folder ${dir}: ${empty.length} class folder(s) hold no .jpg/.jpeg/.png images`, empty);
  }
  return { classes, files };
}

async function loadImages(listing: ImageFolderListing, size: number, concurrency: number, onProgress?: LoadProgress): Promise<MemorySource> {
  const source = new MemorySource('classification', size, listing.files.length);
  const bytesPerImage = size * size * 3;
  await loadAll(
    listing.files.length,
    concurrency,
    async (i) => {
      const { file, label } = listing.files[i] as { file: string; label: number };
      source.images.set(await decodeRgb(file, size), i * bytesPerImage);
      (source.labels as Int32Array)[i] = label;
    },
    onProgress,
  );
  return source;
}
