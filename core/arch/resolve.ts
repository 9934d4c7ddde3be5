/**
 * Shape inference for a network or any of its sub-networks: the one implementation of CBC widths, strides and
 * per-layer cost. `searchSpace` lists the searchable layers (from a walk of the full network).
 */
import { cbcBypassedChannels, cbcOutputChannels, kernelChoices, sameOutputSize, widthAtLevel } from './cbc.ts';
import { layerCost } from './cost.ts';
import type { LayerOp, LayerRole, ResolvedLayer, SearchSpace, SearchableLayer, Shape3 } from './layers.ts';
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
  const layers = walk(spec, choose);
  const last = layers[layers.length - 1] as ResolvedLayer;
  let macs = 0;
  let params = 0;
  for (const layer of layers) {
    macs += layer.macs;
    params += layer.params;
  }
  return { spec, space, layers, output: last.output, macs, params };
}

function resolvedLimit(spec: NetworkSpec, limit: BypassLimit | undefined, fallback: number): number {
  if (!spec.cbc) return 0;
  return limit === undefined ? fallback : limitValue(limit);
}

/** Walks the units in order, asking `choose` for each conv-type layer's filters and kernel. */
function walk(spec: NetworkSpec, choose: (decl: ConvDecl) => Choice): ResolvedLayer[] {
  const out: ResolvedLayer[] = [];
  let shape: Shape3 = { height: spec.input.height, width: spec.input.width, channels: spec.input.channels };
  // Full-network channel counts, needed for depthwise widths and residual decisions (independent of the sub-network).
  let fullChannels = spec.input.channels;
  let searchIndexCounter = 0;

  const push = (layer: Omit<ResolvedLayer, 'macs' | 'params' | 'searchIndex'>, searchable: boolean): ResolvedLayer => {
    const cost = layerCost(layer);
    const resolved: ResolvedLayer = { ...layer, searchIndex: searchable ? searchIndexCounter++ : -1, ...cost };
    out.push(resolved);
    return resolved;
  };

  const conv = (
    unitIndex: number,
    unit: string,
    decl: ConvDecl,
    input: Shape3,
    residualFrom?: Shape3,
  ): ResolvedLayer => {
    const choice = choose(decl);
    const stride = decl.stride;
    const filters = decl.op === 'dwconv' ? Math.min(choice.filters, input.channels) : choice.filters;
    let channels: number;
    let bypass: number;
    if (decl.op === 'se') {
      channels = input.channels;
      bypass = 0;
    } else if (residualFrom) {
      const residualChannels = spec.cbc
        ? Math.min(residualFrom.channels, decl.limit)
        : Math.min(residualFrom.channels, filters);
      channels = Math.max(residualChannels, filters);
      bypass = residualChannels;
    } else {
      channels = cbcOutputChannels(input.channels, decl.limit, filters);
      bypass = cbcBypassedChannels(input.channels, decl.limit, filters);
    }
    const output: Shape3 =
      decl.op === 'se'
        ? input
        : { height: sameOutputSize(input.height, stride), width: sameOutputSize(input.width, stride), channels };
    const removed = filters === 0;
    const identity = removed && (decl.op === 'se' || (stride === 1 && channels === input.channels));
    return push(
      {
        id: decl.id,
        unit,
        unitIndex,
        role: decl.role,
        op: decl.op,
        input,
        output,
        filters,
        fullFilters: decl.fullFilters,
        kernel: choice.kernel,
        fullKernel: decl.fullKernel,
        stride,
        act: decl.act,
        bn: decl.bn,
        limit: decl.limit,
        bypassChannels: bypass,
        residual: residualFrom !== undefined,
        ...(residualFrom ? { blockInput: residualFrom } : {}),
        scale: 1,
        dropout: 0,
        removed,
        identity,
      },
      decl.searchable,
    );
  };

  const simple = (
    unitIndex: number,
    unit: string,
    id: string,
    role: LayerRole,
    op: LayerOp,
    input: Shape3,
    output: Shape3,
    extra: Partial<Pick<ResolvedLayer, 'filters' | 'fullFilters' | 'act' | 'scale' | 'dropout'>> = {},
  ): ResolvedLayer =>
    push(
      {
        id,
        unit,
        unitIndex,
        role,
        op,
        input,
        output,
        filters: extra.filters ?? 0,
        fullFilters: extra.fullFilters ?? 0,
        kernel: 1,
        fullKernel: 1,
        stride: 1,
        act: extra.act ?? 'none',
        bn: false,
        limit: 0,
        bypassChannels: 0,
        residual: false,
        scale: extra.scale ?? 1,
        dropout: extra.dropout ?? 0,
        removed: false,
        identity: false,
      },
      false,
    );

  spec.layers.forEach((unit, unitIndex) => {
    switch (unit.type) {
      case 'conv': {
        const layer = conv(unitIndex, unit.name, {
          id: unit.name,
          role: unit.kernel === 1 ? 'pw' : 'conv',
          op: 'conv',
          fullFilters: unit.filters,
          fullKernel: unit.kernel,
          stride: unit.stride,
          act: unit.act,
          bn: unit.bn,
          limit: resolvedLimit(spec, unit.T, unit.filters),
          searchable: unit.searchable,
        }, shape);
        shape = layer.output;
        fullChannels = cbcFull(spec, fullChannels, resolvedLimit(spec, unit.T, unit.filters), unit.filters);
        break;
      }
      case 'dwconv': {
        const layer = conv(unitIndex, unit.name, depthwiseDecl(spec, unit.name, 'dw', fullChannels, unit), shape);
        shape = layer.output;
        break;
      }
      case 'mbconv': {
        const blockInput = shape;
        const blockFullIn = fullChannels;
        const limit = (fallback: number) => resolvedLimit(spec, unit.T, fallback);
        let x = shape;
        let full = fullChannels;
        if (unit.expand !== null) {
          x = conv(unitIndex, unit.name, {
            id: `${unit.name}.expand`, role: 'expand', op: 'conv', fullFilters: unit.expand, fullKernel: 1, stride: 1,
            act: unit.act, bn: true, limit: limit(unit.expand), searchable: unit.searchable,
          }, x).output;
          full = cbcFull(spec, full, limit(unit.expand), unit.expand);
        }
        x = conv(unitIndex, unit.name, depthwiseDecl(spec, `${unit.name}.dw`, 'dw', full, {
          kernel: unit.kernel, stride: unit.stride, act: unit.act, bn: true, T: undefined, searchable: unit.searchable,
        }), x).output;
        if (unit.se !== null) {
          conv(unitIndex, unit.name, {
            id: `${unit.name}.se`, role: 'se', op: 'se', fullFilters: unit.se, fullKernel: 1, stride: 1,
            act: 'relu', bn: false, limit: 0, searchable: unit.searchable,
          }, x);
        }
        const residual = unit.stride === 1 && blockFullIn === unit.out;
        const project = conv(unitIndex, unit.name, {
          id: `${unit.name}.project`, role: 'project', op: 'conv', fullFilters: unit.out, fullKernel: 1, stride: 1,
          act: 'none', bn: true, limit: limit(unit.out), searchable: unit.searchable,
        }, x, residual ? blockInput : undefined);
        shape = project.output;
        fullChannels = residual ? unit.out : cbcFull(spec, full, limit(unit.out), unit.out);
        break;
      }
      case 'fd_decoder': {
        const dw = conv(unitIndex, unit.name, depthwiseDecl(spec, `${unit.name}.dw`, 'dw', fullChannels, {
          kernel: unit.kernel, stride: 1, act: unit.act, bn: true, T: undefined, searchable: unit.searchable,
        }), shape);
        const pwLimit = resolvedLimit(spec, unit.T, unit.filters);
        const pw = conv(unitIndex, unit.name, {
          id: `${unit.name}.pw`, role: 'pw', op: 'conv', fullFilters: unit.filters, fullKernel: 1, stride: 1,
          act: unit.act, bn: true, limit: pwLimit, searchable: unit.searchable,
        }, dw.output);
        fullChannels = cbcFull(spec, fullChannels, pwLimit, unit.filters);
        const up = pw.output;
        shape = simple(unitIndex, unit.name, `${unit.name}.up`, 'upsample', 'upsample', up,
          { height: up.height * unit.upsample, width: up.width * unit.upsample, channels: up.channels },
          { scale: unit.upsample }).output;
        break;
      }
      case 'gap':
        shape = simple(unitIndex, unit.name, unit.name, 'gap', 'gap', shape, { height: 1, width: 1, channels: shape.channels }).output;
        break;
      case 'upsample':
        shape = simple(unitIndex, unit.name, unit.name, 'upsample', 'upsample', shape,
          { height: shape.height * unit.scale, width: shape.width * unit.scale, channels: shape.channels },
          { scale: unit.scale }).output;
        break;
      case 'fc':
        if (shape.height !== 1 || shape.width !== 1) {
          throw new ValidationError(
            `layer "${unit.name}" (fc) needs a 1×1 input but gets ${shape.height}×${shape.width}: put a "gap" layer before it`,
          );
        }
        shape = simple(unitIndex, unit.name, unit.name, 'fc', 'fc', shape, { height: 1, width: 1, channels: unit.units },
          { filters: unit.units, fullFilters: unit.units, act: unit.act, dropout: unit.dropout }).output;
        fullChannels = unit.units;
        break;
    }
  });
  return out;
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
