/**
 * Decoding image files from disk with sharp, and loading many of them with a concurrency limit, all-or-nothing.
 *
 * Resizing: "cover" with a centre crop — the image is scaled so that it covers size × size, then the middle
 * size × size is kept (aspect ratio preserved, nothing padded). EXIF orientation is applied first; an alpha channel
 * is composited onto black; greyscale and CMYK images are converted to sRGB.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { FileFormatError, UserError } from '../errors.ts';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

export function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

/** Code-point order, independent of the user's locale (so class indices are the same on every machine). */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Entries of a folder, with an error naming the folder when it cannot be read. */
export async function listFolder(dir: string, what: string): Promise<{ name: string; isDirectory: boolean; isFile: boolean }[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => !e.name.startsWith('.'))
      .map((e) => ({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile() }))
      .sort((a, b) => byName(a.name, b.name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${what} not found: ${dir}`);
    if (code === 'ENOTDIR') throw new UserError(`${what} is not a folder: ${dir}`);
    throw new UserError(`cannot read ${what} ${dir}: ${(err as Error).message}`);
  }
}

/** Original width and height of an image file. */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(file).metadata();
    const rotated = (meta.orientation ?? 1) >= 5; // EXIF orientations 5–8 swap width and height
    if (!meta.width || !meta.height) throw new Error('no image dimensions');
    return rotated ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
  } catch (err) {
    throw decodeError(file, err);
  }
}

/** size × size × 3 RGB bytes of an image file (cover resize with a centre crop). */
export async function decodeRgb(file: string, size: number): Promise<Uint8Array> {
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(file, { failOn: 'warning' })
      .rotate()
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(size, size, { fit: 'cover', position: 'centre' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw decodeError(file, err);
  }
  if (info.width !== size || info.height !== size || info.channels !== 3 || data.length !== size * size * 3) {
    throw new FileFormatError(`cannot decode image ${file}: got ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * size × size 16-bit values of a single-channel 16-bit PNG, resized like decodeRgb (same crop) but with nearest
 * neighbour sampling, so no value is invented by blending a foreground and a background depth.
 */
export async function decodeGrey16(file: string, size: number): Promise<Uint16Array> {
  let meta: Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (err) {
    throw decodeError(file, err);
  }
  if (meta.format !== 'png' || meta.depth !== 'ushort' || (meta.channels ?? 0) !== 1) {
    throw new FileFormatError(
      `depth image ${file} must be a single-channel 16-bit PNG (depth in millimetres); it is ${meta.format ?? 'unknown format'}, ` +
        `${meta.channels ?? '?'} channel(s), ${meta.depth === 'ushort' ? '16' : '8'}-bit`,
    );
  }
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(file, { failOn: 'warning' })
      .rotate()
      .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'nearest' })
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw decodeError(file, err);
  }
  if (info.width !== size || info.height !== size || info.channels !== 1 || data.length !== size * size * 2) {
    throw new FileFormatError(`cannot decode depth image ${file}: got ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×1`);
  }
  // Copy into an aligned buffer (the Buffer may start at an odd byte offset of a shared pool).
  const out = new Uint16Array(size * size);
  new Uint8Array(out.buffer).set(data);
  return out;
}

function decodeError(file: string, err: unknown): FileFormatError {
  if (err instanceof FileFormatError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'file not found' : (err as Error).message;
  return new FileFormatError(`cannot decode image ${file}: ${reason}`);
}

export type LoadProgress = (done: number, total: number) => void;

/**
 * Runs `work(i)` for i = 0 … count − 1 with at most `concurrency` in flight. All-or-nothing: after the first
 * failure no new work starts, the running ones finish, and the first error is thrown (with the other failures
 * seen meanwhile added to its details) — the caller never gets a partly loaded result.
 */
export async function loadAll(count: number, concurrency: number, work: (i: number) => Promise<void>, onProgress?: LoadProgress): Promise<void> {
  let next = 0;
  let done = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < count) {
      const i = next++;
      try {
        await work(i);
        done++;
        onProgress?.(done, count);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  if (failures.length === 0) return;
  const [first, ...others] = failures;
  if (first instanceof FileFormatError && others.length > 0) {
    throw new FileFormatError(first.message, [...first.details, ...others.map((e) => (e instanceof Error ? e.message : String(e)))]);
  }
  throw first;
}
