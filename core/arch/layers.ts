/**
 * The resolved form of a network: one entry per operation with its shapes after CBC, filters, kernel and cost.
 * Produced only by `resolveNetwork` (resolve.ts); everyone else reads shapes from here.
 */
import type { Activation } from './spec.ts';

export type LayerOp = 'conv' | 'dwconv' | 'se' | 'gap' | 'upsample' | 'fc';

/** Which part of its unit a layer is (used for tables and for naming weights). */
export type LayerRole = 'conv' | 'expand' | 'dw' | 'se' | 'project' | 'pw' | 'gap' | 'upsample' | 'fc';

export interface Shape3 {
  height: number;
  width: number;
  channels: number;
}

export interface ResolvedLayer {
  /** Stable id: the unit name, plus `.expand`/`.dw`/`.se`/`.project`/`.pw`/`.up` inside blocks. */
  id: string;
  unit: string;
  unitIndex: number;
  role: LayerRole;
  op: LayerOp;
  /** Index into the search space's layers, or -1 for layers that are never searched. */
  searchIndex: number;
  input: Shape3;
  output: Shape3;
  /** M: filters that remain (for SE: reduce filters; for fc: units). */
  filters: number;
  fullFilters: number;
  kernel: number;
  fullKernel: number;
  stride: number;
  act: Activation;
  bn: boolean;
  /** T as a number (Infinity for 'inf'); 0 when CBC is off. */
  limit: number;
  /**
   * Channels copied from the bypass source: for a plain layer the input channels [M, min(C,T)) (spatially
   * subsampled by the stride); for a residual projection every block-input channel [0, Cb), added to the filters'
   * outputs (Z = max(Cb, M)).
   */
  bypassChannels: number;
  /** True for a block's projection that adds the block input (MobileNetV3 residual). */
  residual: boolean;
  /** The block input shape, for residual projections. */
  blockInput?: Shape3;
  /** Upsampling factor (upsample layers). */
  scale: number;
  /** Dropout on the input (fc). */
  dropout: number;
  /** M = 0: no filters run; the layer's output is only the bypass (or nothing changes at all). */
  removed: boolean;
  /**
   * The layer does no work at all in this sub-network: removed with stride 1 and output = input; for a residual
   * projection, removed (its output is then the block input, not its own input); for any other layer of a residual
   * block whose projection is removed, always (nothing reads its output). Identity layers cost 0 MACs and params.
   */
  identity: boolean;
  macs: number;
  params: number;
}

export interface SearchableLayer {
  index: number;
  id: string;
  unit: string;
  role: LayerRole;
  op: 'conv' | 'dwconv' | 'se';
  fullFilters: number;
  fullKernel: number;
  kernels: number[];
  limit: number;
  /** Lowest width level allowed: 0 when the layer may be removed (CBC on, T > 0; SE always), else 1. */
  minLevel: number;
}

export interface SearchSpace {
  network: string;
  widthLevels: number;
  layers: SearchableLayer[];
  byId: Map<string, SearchableLayer>;
}
