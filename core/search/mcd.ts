/**
 * The multi-layer coordinate descent optimizer's sample generation (NetAdaptV2, paper Sec. 2.4).
 *
 * One iteration makes J sample slots. Slot j, attempt a draws everything from Rng(mixSeed(seed, k, j, a)), so a
 * resumed run regenerates exactly the same samples without any saved RNG state:
 *  1. pick L distinct layers at random among the layers of the previous best that can still shrink
 *     (all of them when fewer than L can);
 *  2. shrink them ROUND-ROBIN: starting from the previous best, shrink the chosen layers one step at a time in their
 *     drawn order (layer 1, 2, ..., L, 1, 2, ...), each step one width level, one kernel size or both (the move drawn
 *     at random among those the layer still has; a layer with none is skipped), and measure the resource after every
 *     step; the sample is the first configuration that meets the iteration's target. How the L layers share the
 *     reduction is `params.mcdShrink`:
 *     - 'stop-at-target' (the default, and every run stored before the option existed): the measuring starts after
 *       the first step, so a sample changes exactly L layers only when the target needs at least one full round;
 *       when it is met earlier, the sample changes only the layers stepped so far (one step each). With a small
 *       per-iteration reduction most samples change fewer than L layers. Fewer also when fewer than L can shrink.
 *     - 'every-chosen-layer': every chosen layer first takes one step (the first round, unmeasured), and round-robin
 *       continues from there while the target is not met, so every sample changes all L layers (the paper's
 *       "each sample is obtained by randomly shrinking L layers"); its resource may then undershoot the target by
 *       more than one step's worth;
 *  3. when all chosen layers are exhausted before the target is met, the attempt is discarded and the slot tries
 *     again with a new draw (up to `maxAttempts`; a draw that already covered every shrinkable layer cannot do
 *     better, so the slot stops there);
 *  4. duplicates (same subnetKey as an earlier slot's sample of this iteration) are discarded the same way, so an
 *     iteration keeps up to J distinct samples.
 * If no slot yields a sample, the target is unreachable from the previous best.
 *
 * All active slots advance in lockstep and each lockstep round measures all their configurations with ONE
 * `metric.measure` call, so a lazily profiled latency table profiles the missing layers of a round together.
 */
import { cloneSubnet, subnetKey } from '../arch/index.ts';
import type { SearchSpace, SubnetConfig } from '../arch/index.ts';
import { Rng, mixSeed } from '../random.ts';
import { formatResource } from '../metrics/format.ts';
import type { ResourceMetric } from '../metrics/types.ts';
import { applyMove, availableMoves, changedLayers } from './shrink.ts';
import type { PlannedSample, SearchParams } from './types.ts';

export interface PlanInput {
  space: SearchSpace;
  metric: ResourceMetric;
  params: SearchParams;
  iteration: number;
  parent: SubnetConfig;
  parentResource: number;
  target: number;
}

export type PlanOutput = { samples: PlannedSample[] } | { samples: []; unreachable: string };

interface Slot {
  slot: number;
  attempt: number;
  rng: Rng;
  order: number[];
  coversAll: boolean;
  cursor: number;
  /** Shrink steps taken in this attempt. */
  steps: number;
  config: SubnetConfig;
  state: 'active' | 'candidate' | 'accepted' | 'failed';
  resource: number;
}

export function shrinkableLayers(space: SearchSpace, config: SubnetConfig): number[] {
  const out: number[] = [];
  for (let i = 0; i < space.layers.length; i++) if (availableMoves(space, config, i).length > 0) out.push(i);
  return out;
}

export async function planMcdIteration(input: PlanInput): Promise<PlanOutput> {
  const { space, metric, params, iteration, parent, target } = input;
  const shrinkable = shrinkableLayers(space, parent);
  if (shrinkable.length === 0) {
    return { samples: [], unreachable: 'target unreachable from here: no layer of the previous best can shrink any further' };
  }
  const layersPerSample = Math.min(params.layersPerSample, shrinkable.length);
  const everyChosenLayer = (params.mcdShrink ?? 'stop-at-target') === 'every-chosen-layer';

  const start = (slot: Slot, attempt: number): void => {
    slot.attempt = attempt;
    slot.rng = new Rng(mixSeed(params.seed, iteration, slot.slot, attempt));
    slot.order = slot.rng.shuffle(shrinkable.slice()).slice(0, layersPerSample);
    slot.coversAll = layersPerSample === shrinkable.length;
    slot.cursor = 0;
    slot.steps = 0;
    slot.config = cloneSubnet(parent);
    slot.state = 'active';
    slot.resource = Number.NaN;
  };
  const retry = (slot: Slot, exhausted: boolean): void => {
    if (slot.attempt + 1 < params.maxAttempts && !(exhausted && slot.coversAll)) start(slot, slot.attempt + 1);
    else slot.state = 'failed';
  };
  /** One round-robin step; false when every chosen layer is exhausted. */
  const step = (slot: Slot): boolean => {
    for (let tried = 0; tried < slot.order.length; tried++) {
      const position = (slot.cursor + tried) % slot.order.length;
      const layer = slot.order[position] as number;
      const moves = availableMoves(space, slot.config, layer);
      if (moves.length === 0) continue;
      applyMove(space, slot.config, layer, slot.rng.pick(moves));
      slot.cursor = (position + 1) % slot.order.length;
      slot.steps++;
      return true;
    }
    return false;
  };

  const slots: Slot[] = [];
  for (let j = 0; j < params.samplesPerIteration; j++) {
    const slot = { slot: j } as Slot;
    start(slot, 0);
    slots.push(slot);
  }
  const accepted = new Set<string>();
  for (;;) {
    let active = slots.filter((s) => s.state === 'active');
    if (active.length === 0) break;
    while (active.length > 0) {
      const stepped: Slot[] = [];
      for (const slot of active) {
        // Every chosen layer could shrink at the draw and a step changes only its own layer, so the first round
        // steps each of them once.
        const steps = everyChosenLayer && slot.steps === 0 ? slot.order.length : 1;
        let moved = 0;
        while (moved < steps && step(slot)) moved++;
        if (moved > 0) stepped.push(slot);
        else retry(slot, true);
      }
      if (stepped.length > 0) {
        const resources = await metric.measure(stepped.map((s) => s.config));
        stepped.forEach((slot, i) => {
          const resource = resources[i] as number;
          if (resource <= target) {
            slot.state = 'candidate';
            slot.resource = resource;
          }
        });
      }
      active = slots.filter((s) => s.state === 'active');
    }
    // Duplicates: the earlier slot keeps the sample, a later one draws again.
    for (const slot of slots) {
      if (slot.state !== 'candidate') continue;
      const key = subnetKey(slot.config);
      if (accepted.has(key)) retry(slot, false);
      else {
        accepted.add(key);
        slot.state = 'accepted';
      }
    }
  }
  const samples = slots
    .filter((s) => s.state === 'accepted')
    .map((s, index) => ({ index, config: s.config, resource: s.resource, changed: changedLayers(parent, s.config) }));
  if (samples.length === 0) {
    return {
      samples: [],
      unreachable:
        `target unreachable from here: none of ${params.samplesPerIteration} samples × ${params.maxAttempts} attempts reached ` +
        `${formatResource(target, metric.unit)} from ${formatResource(input.parentResource, metric.unit)} by shrinking ${layersPerSample} of the ${shrinkable.length} layers that can still shrink; ` +
        'use a larger L (layers per sample), a smaller reduction, or a larger final target',
    };
  }
  return { samples };
}
