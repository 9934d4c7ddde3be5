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

export const SIGNATURE_VERSION = 'v2';

/**
 * A stored signature in the current version when the model it measured is the model the current version names: a v1
 * signature of anything but a residual projection (res=1) becomes v2 (the same fields); a v1 residual projection, or
 * a signature of an unknown version, is returned unchanged, so it is never looked up again and gets measured anew.
 */
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
