/**
 * SubnetConfig: per searchable layer its width level and kernel size. The in-memory form is two arrays indexed by the
 * search space (fast to copy and compare in the search); the JSON form names layers by id.
 */
import type { SearchSpace } from './layers.ts';
import { widthAtLevel } from './cbc.ts';
import type { Rng } from '../random.ts';

export interface SubnetConfig {
  levels: number[];
  kernels: number[];
}

/** JSON form: `{ network, layers: { "<layer id>": { level | filters, kernel } } }`; missing layers stay full. */
export interface SubnetJson {
  network?: string;
  layers: Record<string, { level?: number; filters?: number; kernel?: number }>;
}

export function fullSubnet(space: SearchSpace): SubnetConfig {
  return {
    levels: space.layers.map(() => space.widthLevels - 1),
    kernels: space.layers.map((layer) => layer.fullKernel),
  };
}

/** The smallest sub-network: every layer at its lowest level and smallest kernel. */
export function minimalSubnet(space: SearchSpace): SubnetConfig {
  return {
    levels: space.layers.map((layer) => layer.minLevel),
    kernels: space.layers.map((layer) => layer.kernels[0] as number),
  };
}

export function randomSubnet(space: SearchSpace, rng: Rng): SubnetConfig {
  const levels: number[] = [];
  const kernels: number[] = [];
  for (const layer of space.layers) {
    levels.push(layer.minLevel + rng.int(space.widthLevels - layer.minLevel));
    kernels.push(rng.pick(layer.kernels));
  }
  return { levels, kernels };
}

export function cloneSubnet(config: SubnetConfig): SubnetConfig {
  return { levels: config.levels.slice(), kernels: config.kernels.slice() };
}

/** A compact canonical key (used to drop duplicate samples and as a map key). */
export function subnetKey(config: SubnetConfig): string {
  return `${config.levels.join('.')}|${config.kernels.join('.')}`;
}

/** The inverse of subnetKey. */
export function parseSubnetKey(key: string): SubnetConfig {
  const [levels = '', kernels = ''] = key.split('|');
  const numbers = (text: string) => (text === '' ? [] : text.split('.').map(Number));
  return { levels: numbers(levels), kernels: numbers(kernels) };
}

export function filtersOf(space: SearchSpace, config: SubnetConfig, index: number): number {
  const layer = space.layers[index];
  if (!layer) throw new RangeError(`no searchable layer ${index}`);
  return widthAtLevel(layer.fullFilters, space.widthLevels, config.levels[index] ?? space.widthLevels - 1);
}

export function subnetToJson(space: SearchSpace, config: SubnetConfig): SubnetJson {
  const layers: SubnetJson['layers'] = {};
  space.layers.forEach((layer, i) => {
    layers[layer.id] = {
      level: config.levels[i] as number,
      filters: filtersOf(space, config, i),
      kernel: config.kernels[i] as number,
    };
  });
  return { network: space.network, layers };
}
