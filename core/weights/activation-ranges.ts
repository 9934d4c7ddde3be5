/**
 * Calibrated value ranges of a (sub-)network's activations: the contract between core/supernet (calibrate.ts
 * measures them with the float forward pass on calibration images) and core/export (which quantizes the TFLite
 * model with them). Keys name a point of docs/forward-semantics.md, per layer id:
 *
 * - `input`: the network input (key without a layer).
 * - `<id>:output`: the layer's output (after activation, bypass concatenation or residual addition).
 * - `<id>:filters`: conv/dwconv filters part after its activation, before bypass or residual (M > 0 only).
 * - `<id>:preact`: conv/dwconv/fc output before an activation that is not fused (hswish, none).
 * - `<id>:se.pooled`, `<id>:se.hidden` (after relu), `<id>:se.expanded` (before the hard sigmoid), `<id>:se.gate`.
 */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

export type RangePoint = 'output' | 'filters' | 'preact' | 'se.pooled' | 'se.hidden' | 'se.expanded' | 'se.gate';

export type ActivationRanges = ReadonlyMap<string, TensorRange>;

export const INPUT_RANGE_KEY = 'input';

export function rangeKey(layerId: string, point: RangePoint): string {
  return `${layerId}:${point}`;
}
