/** Samples decoded into memory as bytes (images) and 16-bit millimetres (depth); converted per batch. */
import type { DatasetKind } from './dataset.ts';
import { BYTE_TO_UNIT, type BatchTarget, type SampleSource } from './indexed-split.ts';

export class MemorySource implements SampleSource {
  readonly kind: DatasetKind;
  readonly height: number;
  readonly width: number;
  /** count × size × size × 3 RGB bytes. */
  readonly images: Uint8Array;
  /** Classification: count labels. */
  readonly labels: Int32Array | undefined;
  /** Depth: count × size × size millimetres, 0 = no measurement. */
  readonly depthMm: Uint16Array | undefined;

  constructor(
    kind: DatasetKind,
    readonly size: number,
    readonly count: number,
  ) {
    this.kind = kind;
    this.height = size;
    this.width = size;
    this.images = new Uint8Array(count * size * size * 3);
    this.labels = kind === 'classification' ? new Int32Array(count) : undefined;
    this.depthMm = kind === 'depth' ? new Uint16Array(count * size * size) : undefined;
  }

  write(index: number, target: BatchTarget, slot: number): void {
    const pixels = this.size * this.size;
    const from = index * pixels * 3;
    const to = slot * pixels * 3;
    for (let i = 0; i < pixels * 3; i++) target.images[to + i] = BYTE_TO_UNIT[this.images[from + i] as number] as number;
    if (target.labels && this.labels) target.labels[slot] = this.labels[index] as number;
    if (target.depth && this.depthMm) {
      const d = this.depthMm;
      for (let i = 0; i < pixels; i++) target.depth[slot * pixels + i] = (d[index * pixels + i] as number) / 1000;
    }
  }
}
