import { describe, expect, it } from 'vitest';
import { SharedReducer } from '../../../../core/supernet/training/shared-reduce.ts';

describe('SharedReducer', () => {
  it('one party: the sum is its own vector; vectors beyond the capacity are refused', () => {
    const r = new SharedReducer(SharedReducer.allocate(1, 4), 1, 0);
    const v = Float64Array.from([1, 2, 3]);
    r.allReduce(v);
    expect(Array.from(v)).toEqual([1, 2, 3]);
    expect(() => r.allReduce(new Float64Array(5))).toThrow(/room for 4/);
  });

  it('fails a wait when another party aborted, or after the timeout, instead of hanging', () => {
    const buffer = SharedReducer.allocate(2, 4);
    const waiting = new SharedReducer(buffer, 2, 0, 60_000);
    new SharedReducer(buffer, 2, 1).abort();
    expect(() => waiting.allReduce(new Float64Array(2))).toThrow(/another data-parallel training thread failed/);
    const alone = new SharedReducer(SharedReducer.allocate(2, 4), 2, 0, 300);
    const t0 = performance.now();
    expect(() => alone.allReduce(new Float64Array(2))).toThrow(/did not reach the step's synchronization within 0.3 s/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(alone.aborted).toBe(true);
  });
});
