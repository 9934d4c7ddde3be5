import type { Activation, BypassLimit, NetworkSpecInput } from '../spec.ts';
import { conv, makeDivisible, mbconv, nextPowerOfTwo, scaled, type UnitInput, type ZooOptions } from './common.ts';

/** One MobileNetV3 bottleneck: kernel, expansion width, output width, squeeze-and-excitation, activation, stride. */
export interface Bneck {
  kernel: number;
  expand: number;
  out: number;
  se: boolean;
  act: Activation;
  stride: 1 | 2;
  /** SE reduce width when the network fixes it per block (else the layout's `seWidth` of the expansion width). */
  seFilters?: number;
}

const RE = 'relu' as const;
const HS = 'hswish' as const;

/** MobileNetV3-Large (Howard et al. 2019, Table 1). */
export const MOBILENET_V3_LARGE: readonly Bneck[] = [
  { kernel: 3, expand: 16, out: 16, se: false, act: RE, stride: 1 },
  { kernel: 3, expand: 64, out: 24, se: false, act: RE, stride: 2 },
  { kernel: 3, expand: 72, out: 24, se: false, act: RE, stride: 1 },
  { kernel: 5, expand: 72, out: 40, se: true, act: RE, stride: 2 },
  { kernel: 5, expand: 120, out: 40, se: true, act: RE, stride: 1 },
  { kernel: 5, expand: 120, out: 40, se: true, act: RE, stride: 1 },
  { kernel: 3, expand: 240, out: 80, se: false, act: HS, stride: 2 },
  { kernel: 3, expand: 200, out: 80, se: false, act: HS, stride: 1 },
  { kernel: 3, expand: 184, out: 80, se: false, act: HS, stride: 1 },
  { kernel: 3, expand: 184, out: 80, se: false, act: HS, stride: 1 },
  { kernel: 3, expand: 480, out: 112, se: true, act: HS, stride: 1 },
  { kernel: 3, expand: 672, out: 112, se: true, act: HS, stride: 1 },
  { kernel: 5, expand: 672, out: 160, se: true, act: HS, stride: 2 },
  { kernel: 5, expand: 960, out: 160, se: true, act: HS, stride: 1 },
  { kernel: 5, expand: 960, out: 160, se: true, act: HS, stride: 1 },
];

interface V3Layout {
  name: string;
  description: string;
  inputSize: number;
  stem: number;
  /** Stride of the stem convolution (2 unless given). */
  stemStride?: 1 | 2;
  blocks: readonly Bneck[];
  /**
   * The first block gets a 1×1 expansion layer even when its expansion width equals its input width (MobileNetV3
   * omits it; NetAdaptV2's Table 8 shrinks it).
   */
  firstBlockExpands?: boolean;
  /** CBC limit of the expansion layers (default: the block's T). */
  expandLimit?: BypassLimit;
  /** SE reduce width from the SE layer's input width. */
  seWidth: (channels: number) => number;
  head: number;
  lastConv: number;
  classes: number;
  widthLevels: number;
  /** CBC limit by output stride (2, 4, 8, 16, 32), or undefined for the default (full width). */
  limits?: (outputStride: number) => BypassLimit;
  /** CBC limit of the conv after global pooling. */
  lastConvLimit?: BypassLimit;
}

function buildV3(layout: V3Layout): NetworkSpecInput {
  const stemStride = layout.stemStride ?? 2;
  let outputStride = stemStride;
  const T = () => layout.limits?.(outputStride);
  const stemT = T();
  const layers: UnitInput[] = [conv('conv1', layout.stem, 3, stemStride, HS, stemT === undefined ? {} : { T: stemT })];
  let channels = layout.stem;
  layout.blocks.forEach((b, i) => {
    outputStride *= b.stride;
    // The first MobileNetV3 block has expansion width = input width and no expansion layer.
    const expand = b.expand === channels && i === 0 && layout.firstBlockExpands !== true ? null : b.expand;
    const se = b.se ? (b.seFilters ?? layout.seWidth(b.expand)) : null;
    layers.push(mbconv(`b${i + 1}`, expand, b.kernel, b.stride, b.out, b.act, se, T(), expand === null ? undefined : layout.expandLimit));
    channels = b.out;
  });
  const headT = T();
  layers.push(conv('conv_head', layout.head, 1, 1, HS, headT === undefined ? {} : { T: headT }));
  layers.push({ type: 'gap', name: 'pool' });
  layers.push(conv('conv_last', layout.lastConv, 1, 1, HS, {
    bn: false,
    ...(layout.lastConvLimit === undefined ? {} : { T: layout.lastConvLimit }),
  }));
  layers.push({ type: 'fc', name: 'classifier', units: layout.classes, dropout: 0.2 });
  return {
    name: layout.name,
    task: 'classification',
    description: layout.description,
    input: { height: layout.inputSize, width: layout.inputSize, channels: 3 },
    widthLevels: layout.widthLevels,
    layers,
  };
}

/** MobileNetV3-Large 1.0-224: 219M MACs, 5.4M parameters. */
export function mobilenetV3Large(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier: m = 1, classes = 1000 } = options;
  return buildV3({
    name: inputSize === 224 && m === 1 ? 'mobilenet-v3-large' : `mobilenet-v3-large-${m}-${inputSize}`,
    description: `MobileNetV3-Large ${m}-${inputSize}`,
    inputSize,
    stem: scaled(16, m),
    blocks: MOBILENET_V3_LARGE.map((b) => ({ ...b, expand: scaled(b.expand, m), out: scaled(b.out, m) })),
    seWidth: (c) => makeDivisible(c / 4),
    head: scaled(960, m),
    lastConv: m > 1 ? scaled(1280, m) : 1280,
    classes,
    widthLevels: 9,
  });
}

/** One T per output resolution, inversely proportional to it (paper App. B, Table 8): 8 at stride 2 … 128 at 32. */
function limitsByResolution(scale: number): (outputStride: number) => number {
  return (outputStride) => Math.round(8 * scale * (outputStride / 2));
}

/** Inserts a copy of the last block of the stage that ends at `outputStride` (App. A.1: extra blocks at 28×28, 14×14). */
function withExtraBlocks(blocks: readonly Bneck[], atOutputStrides: readonly number[]): Bneck[] {
  const result: Bneck[] = [];
  let outputStride = 2;
  blocks.forEach((block, i) => {
    outputStride *= block.stride;
    result.push(block);
    const next = blocks[i + 1];
    const stageEnds = next === undefined || next.stride === 2;
    if (stageEnds && atOutputStrides.includes(outputStride)) result.push({ ...block, stride: 1 });
  });
  return result;
}

/**
 * What App. A.1 says of NetAdaptV2's initial networks, and what it leaves open (chosen here so that the paper's own
 * discovered networks, Tables 8 and 9, are sub-networks: core/arch/zoo/paper/table8.json, table9.json).
 *
 * Stated by the paper: start from MobileNetV3-Large; round every width up to a power of 2; add one block at 28×28 and
 * one at 14×14 input (a copy of the stage's last block, stride 1); depthwise kernels +2; one T per input resolution,
 * inversely proportional to it (Table 8: 8 at 112×112 … 128 at 7×7, 1024 for the conv after pooling), T = ∞ for
 * depthwise layers; 9 width levels. The MAC-guided network: all widths ×1.25 (every layer, the last conv included:
 * 2048 → 2560, of which Table 9 keeps 2048), one more block at 7×7, 11 width levels, the same T rule.
 *
 * Left open, and read off the two tables:
 * - SE placement: MobileNetV3-Large's (its blocks 4–6 and 11–15) plus its blocks 2, 7 and 9, where both tables have
 *   an SE layer. MobileNetV3's blocks 1, 3, 8 and 10 keep none: both tables show "-" at the first three, and both
 *   remove the fourth (Table 8 and 9 block 12), so nothing there tells; we keep MobileNetV3's choice.
 * - SE width: a quarter of the widest expansion of its MobileNetV3 stage (the blocks MobileNetV3 gives one output
 *   width: 24, 40, 80, 112, 160). A per-block quarter (MobileNetV3's rule) cannot hold Table 8's SE 256 / Table 9's
 *   320 in the block at 14×14 whose expansion is 512 / 640 (MobileNetV3's block 11); the stage's widest expansion is
 *   1024 / 1280, a quarter of which is exactly the tables' value.
 * - First block: Table 8 shrinks an expansion layer in it (8 filters), so the latency-guided network gives it one of
 *   16 (MobileNetV3 has none: its expansion width equals the input width). Table 9 shows "-" there, so the MAC-guided
 *   network keeps MobileNetV3's form without it.
 * - T of the expansion layers: ∞, like the depthwise layers' (Table 8 prints one T per block, which we give to the
 *   projection). It matters in one place only, Table 8's first block (expansion 8 of 16 input channels): with T = ∞ the
 *   expansion bypasses the other 8 and the network has 224.7M MACs (the paper: 225M); with T = 8 the depthwise and
 *   projection layers would read 8 channels only, 223.1M. An expansion that may drop below its input width would
 *   also make a bottleneck where MobileNetV3 puts none. T of the head conv before pooling: the T of its resolution (128), as Table 8 prints.
 */
const NETADAPTV2_EXTRA_SE = new Set([2, 7, 9]);

/** MobileNetV3-Large reshaped for NetAdaptV2 (widths, kernels +2, SE placement and widths as stated above). */
function netadaptV2Blocks(width: (c: number) => number, seOf: (widestExpansion: number) => number, extraAt: readonly number[]): Bneck[] {
  const widest = new Map<number, number>();
  for (const b of MOBILENET_V3_LARGE) widest.set(b.out, Math.max(widest.get(b.out) ?? 0, width(b.expand)));
  const blocks = MOBILENET_V3_LARGE.map((b, i) => ({
    ...b,
    kernel: b.kernel + 2,
    expand: width(b.expand),
    out: width(b.out),
    se: b.se || NETADAPTV2_EXTRA_SE.has(i + 1),
    seFilters: seOf(widest.get(b.out) as number),
  }));
  return withExtraBlocks(blocks, extraAt);
}

/** The latency-guided initial network of NetAdaptV2 (App. A.1; see the note above). */
export function netadaptV2Latency(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier: m = 1, classes = 1000 } = options;
  const width = (c: number) => scaled(nextPowerOfTwo(c), m);
  return buildV3({
    name: inputSize === 224 && m === 1 ? 'netadaptv2-latency' : `netadaptv2-latency-${m}-${inputSize}`,
    description: `NetAdaptV2 latency-guided initial network (App. A.1) ${m}-${inputSize}`,
    inputSize,
    stem: width(16),
    blocks: netadaptV2Blocks(width, (c) => makeDivisible(c / 4), [8, 16]),
    firstBlockExpands: true,
    expandLimit: 'inf',
    seWidth: (c) => makeDivisible(c / 4),
    head: width(960),
    lastConv: scaled(2048, m),
    classes,
    widthLevels: 9,
    limits: limitsByResolution(m),
    lastConvLimit: Math.round(1024 * m),
  });
}

/** The MAC-guided initial network (App. A.1): the latency-guided one with every width ×1.25 (multiples of 8), one more
 * block at 7×7, 11 width levels, no expansion layer in the first block (see the note above). */
export function netadaptV2Macs(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 224, widthMultiplier: m = 1, classes = 1000 } = options;
  const width = (c: number) => makeDivisible(nextPowerOfTwo(c) * 1.25 * m);
  return buildV3({
    name: inputSize === 224 && m === 1 ? 'netadaptv2-macs' : `netadaptv2-macs-${m}-${inputSize}`,
    description: `NetAdaptV2 MAC-guided initial network (App. A.1) ${m}-${inputSize}`,
    inputSize,
    stem: width(16),
    blocks: netadaptV2Blocks(width, (c) => makeDivisible(c / 4), [8, 16, 32]),
    expandLimit: 'inf',
    seWidth: (c) => makeDivisible(c / 4),
    head: width(960),
    lastConv: makeDivisible(2048 * 1.25 * m),
    classes,
    widthLevels: 11,
    limits: limitsByResolution(m),
    lastConvLimit: Math.round(1024 * m),
  });
}

/** A short MobileNetV3-style network for 32×32 demos: hswish stem, 6 bottlenecks (SE, hswish, residuals), ~1M MACs. */
export const MOBILENET_V3_DEMO: readonly Bneck[] = [
  { kernel: 3, expand: 16, out: 16, se: false, act: RE, stride: 1 },
  { kernel: 3, expand: 48, out: 24, se: false, act: RE, stride: 2 },
  { kernel: 3, expand: 72, out: 24, se: false, act: RE, stride: 1 },
  { kernel: 5, expand: 72, out: 40, se: true, act: HS, stride: 2 },
  { kernel: 5, expand: 120, out: 40, se: true, act: HS, stride: 1 },
];

/** The demo network: small enough to train for a few minutes on 2 CPU cores (~1.3M MACs, 90k parameters). */
export function mobilenetV3Demo(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 32 } = options;
  // No channel-level bypass (T = 0): the search shrinks widths but never removes a layer. With the default
  // (T = full width) every layer can drop to zero filters, and ordered dropout then trains mostly on images whose
  // path is a 3-channel bypass chain.
  return demoNetwork(options, `mobilenet-v3-demo-${inputSize}`, `MobileNetV3-style demo network, ${inputSize}×${inputSize}`, () => 0, 0);
}

/**
 * The demo network with channel-level bypass (paper Sec. 2.2, App. B): T per output resolution as in Table 8
 * (8 channels at stride 2 … 32 at stride 8 for this 32×32 net), so whole layers can be removed. Used by the CBC ablation.
 */
export function mobilenetV3DemoCbc(options: ZooOptions = {}): NetworkSpecInput {
  const { inputSize = 32 } = options;
  const description = `MobileNetV3-style demo network with channel-level bypass, ${inputSize}×${inputSize}`;
  return demoNetwork(options, `mobilenet-v3-demo-cbc-${inputSize}`, description, limitsByResolution(1), 32);
}

/**
 * The demo network made deeper the way the paper builds its initial networks (App. A.1: an extra block at the end of
 * a stage, so the search has depth to remove): one extra block at stride 4 and one at stride 8 (7 blocks, ~1.8M MACs).
 * `cbc` gives the bypass limits of {@link mobilenetV3DemoCbc}; without it, as in {@link mobilenetV3Demo}, only depthwise
 * and SE layers can be bypassed. The pair is the CBC ablation's deeper setting (bench/ablation.ts `--cbc-pair deep`).
 */
export function mobilenetV3DemoDeep(options: ZooOptions & { cbc?: boolean } = {}): NetworkSpecInput {
  const { inputSize = 32, cbc = false } = options;
  const name = `mobilenet-v3-demo-deep${cbc ? '-cbc' : ''}-${inputSize}`;
  const description = `MobileNetV3-style demo network with an extra block at strides 4 and 8${cbc ? ', channel-level bypass' : ''}, ${inputSize}×${inputSize}`;
  const blocks = withExtraBlocks(MOBILENET_V3_DEMO, [4, 8]);
  return cbc ? demoNetwork(options, name, description, limitsByResolution(1), 32, blocks) : demoNetwork(options, name, description, () => 0, 0, blocks);
}

function demoNetwork(
  options: ZooOptions,
  name: string,
  description: string,
  limits: (outputStride: number) => BypassLimit,
  lastConvLimit: BypassLimit,
  blocks: readonly Bneck[] = MOBILENET_V3_DEMO,
): NetworkSpecInput {
  const { inputSize = 32, classes = 10 } = options;
  return buildV3({
    name,
    description,
    inputSize,
    stem: 16,
    blocks,
    seWidth: (c) => makeDivisible(c / 4),
    head: 160,
    lastConv: 256,
    classes,
    widthLevels: 5,
    limits,
    lastConvLimit,
  });
}
