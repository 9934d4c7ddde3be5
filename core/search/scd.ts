/**
 * Single-layer coordinate descent (NetAdaptV1's optimizer): one sample per layer that can still shrink. Sample i
 * shrinks layer i alone to the LARGEST width that meets the iteration's target; with `scdShrinksKernel` the layer
 * may also take a smaller kernel, and among the configurations of that largest width the largest kernel wins (so
 * a kernel reduction alone is preferred when it suffices). A layer that cannot meet the target even at its
 * narrowest width (and smallest kernel) yields no sample.
 *
 * Candidates are tried from largest to smallest, all layers in lockstep, one `metric.measure` call per round.
 */
import { cloneSubnet, widthAtLevel } from '../arch/index.ts';
import type { SearchSpace, SubnetConfig } from '../arch/index.ts';
import { formatResource } from '../metrics/format.ts';
import type { PlanInput, PlanOutput } from './mcd.ts';
import { shrinkableLayers } from './mcd.ts';
import { lowerKernel, lowerWidthLevel } from './shrink.ts';

/** The configurations of layer `index` to try, largest first (the parent itself excluded). */
export function scdCandidates(space: SearchSpace, parent: SubnetConfig, index: number, shrinkKernel: boolean): SubnetConfig[] {
  const layer = space.layers[index];
  if (!layer) throw new RangeError(`no searchable layer ${index}`);
  const currentLevel = parent.levels[index] as number;
  const currentKernel = parent.kernels[index] as number;
  const levels: number[] = [];
  for (let level: number | undefined = currentLevel; level !== undefined; level = lowerWidthLevel(space, index, level)) levels.push(level);
  const kernels: number[] = [];
  for (let k: number | undefined = currentKernel; k !== undefined; k = shrinkKernel ? lowerKernel(space, index, k) : undefined) kernels.push(k);
  const out: SubnetConfig[] = [];
  for (const level of levels) {
    const removed = widthAtLevel(layer.fullFilters, space.widthLevels, level) === 0;
    for (const kernel of removed ? [currentKernel] : kernels) {
      if (level === currentLevel && kernel === currentKernel) continue;
      const config = cloneSubnet(parent);
      config.levels[index] = level;
      config.kernels[index] = kernel;
      out.push(config);
    }
  }
  return out;
}

export async function planScdIteration(input: PlanInput): Promise<PlanOutput> {
  const { space, metric, params, parent, target } = input;
  const layers = shrinkableLayers(space, parent);
  const pending = layers.map((layer) => ({ layer, candidates: scdCandidates(space, parent, layer, params.scdShrinksKernel), next: 0 }));
  const found = new Map<number, { config: SubnetConfig; resource: number }>();
  let round = pending.filter((p) => p.candidates.length > 0);
  while (round.length > 0) {
    const configs = round.map((p) => p.candidates[p.next] as SubnetConfig);
    const resources = await metric.measure(configs);
    round.forEach((p, i) => {
      if ((resources[i] as number) <= target) found.set(p.layer, { config: configs[i] as SubnetConfig, resource: resources[i] as number });
      p.next++;
    });
    round = round.filter((p) => !found.has(p.layer) && p.next < p.candidates.length);
  }
  const samples = layers
    .filter((layer) => found.has(layer))
    .map((layer, index) => {
      const hit = found.get(layer) as { config: SubnetConfig; resource: number };
      return { index, config: hit.config, resource: hit.resource, changed: [layer] };
    });
  if (samples.length === 0) {
    return {
      samples: [],
      unreachable:
        `target unreachable from here: no single layer of the previous best (${formatResource(input.parentResource, metric.unit)}) ` +
        `can be shrunk to reach ${formatResource(target, metric.unit)}; ` +
        'use a smaller reduction or the MCD optimizer (it shrinks several layers per sample)',
    };
  }
  return { samples };
}
