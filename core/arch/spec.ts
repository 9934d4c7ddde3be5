/**
 * The network IR: a sequence of units (layers and blocks) with the searchable attributes of NetAdaptV2.
 * A NetworkSpec is plain JSON; `parseNetworkSpec` (load.ts) validates it.
 */
import { z } from 'zod';

export const ACTIVATIONS = ['relu', 'relu6', 'hswish', 'none'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * T, the channel-level-bypass limit of a conv layer (paper Sec. 2.2): at most min(C, T) input channels can be
 * bypassed, so the layer's output width is Z = max(min(C, T), M). `'inf'` bypasses every input channel.
 */
export type BypassLimit = number | 'inf';

/**
 * Sanity bounds of a network file, far above any network this tool searches on a phone (MobileNetV3-Large: 224×224
 * input, ≤ 1,280 filters, kernels ≤ 7) and low enough that shapes, MACs and weights stay computable; whether a
 * network within them fits this computer's memory is checked when it is used (core/resource-limits.ts).
 */
export const SPEC_LIMITS = { inputSide: 4096, channels: 64, filters: 16_384, units: 100_000, kernel: 15, scale: 16, layers: 1000 } as const;

const name = z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'names use letters, digits, "_", "." and "-" only');
/** A whole number in [1, max] whose message names the range. */
function count(max: number, what: string) {
  const range = `${what} must be a whole number from 1 to ${max.toLocaleString('en-US')}`;
  return z.number(range).int(range).min(1, range).max(max, range);
}
const filters = count(SPEC_LIMITS.filters, 'filters');
const oddKernel = count(SPEC_LIMITS.kernel, 'kernel size').refine((k) => k % 2 === 1, { message: `kernel size must be odd (1, 3, 5, … ${SPEC_LIMITS.kernel})` });
const stride = z.union([z.literal(1), z.literal(2)], { error: 'stride must be 1 or 2' });
const bypassLimit = z.union([z.number().int().nonnegative(), z.literal('inf')], { error: 'T must be a whole number ≥ 0 or "inf"' });
const activation = z.enum(ACTIVATIONS, `act must be one of ${ACTIVATIONS.join(', ')}`);

/** Standard convolution; with kernel 1 it is a pointwise layer. */
export const convSpec = z.strictObject({
  type: z.literal('conv'),
  name,
  filters,
  kernel: oddKernel,
  stride: stride.default(1),
  act: activation,
  bn: z.boolean().default(true),
  /** CBC limit; default: the layer's full width. */
  T: bypassLimit.optional(),
  searchable: z.boolean().default(true),
});

/** Depthwise convolution (channel multiplier 1): one filter per input channel. */
export const depthwiseSpec = z.strictObject({
  type: z.literal('dwconv'),
  name,
  kernel: oddKernel,
  stride: stride.default(1),
  act: activation,
  bn: z.boolean().default(true),
  /** CBC limit; default 'inf' (paper: T of depthwise layers is infinity). */
  T: bypassLimit.optional(),
  searchable: z.boolean().default(true),
});

/**
 * MobileNetV3 block: optional 1×1 expansion, k×k depthwise, optional squeeze-and-excitation, 1×1 linear projection;
 * residual when stride is 1 and the full network's input and output widths match.
 */
export const mbconvSpec = z.strictObject({
  type: z.literal('mbconv'),
  name,
  /** Filters of the 1×1 expansion layer; null: no expansion layer (the depthwise layer reads the block input). */
  expand: filters.nullable(),
  kernel: oddKernel,
  stride: stride.default(1),
  /** Filters of the squeeze-and-excitation reduce layer; null: no SE. */
  se: filters.nullable().default(null),
  out: filters,
  act: activation,
  /** CBC limit of the block's projection layer, and of its expansion layer unless `expandT` is given (the depthwise
   * layer's is 'inf'). */
  T: bypassLimit.optional(),
  /** CBC limit of the expansion layer; default: T. */
  expandT: bypassLimit.optional(),
  searchable: z.boolean().default(true),
});

/** FastDepth decoder stage: k×k depthwise, 1×1 pointwise, nearest-neighbour upsampling. */
export const decoderStageSpec = z.strictObject({
  type: z.literal('fd_decoder'),
  name,
  kernel: oddKernel,
  filters,
  act: activation.default('relu'),
  T: bypassLimit.optional(),
  upsample: count(SPEC_LIMITS.scale, 'upsample').default(2),
  searchable: z.boolean().default(true),
});

export const globalPoolSpec = z.strictObject({ type: z.literal('gap'), name });

export const upsampleSpec = z.strictObject({ type: z.literal('upsample'), name, scale: count(SPEC_LIMITS.scale, 'scale').default(2) });

/** Fully connected layer on a 1×1 feature map (the classifier); never searched. */
export const fullyConnectedSpec = z.strictObject({
  type: z.literal('fc'),
  name,
  units: count(SPEC_LIMITS.units, 'units'),
  act: activation.default('none'),
  /** Dropout rate applied to this layer's input during training. */
  dropout: z.number().min(0).max(0.95).default(0),
});

export const unitSpec = z.discriminatedUnion('type', [
  convSpec,
  depthwiseSpec,
  mbconvSpec,
  decoderStageSpec,
  globalPoolSpec,
  upsampleSpec,
  fullyConnectedSpec,
]);

export const networkSpecSchema = z.strictObject({
  name,
  task: z.enum(['classification', 'depth']),
  input: z.strictObject({
    height: count(SPEC_LIMITS.inputSide, 'height (pixels)'),
    width: count(SPEC_LIMITS.inputSide, 'width (pixels)'),
    channels: count(SPEC_LIMITS.channels, 'channels').default(3),
  }),
  /** W: number of uniformly spaced width levels from 0 to the full width (paper: 9, or 11 for the MAC-guided setup). */
  widthLevels: z.number().int('widthLevels must be a whole number from 2 to 65').min(2, 'widthLevels must be a whole number from 2 to 65').max(65, 'widthLevels must be a whole number from 2 to 65').default(9),
  /** Channel-level bypass connections on (the NetAdaptV2 default). Off: Z = M and no layer can be removed. */
  cbc: z.boolean().default(true),
  description: z.string().optional(),
  layers: z.array(unitSpec).min(1, 'a network needs at least one layer').max(SPEC_LIMITS.layers, `a network may have at most ${SPEC_LIMITS.layers} layers`),
});

export type ConvSpec = z.infer<typeof convSpec>;
export type DepthwiseSpec = z.infer<typeof depthwiseSpec>;
export type MBConvSpec = z.infer<typeof mbconvSpec>;
export type DecoderStageSpec = z.infer<typeof decoderStageSpec>;
export type GlobalPoolSpec = z.infer<typeof globalPoolSpec>;
export type UpsampleSpec = z.infer<typeof upsampleSpec>;
export type FullyConnectedSpec = z.infer<typeof fullyConnectedSpec>;
export type UnitSpec = z.infer<typeof unitSpec>;
export type NetworkSpec = z.infer<typeof networkSpecSchema>;
/** What a JSON file may omit (defaults filled in by parsing). */
export type NetworkSpecInput = z.input<typeof networkSpecSchema>;

export function limitValue(limit: BypassLimit): number {
  return limit === 'inf' ? Number.POSITIVE_INFINITY : limit;
}

export function formatLimit(limit: number): string {
  return Number.isFinite(limit) ? String(limit) : '∞';
}
