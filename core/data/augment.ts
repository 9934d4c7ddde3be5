/**
 * Training-time augmentation as pure functions on batches: each returns a new Batch and leaves its input alone.
 * The random choices for sample j of a batch come from (seed, j) only, so the trainer makes augmentation
 * reproducible (and resumable) by passing a seed derived from its run seed and global step, e.g.
 * `mixSeed(runSeed, step)`.
 */
import { Rng, mixSeed } from '../random.ts';
import type { Batch } from './dataset.ts';

export interface CropFlipOptions {
  readonly seed: number;
  /** Pixels of padding on each side before the random crop back to the original size (default 4). */
  readonly padding?: number;
  /** Mirror left–right with probability 1/2 (default true). */
  readonly flip?: boolean;
}

const AUGMENT_STREAM = 0x41554721;

/**
 * Classification augmentation: pad by `padding` pixels with 0 (mid-grey in the [-1, 1] normalization), take a
 * random crop of the original size, mirror with probability 1/2. Labels are unchanged.
 */
export function randomCropFlip(batch: Batch, options: CropFlipOptions): Batch {
  const padding = options.padding ?? 4;
  const flip = options.flip ?? true;
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`padding must be a non-negative integer, got ${padding}`);
  const { height: h, width: w } = batch;
  const images = new Float32Array(batch.images.length);
  const depth = batch.depth && new Float32Array(batch.depth.length);
  for (let n = 0; n < batch.size; n++) {
    const rng = new Rng(mixSeed(options.seed, AUGMENT_STREAM, n));
    const dy = rng.int(2 * padding + 1) - padding;
    const dx = rng.int(2 * padding + 1) - padding;
    const mirror = flip && rng.next() < 0.5;
    shiftAndMirror(batch.images, images, n, h, w, 3, dy, dx, mirror);
    if (batch.depth && depth) shiftAndMirror(batch.depth, depth, n, h, w, 1, dy, dx, mirror);
  }
  return { ...batch, images, ...(depth ? { depth } : {}) };
}

/** Depth augmentation: mirror image and depth map together with probability 1/2 per sample. */
export function randomFlip(batch: Batch, options: { readonly seed: number }): Batch {
  return randomCropFlip(batch, { seed: options.seed, padding: 0, flip: true });
}

/**
 * Output pixel (y, x) of sample n = input pixel (y + dy, x' + dx) where x' = W − 1 − x when mirrored, else x;
 * pixels that fall outside the input are 0.
 */
function shiftAndMirror(
  from: Float32Array,
  to: Float32Array,
  n: number,
  h: number,
  w: number,
  channels: number,
  dy: number,
  dx: number,
  mirror: boolean,
): void {
  const base = n * h * w * channels;
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < w; x++) {
      const sx = (mirror ? w - 1 - x : x) + dx;
      if (sx < 0 || sx >= w) continue;
      const src = base + (sy * w + sx) * channels;
      const dst = base + (y * w + x) * channels;
      for (let c = 0; c < channels; c++) to[dst + c] = from[src + c] as number;
    }
  }
}
