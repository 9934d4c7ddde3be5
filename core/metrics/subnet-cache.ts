/**
 * A bounded map from sub-network key (`subnetKey`) to anything derived from it. The search evaluates thousands of
 * sub-networks and revisits many of them (every shrink step starts from the previous best), so resolving each
 * configuration once matters; the bound keeps a long search from growing without limit (least recently used goes).
 */
export class SubnetCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`SubnetCache: capacity ${capacity} must be a positive integer`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Re-insert: Map keeps insertion order, so the first key is always the least recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  getOrCompute(key: string, compute: () => T): T {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    this.set(key, value);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
