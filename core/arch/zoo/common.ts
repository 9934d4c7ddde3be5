import type { Activation, BypassLimit, NetworkSpecInput } from '../spec.ts';

export interface ZooOptions {
  /** Input resolution (square). */
  inputSize?: number;
  /** Multiplies every width (rounded to a multiple of 8, at least 8). */
  widthMultiplier?: number;
  /** Classifier outputs (classification networks). */
  classes?: number;
}

export type UnitInput = NetworkSpecInput['layers'][number];

/** MobileNet's make_divisible: round to the nearest multiple of `divisor`, never more than 10% below the value. */
export function makeDivisible(value: number, divisor = 8, minValue = divisor): number {
  const rounded = Math.max(minValue, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

export function scaled(width: number, multiplier: number): number {
  return multiplier === 1 ? width : makeDivisible(width * multiplier);
}

export function nextPowerOfTwo(value: number): number {
  return 2 ** Math.ceil(Math.log2(value));
}

export function conv(
  name: string,
  filters: number,
  kernel: number,
  stride: 1 | 2,
  act: Activation,
  extra: { bn?: boolean; T?: BypassLimit; searchable?: boolean } = {},
): UnitInput {
  return { type: 'conv', name, filters, kernel, stride, act, ...extra };
}

export function dw(name: string, kernel: number, stride: 1 | 2, act: Activation, T?: BypassLimit): UnitInput {
  return { type: 'dwconv', name, kernel, stride, act, ...(T === undefined ? {} : { T }) };
}

export function mbconv(
  name: string,
  expand: number | null,
  kernel: number,
  stride: 1 | 2,
  out: number,
  act: Activation,
  se: number | null,
  T?: BypassLimit,
  expandT?: BypassLimit,
): UnitInput {
  return {
    type: 'mbconv', name, expand, kernel, stride, out, act, se,
    ...(T === undefined ? {} : { T }),
    ...(expandT === undefined ? {} : { expandT }),
  };
}

/** Spatial size after a sequence of stride-2 steps with SAME padding. */
export function downsampled(size: number, halvings: number): number {
  let s = size;
  for (let i = 0; i < halvings; i++) s = Math.ceil(s / 2);
  return s;
}
