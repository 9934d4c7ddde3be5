/** An additive fake latency table: entries derived from the signature text, profiling recorded per batch. */
import { parseSignature } from '../../../core/arch/index.ts';
import type { LatencySource } from '../../../core/metrics/index.ts';

/** A deterministic made-up latency (µs) for a layer signature: proportional to its work, never zero. */
export function fakeLayerLatency(signature: string): number {
  const f = parseSignature(signature);
  const [h, w, c] = (f.in ?? '1x1x1').split('x').map(Number) as [number, number, number];
  const k = Number(f.k ?? 1);
  const filters = Number(f.f ?? 0);
  const work = f.op === 'dwconv' ? h * w * k * k * filters : h * w * k * k * c * filters;
  return 5 + work / 1000;
}

export class FakeLatencySource implements LatencySource {
  readonly entries = new Map<string, number>();
  readonly profiled: string[][] = [];
  /** Signatures the "device" cannot run: profiling them silently leaves them missing. */
  readonly unmeasurable = new Set<string>();
  failProfiling: Error | undefined;
  readonly description = 'fake device';

  constructor(private readonly overhead = 250) {}

  estimate(signatures: readonly string[]): number {
    let sum = 0;
    for (const s of signatures) {
      const value = this.entries.get(s);
      if (value === undefined) throw new Error(`missing ${s}`);
      sum += value;
    }
    return sum;
  }

  missing(signatures: readonly string[]): string[] {
    return [...new Set(signatures.filter((s) => !this.entries.has(s)))];
  }

  async profileMissing(signatures: readonly string[]): Promise<void> {
    this.profiled.push([...signatures]);
    if (this.failProfiling) throw this.failProfiling;
    for (const s of signatures) if (!this.unmeasurable.has(s)) this.entries.set(s, fakeLayerLatency(s));
  }

  overheadUs(): number {
    return this.overhead;
  }
}
