/**
 * Checks that an imported entry is a layer signature this version understands and that its latency is in
 * microseconds: a table written in seconds or nanoseconds is 10⁶× off, and one value of that kind would make
 * every estimate that sums it wrong. Two references:
 * - the layer's MAC-based estimate: INVOKE_FLOOR_US plus the MACs at REFERENCE_MACS_PER_US. Real devices (a slow
 *   phone core at ~0.5 GMAC/s to a GPU at ~1 TMAC/s, tiny layers near their invocation cost) stay within ~100× of
 *   it; an entry more than MAC_FACTOR away is refused.
 * - the workspace's entry with the same key: two measurements of one layer on one device and options agree within
 *   a few times; more than STORED_FACTOR apart is a unit error, refused even with overwrite.
 */
import { describeSignature, signatureMacs } from '../../core/arch/signature.ts';

const INVOKE_FLOOR_US = 10;
/** 10 GMAC/s. */
const REFERENCE_MACS_PER_US = 10_000;
export const MAC_FACTOR = 1e4;
export const STORED_FACTOR = 500;

/** The problem with a signature, or undefined when it describes a layer (or an invocation-overhead model). */
export function signatureProblem(signature: string): string | undefined {
  const layer = describeSignature(signature);
  return typeof layer === 'string' ? `unknown or malformed layer signature ${JSON.stringify(signature.slice(0, 120))}: ${layer}` : undefined;
}

export function macBasedEstimateUs(signature: string): number | undefined {
  const macs = signatureMacs(signature);
  return macs === undefined ? undefined : INVOKE_FLOOR_US + macs / REFERENCE_MACS_PER_US;
}

/** Why `meanUs` cannot be a microsecond latency of this layer, or undefined when it is plausible. */
export function implausibleLatency(signature: string, meanUs: number, storedMeanUs?: number): string | undefined {
  const estimate = macBasedEstimateUs(signature);
  if (estimate !== undefined && off(meanUs, estimate) > MAC_FACTOR) {
    return `mean ${meanUs} µs is ${describeRatio(meanUs, estimate)} the layer's MAC-based estimate (${round(estimate)} µs): not microseconds?`;
  }
  if (storedMeanUs !== undefined && storedMeanUs > 0 && off(meanUs, storedMeanUs) > STORED_FACTOR) {
    return `mean ${meanUs} µs is ${describeRatio(meanUs, storedMeanUs)} the workspace's entry for it (${storedMeanUs} µs): not microseconds?`;
  }
  return undefined;
}

/** How many times apart two positive values are (∞ when one is zero and the other is not). */
function off(a: number, b: number): number {
  if (a === b) return 1;
  if (a <= 0 || b <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(a / b, b / a);
}

function describeRatio(value: number, reference: number): string {
  if (value <= 0) return 'zero, against';
  const ratio = value / reference;
  return ratio >= 1 ? `${formatFactor(ratio)} times` : `1/${formatFactor(1 / ratio)} of`;
}

function formatFactor(x: number): string {
  return x >= 1e4 ? x.toExponential(1) : String(Math.round(x));
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
