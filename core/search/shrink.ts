/**
 * Shrinking one searchable layer by one step. A width step goes to the next level with strictly fewer filters
 * (small layers map several levels to one width; stepping over equal widths keeps every step a real change and
 * keeps each width's level canonical). A kernel step goes to the next smaller odd kernel. A removed layer (0
 * filters) has no kernel moves: its kernel no longer changes the network.
 */
import { widthAtLevel } from '../arch/index.ts';
import type { SearchSpace, SubnetConfig } from '../arch/index.ts';

export type ShrinkMove = 'width' | 'kernel' | 'both';

/** The level one width step below `level`, or undefined when the layer is at its narrowest allowed width. */
export function lowerWidthLevel(space: SearchSpace, index: number, level: number): number | undefined {
  const layer = space.layers[index];
  if (!layer) throw new RangeError(`no searchable layer ${index}`);
  const width = widthAtLevel(layer.fullFilters, space.widthLevels, level);
  for (let next = level - 1; next >= layer.minLevel; next--) {
    if (widthAtLevel(layer.fullFilters, space.widthLevels, next) < width) return next;
  }
  return undefined;
}

/** The next smaller kernel of the layer, or undefined. */
export function lowerKernel(space: SearchSpace, index: number, kernel: number): number | undefined {
  const layer = space.layers[index];
  if (!layer) throw new RangeError(`no searchable layer ${index}`);
  let best: number | undefined;
  for (const k of layer.kernels) if (k < kernel && (best === undefined || k > best)) best = k;
  return best;
}

function filtersAt(space: SearchSpace, index: number, level: number): number {
  const layer = space.layers[index];
  if (!layer) throw new RangeError(`no searchable layer ${index}`);
  return widthAtLevel(layer.fullFilters, space.widthLevels, level);
}

/** The moves available for layer `index` of `config` (empty: the layer cannot shrink further). */
export function availableMoves(space: SearchSpace, config: SubnetConfig, index: number): ShrinkMove[] {
  const level = config.levels[index] as number;
  const kernel = config.kernels[index] as number;
  const moves: ShrinkMove[] = [];
  const nextLevel = lowerWidthLevel(space, index, level);
  const kernelMatters = filtersAt(space, index, level) > 0;
  const nextKernel = kernelMatters ? lowerKernel(space, index, kernel) : undefined;
  if (nextLevel !== undefined) moves.push('width');
  if (nextKernel !== undefined) moves.push('kernel');
  if (nextLevel !== undefined && nextKernel !== undefined && filtersAt(space, index, nextLevel) > 0) moves.push('both');
  return moves;
}

export function canShrink(space: SearchSpace, config: SubnetConfig, index: number): boolean {
  return availableMoves(space, config, index).length > 0;
}

/** Applies a move in place (the move must be available). */
export function applyMove(space: SearchSpace, config: SubnetConfig, index: number, move: ShrinkMove): void {
  if (move === 'width' || move === 'both') {
    const next = lowerWidthLevel(space, index, config.levels[index] as number);
    if (next === undefined) throw new Error(`layer ${index} cannot shrink its width further`);
    config.levels[index] = next;
  }
  if (move === 'kernel' || move === 'both') {
    const next = lowerKernel(space, index, config.kernels[index] as number);
    if (next === undefined) throw new Error(`layer ${index} cannot shrink its kernel further`);
    config.kernels[index] = next;
  }
}

/** Searchable-layer indices whose level or kernel differ between two configs. */
export function changedLayers(parent: SubnetConfig, child: SubnetConfig): number[] {
  const out: number[] = [];
  for (let i = 0; i < parent.levels.length; i++) {
    if (parent.levels[i] !== child.levels[i] || parent.kernels[i] !== child.kernels[i]) out.push(i);
  }
  return out;
}
