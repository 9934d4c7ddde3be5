/** Small helpers for option objects. */

/** A copy without the keys whose value is undefined (so spreading it over defaults keeps the defaults). */
export function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** The listed keys of `obj` that are defined. */
export function pickDefined<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
