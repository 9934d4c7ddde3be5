/**
 * Inference weights of a materialized (slim) sub-network with batch norm folded into each conv: the contract between
 * core/supernet (which produces them from the shared super-network weights) and core/export (which writes them to
 * TFLite). Shapes follow the sub-network's ResolvedLayer (core/arch): M = layer.filters, C = layer.input.channels.
 *
 * - conv:   kernel [k, k, C, M] (HWIO, row-major), bias [M]
 * - dwconv: kernel [k, k, M] (HWC: filter m applies to input channel m), bias [M]
 * - se:     reduce [C, M] + reduceBias [M], expand [M, C] + expandBias [C]  (relu, then hard-sigmoid gate)
 * - fc:     kernel [C, units], bias [units]
 * Layers with M = 0 and layers without weights (gap, upsample) have no entry.
 */
export interface ConvWeights {
  kind: 'conv' | 'dwconv' | 'fc';
  kernel: Float32Array;
  bias: Float32Array;
}

export interface SqueezeExciteWeights {
  kind: 'se';
  reduce: Float32Array;
  reduceBias: Float32Array;
  expand: Float32Array;
  expandBias: Float32Array;
}

export type LayerWeights = ConvWeights | SqueezeExciteWeights;

/** Layer id -> weights. */
export type FoldedWeights = Map<string, LayerWeights>;
