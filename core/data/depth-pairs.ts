/**
 * RGB/depth pairs on disk, one convention:
 *
 *   <dir>/rgb/<name>.png|.jpg|.jpeg    the colour image
 *   <dir>/depth/<name>.png             its depth: single-channel 16-bit PNG, millimetres, 0 = no measurement
 *
 * (NYU Depth v2 exported this way works as is.) Every rgb image needs a depth partner with the same <name> and
 * vice versa, and both must have the same width and height; otherwise opening fails naming the files. Both are
 * resized to size × size with the same cover resize + centre crop (depth with nearest neighbour, see
 * image-files.ts) and held in memory (size² × 5 bytes per pair). Depth comes out in metres.
 * The held-out split is drawn from <dir>; `testDir` (same layout) is the test split.
 */
import path from 'node:path';
import { FileFormatError, UserError } from '../errors.ts';
import type { Dataset } from './dataset.ts';
import { decodeGrey16, decodeRgb, imageSize, isImageFile, listFolder, loadAll, type LoadProgress } from './image-files.ts';
import { SplitDataset, makeSplits } from './indexed-split.ts';
import { MemorySource } from './memory-source.ts';

export interface DepthPairsOptions {
  readonly dir: string;
  /** Side of the square network input in pixels (default 64). */
  readonly size?: number;
  /** Training pairs kept out of training (default 10% of them, rounded down). */
  readonly heldoutSize?: number;
  /** Seed of the held-out selection (default 1). */
  readonly seed?: number;
  /** Optional separate test folder with the same layout. */
  readonly testDir?: string;
  /** Pairs decoded at the same time (default 4). */
  readonly concurrency?: number;
  readonly onProgress?: LoadProgress;
}

export interface DepthPair {
  readonly name: string;
  readonly rgb: string;
  readonly depth: string;
}

export async function openDepthPairs(options: DepthPairsOptions): Promise<Dataset> {
  const size = options.size ?? 64;
  const pairs = await listDepthPairs(options.dir);
  const testPairs = options.testDir === undefined ? undefined : await listDepthPairs(options.testDir);
  const total = pairs.length + (testPairs?.length ?? 0);
  let loadedBefore = 0;
  const progress = options.onProgress && ((done: number) => options.onProgress?.(loadedBefore + done, total));
  const pool = await loadPairs(pairs, size, options.concurrency ?? 4, progress);
  loadedBefore = pairs.length;
  const test = testPairs && (await loadPairs(testPairs, size, options.concurrency ?? 4, progress));
  const heldoutSize = options.heldoutSize ?? Math.floor(pool.count / 10);
  return new SplitDataset(
    { kind: 'depth', name: `depth-pairs (${options.dir})`, inputShape: [size, size, 3] },
    makeSplits(pool, heldoutSize, options.seed ?? 1, test),
  );
}

/** Matches rgb/<name>.* with depth/<name>.png; every file must have its partner. Sorted by name. */
export async function listDepthPairs(dir: string): Promise<DepthPair[]> {
  const rgbDir = path.join(dir, 'rgb');
  const depthDir = path.join(dir, 'depth');
  const rgbFiles = (await listFolder(rgbDir, 'rgb folder of a depth-pairs dataset')).filter((e) => e.isFile && isImageFile(e.name));
  const depthFiles = (await listFolder(depthDir, 'depth folder of a depth-pairs dataset')).filter(
    (e) => e.isFile && path.extname(e.name).toLowerCase() === '.png',
  );
  const stem = (name: string): string => name.slice(0, name.length - path.extname(name).length);
  const rgbByName = new Map<string, string>();
  for (const e of rgbFiles) {
    const previous = rgbByName.get(stem(e.name));
    if (previous !== undefined) {
      throw new UserError(`depth pairs: two colour images for "${stem(e.name)}": ${path.join(rgbDir, previous)} and ${path.join(rgbDir, e.name)}`);
    }
    rgbByName.set(stem(e.name), e.name);
  }
  const depthByName = new Map(depthFiles.map((e) => [stem(e.name), e.name]));
  const problems: string[] = [];
  for (const [name, file] of rgbByName) {
    if (!depthByName.has(name)) problems.push(`${path.join(rgbDir, file)} has no depth partner ${path.join(depthDir, `${name}.png`)}`);
  }
  for (const [name, file] of depthByName) {
    if (!rgbByName.has(name)) problems.push(`${path.join(depthDir, file)} has no colour partner ${path.join(rgbDir, `${name}.png`)} (or .jpg)`);
  }
  if (problems.length > 0) {
    throw new FileFormatError(`depth pairs in ${dir}: ${problems.length} file(s) without a partner; first: ${problems[0]}`, problems);
  }
  if (rgbByName.size === 0) {
    throw new UserError(`depth pairs folder ${dir} holds no pairs`, ['expected <dir>/rgb/<name>.png|.jpg and <dir>/depth/<name>.png (16-bit, millimetres)']);
  }
  return [...rgbByName.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({ name, rgb: path.join(rgbDir, rgbByName.get(name) as string), depth: path.join(depthDir, depthByName.get(name) as string) }));
}

async function loadPairs(pairs: readonly DepthPair[], size: number, concurrency: number, onProgress?: LoadProgress): Promise<MemorySource> {
  const source = new MemorySource('depth', size, pairs.length);
  const pixels = size * size;
  await loadAll(
    pairs.length,
    concurrency,
    async (i) => {
      const pair = pairs[i] as DepthPair;
      const [rgbSize, depthSize] = await Promise.all([imageSize(pair.rgb), imageSize(pair.depth)]);
      if (rgbSize.width !== depthSize.width || rgbSize.height !== depthSize.height) {
        throw new FileFormatError(
          `depth pair "${pair.name}": ${pair.rgb} is ${rgbSize.width}×${rgbSize.height} but ${pair.depth} is ${depthSize.width}×${depthSize.height}; they must match`,
        );
      }
      const [rgb, depth] = await Promise.all([decodeRgb(pair.rgb, size), decodeGrey16(pair.depth, size)]);
      source.images.set(rgb, i * pixels * 3);
      (source.depthMm as Uint16Array).set(depth, i * pixels);
    },
    onProgress,
  );
  return source;
}
