/**
 * Resource targets. Iteration k (k = 0, 1, ...) must reach
 *
 *   target_k = max(finalTarget, resource(best_{k-1}) − r · decay^k · resource(initial))
 *
 * (paper Sec. 4.1.1: r = 1.5–3 %, decay 0.98; best_{-1} is the initial network). The clamp at the final target makes
 * the last iteration land just under the final target instead of overshooting it by a whole reduction step.
 */
import { ValidationError } from '../errors.ts';
import type { FinalTarget, SearchParams } from './types.ts';

export function finalTargetValue(target: FinalTarget, initialResource: number): number {
  return target.kind === 'absolute' ? target.value : target.value * initialResource;
}

export function iterationReduction(params: Pick<SearchParams, 'reduction' | 'decay'>, iteration: number, initialResource: number): number {
  return params.reduction * params.decay ** iteration * initialResource;
}

export function iterationTarget(
  params: Pick<SearchParams, 'reduction' | 'decay'>,
  iteration: number,
  parentResource: number,
  initialResource: number,
  finalTarget: number,
): number {
  return Math.max(finalTarget, parentResource - iterationReduction(params, iteration, initialResource));
}

/** "50%" or 0.5 (with `fractionOnly`) → a fraction; otherwise a number is an absolute target. */
export function parseFinalTarget(value: number | string): FinalTarget {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value)) throw new ValidationError(`target ${value} must be a positive number or a percentage like "50%"`);
    return { kind: 'absolute', value };
  }
  const fraction = parsePercent(value, 'target');
  if (fraction > 1) throw new ValidationError(`target ${value} is above 100% of the initial network; a search only shrinks`);
  return { kind: 'fraction', value: fraction };
}

/** "3%" → 0.03; a plain number string is taken as is. */
export function parsePercent(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(text);
  const value = match ? Number(match[1]) / 100 : Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ValidationError(`${what} "${text}" is not a positive percentage like "50%" or a number`);
  }
  return value;
}

export function describeTarget(target: FinalTarget, unit: string): string {
  return target.kind === 'fraction' ? `${+(target.value * 100).toFixed(4)}% of the initial network` : `${target.value} ${unit}`;
}
