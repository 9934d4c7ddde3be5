import { createHash } from 'node:crypto';

/**
 * Bytes that pass for a .tflite file on the emulated device: a FlatBuffer root offset and the "TFL3"
 * file identifier, then deterministic filler derived from the seed.
 */
export function fakeTfliteModel(size: number, seed: string): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 16));
  bytes.writeUInt32LE(16, 0);
  bytes.write('TFL3', 4, 'latin1');
  let block = createHash('sha256').update(seed).digest();
  for (let offset = 8; offset < bytes.length; offset += block.length) {
    block.copy(bytes, offset);
    block = createHash('sha256').update(block).digest();
  }
  return bytes;
}

/** An ELF-looking file that `netadapt device setup` accepts as a benchmark binary. */
export function fakeElfBinary(label: string): Buffer {
  return Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.from(`fake benchmark_model ${label}\n`)]);
}
