/**
 * An all-reduce (sum) of float64 vectors between the threads of one data-parallel step, through shared memory: each
 * party writes its vector into its slot, waits at a barrier (Atomics), and every party adds the slots in party order
 * — so all get bit-identical sums. Slots alternate between two regions call by call, so one barrier per call is
 * enough (a party cannot reach call i + 2, which reuses call i's region, before every party finished call i + 1).
 *
 * Every party must make the same calls in the same order. A party that fails calls abort(), which makes the others'
 * waits throw instead of hanging; a party that never arrives fails the others' waits after `timeoutMs`.
 */
const HEADER_INTS = 16;
const COUNT = 0;
const GENERATION = 1;
const ABORTED = 2;

export class SharedReducer {
  readonly control: Int32Array;
  readonly slots: Float64Array;
  private call = 0;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly parties: number,
    readonly rank: number,
    readonly timeoutMs = 120_000,
  ) {
    this.control = new Int32Array(buffer, 0, HEADER_INTS);
    this.slots = new Float64Array(buffer, HEADER_INTS * 4);
    if (rank < 0 || rank >= parties) throw new RangeError(`party ${rank} of ${parties}`);
  }

  /** Shared memory for `parties` vectors of up to `capacity` values. */
  static allocate(parties: number, capacity: number): SharedArrayBuffer {
    return new SharedArrayBuffer(SharedReducer.bytes(parties, capacity));
  }

  static bytes(parties: number, capacity: number): number {
    return HEADER_INTS * 4 + 8 * 2 * parties * capacity;
  }

  /** Values per vector this buffer holds. */
  get capacity(): number {
    return Math.floor(this.slots.length / (2 * this.parties));
  }

  /** Replaces `values` by the sum of every party's `values`. */
  allReduce(values: Float64Array): void {
    const capacity = this.capacity;
    if (values.length > capacity) throw new RangeError(`all-reduce of ${values.length} values, room for ${capacity}`);
    const region = (this.call++ % 2) * this.parties * capacity;
    this.slots.set(values, region + this.rank * capacity);
    this.barrier();
    values.fill(0);
    for (let p = 0; p < this.parties; p++) {
      const at = region + p * capacity;
      for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) + (this.slots[at + i] as number);
    }
  }

  /** Makes every waiting (and every later) barrier of this step throw. */
  abort(): void {
    Atomics.store(this.control, ABORTED, 1);
    Atomics.notify(this.control, GENERATION);
  }

  get aborted(): boolean {
    return Atomics.load(this.control, ABORTED) !== 0;
  }

  private barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, COUNT, 1) === this.parties - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    const deadline = performance.now() + this.timeoutMs;
    while (Atomics.load(c, GENERATION) === generation) {
      if (this.aborted) throw new Error('another data-parallel training thread failed during the step');
      if (performance.now() > deadline) {
        this.abort();
        throw new Error(`a data-parallel training thread did not reach the step's synchronization within ${this.timeoutMs / 1000} s`);
      }
      Atomics.wait(c, GENERATION, generation, 200);
    }
  }
}
