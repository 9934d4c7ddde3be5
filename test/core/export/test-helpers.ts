import { expect } from 'vitest';

export { randomArray } from './random-data.ts';

/**
 * Element-wise |actual - expected| <= tol * max(|expected|, 1): relative for large values, absolute near zero
 * (a purely relative test is meaningless for outputs that should be 0).
 */
export function expectClose(actual: Float32Array | undefined, expected: Float32Array, tol = 1e-4): void {
  expect(actual).toBeDefined();
  const a = actual as Float32Array;
  expect(a.length).toBe(expected.length);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < a.length; i++) {
    const e = expected[i] ?? 0;
    const err = Math.abs((a[i] ?? 0) - e) / Math.max(Math.abs(e), 1);
    if (!(err <= worst)) {
      worst = err;
      worstIndex = i;
    }
  }
  if (!(worst <= tol)) {
    throw new Error(
      `max relative error ${worst} at index ${worstIndex}: got ${a[worstIndex]}, expected ${expected[worstIndex]}`,
    );
  }
}
