/**
 * Shape inference for a network or any of its sub-networks: the one implementation of CBC widths, strides and
 * per-layer cost. `searchSpace` lists the searchable layers (from a walk of the full network).
 */
import { cbcBypassedChannels, cbcOutputChannels, kernelChoices, sameOutputSize, widthAtLevel } from './cbc.ts';
import { layerCost } from './cost.ts';
import type { LayerOp, LayerRole, ResolvedLayer, SearchSpace, SearchableLayer, Shape3 } from './layers.ts';
import { layerSignature } from './signature.ts';
import type { Activation, BypassLimit, NetworkSpec } from './spec.ts';
import { limitValue } from './spec.ts';
import type { SubnetConfig } from './subnet.ts';
import { ValidationError } from '../errors.ts';

export interface ResolvedNetwork {
  spec: NetworkSpec;
  space: SearchSpace;
  layers: ResolvedLayer[];
  output: Shape3;
  macs: number;
  params: number;
}

interface Choice {
  filters: number;
  kernel: number;
}

/** Declared (full-network) attributes of a conv-type layer, before a sub-network's choice is applied. */
interface ConvDecl {
  id: string;
  role: LayerRole;
  op: 'conv' | 'dwconv' | 'se';
  fullFilters: number;
  fullKernel: number;
  stride: number;
  act: Activation;
  bn: boolean;
  limit: number;
  searchable: boolean;
}

const spaceCache = new WeakMap<NetworkSpec, SearchSpace>();

export function searchSpace(spec: NetworkSpec): SearchSpace {
  const cached = spaceCache.get(spec);
  if (cached) return cached;
  const layers: SearchableLayer[] = [];
  walk(spec, (decl) => {
    if (decl.searchable) {
      const removable = decl.op === 'se' || (spec.cbc && decl.limit > 0);
      layers.push({
        index: layers.length,
        id: decl.id,
        unit: decl.id.split('.')[0] as string,
        role: decl.role,
        op: decl.op,
        fullFilters: decl.fullFilters,
        fullKernel: decl.fullKernel,
        kernels: kernelChoices(decl.fullKernel),
        limit: decl.limit,
        minLevel: removable ? 0 : 1,
      });
    }
    return { filters: decl.fullFilters, kernel: decl.fullKernel };
  });
  const space: SearchSpace = {
    network: spec.name,
    widthLevels: spec.widthLevels,
    layers,
    byId: new Map(layers.map((layer) => [layer.id, layer])),
  };
  spaceCache.set(spec, space);
  return space;
}

/** Resolves the full network (no `subnet`) or a sub-network. */
export function resolveNetwork(spec: NetworkSpec, subnet?: SubnetConfig): ResolvedNetwork {
  const space = searchSpace(spec);
  let searchIndex = 0;
  const choose = (decl: ConvDecl): Choice => {
    if (!decl.searchable || !subnet) return { filters: decl.fullFilters, kernel: decl.fullKernel };
    const layer = space.layers[searchIndex];
    const level = subnet.levels[searchIndex];
    const kernel = subnet.kernels[searchIndex];
    searchIndex++;
    if (!layer || level === undefined || kernel === undefined) {
      throw new ValidationError(`sub-network does not fit network "${spec.name}": it has no choice for layer "${decl.id}"`);
    }
    return { filters: widthAtLevel(layer.fullFilters, space.widthLevels, level), kernel };
  };
  const layers = withoutDeadBranches(walk(spec, choose));
  const last = layers[layers.length - 1] as ResolvedLayer;
  let macs = 0;
  let params = 0;
  for (const layer of layers) {
    macs += layer.macs;
    params += layer.params;
  }
  return { spec, space, layers, output: last.output, macs, params };
}

/**
 * A residual block whose projection has M = 0 outputs its input: whatever its other layers compute is read by nobody,
 * so they do no work in this sub-network (identity, no MACs, no parameters, no latency entry, not exported).
 */
function withoutDeadBranches(layers: ResolvedLayer[]): ResolvedLayer[] {
  for (const project of layers) {
    if (!project.residual || project.filters !== 0) continue;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i] as ResolvedLayer;
      if (layer.unitIndex === project.unitIndex && !layer.identity) layers[i] = { ...layer, identity: true, macs: 0, params: 0 };
    }
  }
  return layers;
}

function resolvedLimit(spec: NetworkSpec, limit: BypassLimit | undefined, fallback: number): number {
  if (!spec.cbc) return 0;
  return limit === undefined ? fallback : limitValue(limit);
}

/** One path through the network so far: the current tensor's shape and the current unit's input shape. */
interface WalkState {
  shape: Shape3;
  block: Shape3;
}

const stateKey = (state: WalkState) => `${state.shape.channels}/${state.block.channels}`;

type SimpleExtra = Partial<Pick<ResolvedLayer, 'filters' | 'fullFilters' | 'act' | 'scale' | 'dropout'>>;

/**
 * One step of a network's walk. The steps depend only on the spec, so they are compiled once per spec (WeakMap) and
 * every resolve just runs them: resolving a sub-network is on the hot path of super-network training (one per image).
 */
type Step =
  | { kind: 'block' }
  | { kind: 'conv'; unitIndex: number; unit: string; decl: ConvDecl; searchIndex: number; residual: boolean }
  | {
      kind: 'simple'; unitIndex: number; unit: string; id: string; role: LayerRole; op: LayerOp;
      outputOf: (input: Shape3) => Shape3; extra: SimpleExtra; needsVector: boolean;
    };

const programCache = new WeakMap<NetworkSpec, Step[]>();

function compile(spec: NetworkSpec): Step[] {
  const cached = programCache.get(spec);
  if (cached) return cached;
  const steps: Step[] = [];
  // Full-network channel counts, needed for depthwise widths and residual decisions (independent of the sub-network).
  let fullChannels = spec.input.channels;
  let searchIndexCounter = 0;
  const conv = (unitIndex: number, unit: string, decl: ConvDecl, residual = false): void => {
    steps.push({ kind: 'conv', unitIndex, unit, decl, searchIndex: decl.searchable ? searchIndexCounter++ : -1, residual });
  };
  const simple = (
    unitIndex: number, unit: string, id: string, role: LayerRole, op: LayerOp, outputOf: (input: Shape3) => Shape3,
    extra: SimpleExtra = {}, needsVector = false,
  ): void => {
    steps.push({ kind: 'simple', unitIndex, unit, id, role, op, outputOf, extra, needsVector });
  };

  spec.layers.forEach((unit, unitIndex) => {
    steps.push({ kind: 'block' });
    switch (unit.type) {
      case 'conv': {
        const limit = resolvedLimit(spec, unit.T, unit.filters);
        conv(unitIndex, unit.name, {
          id: unit.name, role: unit.kernel === 1 ? 'pw' : 'conv', op: 'conv', fullFilters: unit.filters,
          fullKernel: unit.kernel, stride: unit.stride, act: unit.act, bn: unit.bn, limit, searchable: unit.searchable,
        });
        fullChannels = cbcFull(spec, fullChannels, limit, unit.filters);
        break;
      }
      case 'dwconv':
        conv(unitIndex, unit.name, depthwiseDecl(spec, unit.name, 'dw', fullChannels, unit));
        break;
      case 'mbconv': {
        const blockFullIn = fullChannels;
        const limit = (fallback: number) => resolvedLimit(spec, unit.T, fallback);
        let full = fullChannels;
        if (unit.expand !== null) {
          const expandLimit = resolvedLimit(spec, unit.expandT ?? unit.T, unit.expand);
          conv(unitIndex, unit.name, {
            id: `${unit.name}.expand`, role: 'expand', op: 'conv', fullFilters: unit.expand, fullKernel: 1, stride: 1,
            act: unit.act, bn: true, limit: expandLimit, searchable: unit.searchable,
          });
          full = cbcFull(spec, full, expandLimit, unit.expand);
        }
        conv(unitIndex, unit.name, depthwiseDecl(spec, `${unit.name}.dw`, 'dw', full, {
          kernel: unit.kernel, stride: unit.stride, act: unit.act, bn: true, searchable: unit.searchable,
        }));
        if (unit.se !== null) {
          conv(unitIndex, unit.name, {
            id: `${unit.name}.se`, role: 'se', op: 'se', fullFilters: unit.se, fullKernel: 1, stride: 1,
            act: 'relu', bn: false, limit: 0, searchable: unit.searchable,
          });
        }
        const residual = unit.stride === 1 && blockFullIn === unit.out;
        conv(unitIndex, unit.name, {
          id: `${unit.name}.project`, role: 'project', op: 'conv', fullFilters: unit.out, fullKernel: 1, stride: 1,
          act: 'none', bn: true, limit: limit(unit.out), searchable: unit.searchable,
        }, residual);
        fullChannels = residual ? unit.out : cbcFull(spec, full, limit(unit.out), unit.out);
        break;
      }
      case 'fd_decoder': {
        conv(unitIndex, unit.name, depthwiseDecl(spec, `${unit.name}.dw`, 'dw', fullChannels, {
          kernel: unit.kernel, stride: 1, act: unit.act, bn: true, searchable: unit.searchable,
        }));
        const pwLimit = resolvedLimit(spec, unit.T, unit.filters);
        conv(unitIndex, unit.name, {
          id: `${unit.name}.pw`, role: 'pw', op: 'conv', fullFilters: unit.filters, fullKernel: 1, stride: 1,
          act: unit.act, bn: true, limit: pwLimit, searchable: unit.searchable,
        });
        fullChannels = cbcFull(spec, fullChannels, pwLimit, unit.filters);
        const s = unit.upsample;
        simple(unitIndex, unit.name, `${unit.name}.up`, 'upsample', 'upsample',
          (i) => ({ height: i.height * s, width: i.width * s, channels: i.channels }), { scale: s });
        break;
      }
      case 'gap':
        simple(unitIndex, unit.name, unit.name, 'gap', 'gap', (i) => ({ height: 1, width: 1, channels: i.channels }));
        break;
      case 'upsample': {
        const s = unit.scale;
        simple(unitIndex, unit.name, unit.name, 'upsample', 'upsample',
          (i) => ({ height: i.height * s, width: i.width * s, channels: i.channels }), { scale: s });
        break;
      }
      case 'fc': {
        simple(unitIndex, unit.name, unit.name, 'fc', 'fc', () => ({ height: 1, width: 1, channels: unit.units }),
          { filters: unit.units, fullFilters: unit.units, act: unit.act, dropout: unit.dropout }, true);
        fullChannels = unit.units;
        break;
      }
    }
  });
  programCache.set(spec, steps);
  return steps;
}

function withCost(layer: Omit<ResolvedLayer, 'macs' | 'params'>): ResolvedLayer {
  const cost = layerCost(layer);
  return { ...layer, macs: cost.macs, params: cost.params };
}

function simpleLayer(step: Extract<Step, { kind: 'simple' }>, input: Shape3): ResolvedLayer {
  if (step.needsVector && (input.height !== 1 || input.width !== 1)) {
    throw new ValidationError(
      `layer "${step.id}" (fc) needs a 1×1 input but gets ${input.height}×${input.width}: put a "gap" layer before it`,
    );
  }
  const extra = step.extra;
  return withCost({
    id: step.id, unit: step.unit, unitIndex: step.unitIndex, role: step.role, op: step.op, searchIndex: -1, input,
    output: step.outputOf(input), filters: extra.filters ?? 0, fullFilters: extra.fullFilters ?? 0, kernel: 1,
    fullKernel: 1, stride: 1, act: extra.act ?? 'none', bn: false, limit: 0, bypassChannels: 0, residual: false,
    scale: extra.scale ?? 1, dropout: extra.dropout ?? 0, removed: false, identity: false,
  });
}

/**
 * Walks the compiled steps with a frontier of distinct states (channel counts reachable at that point): enumerates
 * every layer variant of the whole search space. `choose` gives every (width, kernel) choice of a conv-type layer;
 * `onLayer` receives each resolved layer.
 */
function walkFrontier(
  spec: NetworkSpec,
  choose: (decl: ConvDecl) => Choice[],
  onLayer: (layer: ResolvedLayer) => void,
): WalkState[] {
  const inputShape: Shape3 = { height: spec.input.height, width: spec.input.width, channels: spec.input.channels };
  let frontier: WalkState[] = [{ shape: inputShape, block: inputShape }];
  const dedupe = (states: WalkState[]): WalkState[] => {
    const seen = new Map<string, WalkState>();
    for (const state of states) if (!seen.has(stateKey(state))) seen.set(stateKey(state), state);
    return [...seen.values()];
  };
  for (const step of compile(spec)) {
    if (step.kind === 'block') {
      frontier = dedupe(frontier.map((state) => ({ shape: state.shape, block: state.shape })));
    } else if (step.kind === 'conv') {
      const choices = choose(step.decl);
      const next: WalkState[] = [];
      for (const state of frontier) {
        for (const choice of choices) {
          const layer = resolveConvLayer(step.decl, step.unitIndex, step.unit, step.searchIndex, state.shape, choice,
            step.residual ? state.block : undefined);
          onLayer(layer);
          next.push({ shape: layer.output, block: state.block });
        }
      }
      frontier = dedupe(next);
    } else {
      frontier = dedupe(frontier.map((state) => {
        const layer = simpleLayer(step, state.shape);
        onLayer(layer);
        return { shape: layer.output, block: state.block };
      }));
    }
  }
  return frontier;
}

/** Single-path walk (one sub-network): the compiled steps with no frontier bookkeeping. */
function walk(spec: NetworkSpec, choose: (decl: ConvDecl) => Choice): ResolvedLayer[] {
  const layers: ResolvedLayer[] = [];
  const inputShape: Shape3 = { height: spec.input.height, width: spec.input.width, channels: spec.input.channels };
  let shape = inputShape;
  let block = inputShape;
  for (const step of compile(spec)) {
    let layer: ResolvedLayer;
    if (step.kind === 'block') {
      block = shape;
      continue;
    } else if (step.kind === 'conv') {
      layer = resolveConvLayer(step.decl, step.unitIndex, step.unit, step.searchIndex, shape, choose(step.decl),
        step.residual ? block : undefined);
    } else {
      layer = simpleLayer(step, shape);
    }
    layers.push(layer);
    shape = layer.output;
  }
  return layers;
}

/**
 * Every distinct layer configuration any sub-network of the search space can contain, keyed by layer signature
 * (identical layers in different places share one entry). This is what a complete latency table measures.
 * `kernels`/`levels` restrict the enumeration (e.g. a coarser width grid for a quick table).
 */
export function enumerateLayerVariants(
  spec: NetworkSpec,
  options: { levels?: (layer: SearchableLayer) => number[]; kernels?: (layer: SearchableLayer) => number[] } = {},
): Map<string, ResolvedLayer> {
  const space = searchSpace(spec);
  const variants = new Map<string, ResolvedLayer>();
  let index = 0;
  walkFrontier(
    spec,
    (decl) => {
      if (!decl.searchable) return [{ filters: decl.fullFilters, kernel: decl.fullKernel }];
      const layer = space.layers[index++] as SearchableLayer;
      const levels = options.levels?.(layer) ?? range(layer.minLevel, space.widthLevels);
      const kernels = options.kernels?.(layer) ?? layer.kernels;
      const choices: Choice[] = [];
      for (const level of levels) {
        for (const kernel of kernels) choices.push({ filters: widthAtLevel(layer.fullFilters, space.widthLevels, level), kernel });
      }
      return choices;
    },
    (layer) => {
      const signature = layerSignature(layer);
      if (signature !== null && !variants.has(signature)) variants.set(signature, layer);
    },
  );
  return variants;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The CBC arithmetic and cost of one conv-type layer for a given input and choice (docs/forward-semantics.md). */
function resolveConvLayer(
  decl: ConvDecl,
  unitIndex: number,
  unit: string,
  searchIndex: number,
  input: Shape3,
  choice: Choice,
  residualFrom: Shape3 | undefined,
): ResolvedLayer {
  const stride = decl.stride;
  const filters = decl.op === 'dwconv' ? Math.min(choice.filters, input.channels) : choice.filters;
  let channels: number;
  let bypass: number;
  if (decl.op === 'se') {
    channels = input.channels;
    bypass = 0;
  } else if (residualFrom) {
    // y = x + f(x): the residual carries every channel of the block input (Cb). The projection's CBC bypass source is
    // that residual, so Z_proj = max(min(Cb, T), M) (M without CBC) and the block output is max(Cb, Z_proj) = max(Cb, M).
    channels = Math.max(residualFrom.channels, filters);
    bypass = residualFrom.channels;
  } else {
    channels = cbcOutputChannels(input.channels, decl.limit, filters);
    bypass = cbcBypassedChannels(input.channels, decl.limit, filters);
  }
  const output: Shape3 =
    decl.op === 'se'
      ? input
      : { height: sameOutputSize(input.height, stride), width: sameOutputSize(input.width, stride), channels };
  const removed = filters === 0;
  const kernel = choice.kernel;
  const { macs, params } = layerCost({ op: decl.op, input, output, filters, kernel });
  // A removed residual projection outputs the block input, whatever its own input is: the whole block is the identity.
  const identity = removed && (decl.op === 'se' || residualFrom !== undefined || (stride === 1 && channels === input.channels));
  // Built as one literal (key order as before: blockInput only on residual layers, cost last); no spreads on this
  // hot path.
  return residualFrom
    ? {
        id: decl.id, unit, unitIndex, role: decl.role, op: decl.op, searchIndex, input, output, filters,
        fullFilters: decl.fullFilters, kernel, fullKernel: decl.fullKernel, stride, act: decl.act, bn: decl.bn,
        limit: decl.limit, bypassChannels: bypass, residual: true, blockInput: residualFrom, scale: 1, dropout: 0,
        removed, identity, macs, params,
      }
    : {
        id: decl.id, unit, unitIndex, role: decl.role, op: decl.op, searchIndex, input, output, filters,
        fullFilters: decl.fullFilters, kernel, fullKernel: decl.fullKernel, stride, act: decl.act, bn: decl.bn,
        limit: decl.limit, bypassChannels: bypass, residual: false, scale: 1, dropout: 0, removed, identity, macs,
        params,
      };
}

function depthwiseDecl(
  spec: NetworkSpec,
  id: string,
  role: LayerRole,
  fullChannels: number,
  unit: { kernel: number; stride: number; act: Activation; bn: boolean; T?: BypassLimit | undefined; searchable: boolean },
): ConvDecl {
  return {
    id, role, op: 'dwconv', fullFilters: fullChannels, fullKernel: unit.kernel, stride: unit.stride, act: unit.act,
    bn: unit.bn, limit: resolvedLimit(spec, unit.T, Number.POSITIVE_INFINITY), searchable: unit.searchable,
  };
}

/** Full-network output width of a conv layer (all filters present). */
function cbcFull(spec: NetworkSpec, inputChannels: number, limit: number, filters: number): number {
  return spec.cbc ? cbcOutputChannels(inputChannels, limit, filters) : filters;
}
