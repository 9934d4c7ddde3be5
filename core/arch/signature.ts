/**
 * LayerSignature: one canonical string per layer configuration, capturing everything that changes the layer's
 * on-device latency. It keys the latency lookup tables, so its format is versioned and must stay stable:
 *
 *   v2;op=<conv|dwconv|se|gap|upsample|fc>;in=<H>x<W>x<C>;f=<M>;out=<Z>;k=<kernel>;s=<stride>;act=<act>;bn=<0|1>;byp=<n>;res=<0|1>[;up=<scale>]
 *
 * - in: the layer's input (after the previous layer's CBC); f: filters that run (M; SE: reduce width; fc: units);
 * - out: output channels after bypass (Z); byp: bypassed channels (residual projection: block-input channels added);
 * - res=1: the layer ends a residual block (its add is part of the entry);
 * - bn is informational (BN is folded at export, so it does not change latency but distinguishes conv bias use).
 * Layers that do no work in a sub-network (`identity`) have no signature and cost nothing.
 * A change to this format must bump the version prefix: old tables then simply miss entries, never mismatch.
 *
 * Versions: v1 → v2 (issue 17) changed what a residual projection computes (the residual carries every block-input
 * channel: out = max(Cb, f), byp = Cb; before, out = max(min(Cb, T), f) and byp = min(Cb, out) with a slice of the
 * block input that the signature did not show). Every other layer's model is the same under both versions.
 */
import type { ResolvedLayer } from './layers.ts';
import { sameOutputSize } from './cbc.ts';
import { layerCost } from './cost.ts';
import { ACTIVATIONS } from './spec.ts';

export const SIGNATURE_VERSION = 'v2';

/**
 * A stored signature in the current version when the model it measured is the model the current version names: a v1
 * signature of anything but a residual projection (res=1) becomes v2 (the same fields); a v1 residual projection, or
 * a signature of an unknown version, is returned unchanged, so it is never looked up again and gets measured anew.
 */
/** A signature of an older version that upgradeSignature could not carry over (its layer changed meaning). */
export function isObsoleteSignature(signature: string): boolean {
  const version = /^v(\d+);/.exec(signature);
  return version !== null && `v${version[1]}` !== SIGNATURE_VERSION && Number(version[1]) < Number(SIGNATURE_VERSION.slice(1));
}

export function upgradeSignature(signature: string): string {
  if (!signature.startsWith('v1;')) return signature;
  if (parseSignature(signature).res === '1') return signature;
  return `${SIGNATURE_VERSION};${signature.slice('v1;'.length)}`;
}

export function layerSignature(layer: ResolvedLayer): string | null {
  if (layer.identity) return null;
  const { input: i, output: o } = layer;
  let text =
    `${SIGNATURE_VERSION};op=${layer.op};in=${i.height}x${i.width}x${i.channels};f=${layer.filters};out=${o.channels}` +
    `;k=${layer.kernel};s=${layer.stride};act=${layer.act};bn=${layer.bn ? 1 : 0};byp=${layer.bypassChannels};res=${layer.residual ? 1 : 0}`;
  if (layer.op === 'upsample') text += `;up=${layer.scale}`;
  return text;
}

/**
 * The signature of the "null model" for an input shape (input -> reshape -> output): the fixed cost of invoking a
 * model and copying its input, which every single-layer measurement carries once. Latency sources subtract it from
 * each layer entry so that a sum of layers does not count the invocation overhead once per layer.
 */
export function invokeOverheadSignature(signature: string): string {
  const input = parseSignature(signature).in ?? '0x0x0';
  return `${SIGNATURE_VERSION};op=null;in=${input}`;
}

/** Signatures of every layer that does work, in network order. */
export function networkSignatures(layers: readonly ResolvedLayer[]): string[] {
  const out: string[] = [];
  for (const layer of layers) {
    const signature = layerSignature(layer);
    if (signature !== null) out.push(signature);
  }
  return out;
}

/** Parses a signature back into its fields (for statistics and display). */
export function parseSignature(signature: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of signature.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

const LAYER_OPS = ['conv', 'dwconv', 'se', 'gap', 'upsample', 'fc'] as const;
const LAYER_FIELDS = ['in', 'f', 'out', 'k', 's', 'act', 'bn', 'byp', 'res'] as const;

/** What a signature says about its layer, enough to count its MACs (see describeSignature). */
export interface SignatureLayer {
  op: (typeof LAYER_OPS)[number] | 'null';
  input: { height: number; width: number; channels: number };
  output: { height: number; width: number; channels: number };
  filters: number;
  kernel: number;
}

/**
 * Checks a signature written elsewhere (an imported table): the version, a known op and every field that op's
 * signatures carry, with sane values. Returns the layer it describes, or the problem as text.
 */
export function describeSignature(signature: string): SignatureLayer | string {
  const [version] = signature.split(';');
  if (version !== SIGNATURE_VERSION) return `it does not start with "${SIGNATURE_VERSION};" (a layer signature of this version)`;
  const fields = parseSignature(signature);
  const parts = signature.split(';').slice(1);
  if (parts.some((part) => part.indexOf('=') <= 0)) return 'it has a part that is not key=value';
  if (new Set(parts.map((p) => p.slice(0, p.indexOf('=')))).size !== parts.length) return 'a field appears twice';
  const input = parseShape(fields.in);
  if (!input) return `its input "in=${fields.in ?? ''}" is not HxWxC`;
  if (fields.op === 'null') {
    if (parts.length !== 2) return 'an invocation-overhead signature has only op and in';
    return { op: 'null', input, output: input, filters: 0, kernel: 1 };
  }
  const op = LAYER_OPS.find((known) => known === fields.op);
  if (!op) return `op "${fields.op ?? ''}" is not one of ${[...LAYER_OPS, 'null'].join(', ')}`;
  const expected = op === 'upsample' ? [...LAYER_FIELDS, 'up'] : LAYER_FIELDS;
  const missing = expected.filter((key) => fields[key] === undefined);
  if (missing.length > 0) return `it lacks ${missing.join(', ')}`;
  const unknown = Object.keys(fields).filter((key) => key !== 'op' && !(expected as readonly string[]).includes(key));
  if (unknown.length > 0) return `unknown field(s) ${unknown.join(', ')}`;
  const counts = { f: 0, out: 1, k: 1, s: 1, byp: 0, ...(op === 'upsample' ? { up: 1 } : {}) };
  for (const [key, min] of Object.entries(counts)) {
    const value = Number(fields[key]);
    if (!/^\d+$/.test(fields[key] ?? '') || value < min || value > 1_000_000) return `${key}=${fields[key]} is not a count ≥ ${min}`;
  }
  if (!(ACTIVATIONS as readonly string[]).includes(fields.act ?? '')) return `act=${fields.act} is not one of ${ACTIVATIONS.join(', ')}`;
  if (!['0', '1'].includes(fields.bn ?? '') || !['0', '1'].includes(fields.res ?? '')) return 'bn and res must be 0 or 1';
  const stride = Number(fields.s);
  const channels = Number(fields.out);
  const scale = Number(fields.up ?? 1);
  const output =
    op === 'gap' || op === 'fc'
      ? { height: 1, width: 1, channels }
      : op === 'upsample'
        ? { height: input.height * scale, width: input.width * scale, channels }
        : { height: sameOutputSize(input.height, stride), width: sameOutputSize(input.width, stride), channels };
  return { op, input, output, filters: Number(fields.f), kernel: Number(fields.k) };
}

/** MACs of the layer a signature describes (core/arch/cost.ts conventions); undefined for a malformed signature. */
export function signatureMacs(signature: string): number | undefined {
  const layer = describeSignature(signature);
  if (typeof layer === 'string') return undefined;
  return layer.op === 'null' ? 0 : layerCost({ ...layer, op: layer.op }).macs;
}

function parseShape(text: string | undefined): SignatureLayer['input'] | undefined {
  const match = /^(\d{1,6})x(\d{1,6})x(\d{1,6})$/.exec(text ?? '');
  if (!match) return undefined;
  const [height, width, channels] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return height > 0 && width > 0 && channels > 0 ? { height, width, channels } : undefined;
}
