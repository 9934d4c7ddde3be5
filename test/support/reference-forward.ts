/**
 * A deliberately naive reference forward pass (plain loops over NHWC Float32Arrays, batch 1) of
 * docs/forward-semantics.md, with folded weights. Used to check the TFLite exporter and the tfjs slim network
 * against an independent implementation.
 */
import type { ResolvedLayer } from '../../core/arch/layers.ts';
import type { ResolvedNetwork } from '../../core/arch/resolve.ts';
import type { ConvWeights, FoldedWeights, SqueezeExciteWeights } from '../../core/weights/folded.ts';

export interface Tensor3 {
  h: number;
  w: number;
  c: number;
  data: Float32Array;
}

const relu6 = (v: number) => Math.min(Math.max(v, 0), 6);

function activate(v: number, act: ResolvedLayer['act']): number {
  switch (act) {
    case 'relu':
      return Math.max(v, 0);
    case 'relu6':
      return relu6(v);
    case 'hswish':
      return (v * relu6(v + 3)) / 6;
    case 'none':
      return v;
  }
}

/** TF SAME padding: total = max((out-1)*s + k - in, 0), the smaller half before. */
function padBefore(inSize: number, k: number, s: number): number {
  const out = Math.ceil(inSize / s);
  return Math.floor(Math.max((out - 1) * s + k - inSize, 0) / 2);
}

function filtersPart(layer: ResolvedLayer, x: Tensor3, weights: FoldedWeights): Tensor3 {
  const { kernel: k, stride: s, filters: m } = layer;
  const oh = Math.ceil(x.h / s);
  const ow = Math.ceil(x.w / s);
  const ph = padBefore(x.h, k, s);
  const pw = padBefore(x.w, k, s);
  const out = new Float32Array(oh * ow * m);
  const wts = weights.get(layer.id) as ConvWeights;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < m; o++) {
        let acc = wts.bias[o] as number;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * s + ky - ph;
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * s + kx - pw;
            if (ix < 0 || ix >= x.w) continue;
            const base = (iy * x.w + ix) * x.c;
            if (layer.op === 'dwconv') {
              acc += (x.data[base + o] as number) * (wts.kernel[(ky * k + kx) * m + o] as number);
            } else {
              for (let i = 0; i < x.c; i++) {
                acc += (x.data[base + i] as number) * (wts.kernel[((ky * k + kx) * x.c + i) * m + o] as number);
              }
            }
          }
        }
        out[(oy * ow + ox) * m + o] = activate(acc, layer.act);
      }
    }
  }
  return { h: oh, w: ow, c: m, data: out };
}

function layerForward(layer: ResolvedLayer, x: Tensor3, block: Tensor3, weights: FoldedWeights): Tensor3 {
  if (layer.identity) return layer.residual ? block : x;
  const { height: oh, width: ow, channels: z } = layer.output;
  const out = new Float32Array(oh * ow * z);
  switch (layer.op) {
    case 'conv':
    case 'dwconv': {
      const m = layer.filters;
      const f = m > 0 ? filtersPart(layer, x, weights) : undefined;
      const s = layer.stride;
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          for (let i = 0; i < z; i++) {
            let v = 0;
            if (f && i < m) v += f.data[(y * ow + xx) * m + i] as number;
            if (layer.residual) {
              if (i < layer.bypassChannels) v += block.data[(y * block.w + xx) * block.c + i] as number;
            } else if (i >= m && i < m + layer.bypassChannels) {
              v += x.data[(y * s * x.w + xx * s) * x.c + i] as number;
            }
            out[(y * ow + xx) * z + i] = v;
          }
        }
      }
      break;
    }
    case 'se': {
      const w = weights.get(layer.id) as SqueezeExciteWeights;
      const c = x.c;
      const m = layer.filters;
      const mean = new Float64Array(c);
      for (let p = 0; p < x.h * x.w; p++) for (let i = 0; i < c; i++) mean[i] = (mean[i] as number) + (x.data[p * c + i] as number);
      for (let i = 0; i < c; i++) mean[i] = (mean[i] as number) / (x.h * x.w);
      const hidden = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        let acc = w.reduceBias[j] as number;
        for (let i = 0; i < c; i++) acc += (mean[i] as number) * (w.reduce[i * m + j] as number);
        hidden[j] = Math.max(acc, 0);
      }
      const gate = new Float64Array(c);
      for (let i = 0; i < c; i++) {
        let acc = w.expandBias[i] as number;
        for (let j = 0; j < m; j++) acc += (hidden[j] as number) * (w.expand[j * c + i] as number);
        gate[i] = relu6(acc + 3) / 6;
      }
      for (let p = 0; p < x.h * x.w; p++) for (let i = 0; i < c; i++) out[p * c + i] = (x.data[p * c + i] as number) * (gate[i] as number);
      break;
    }
    case 'gap':
      for (let p = 0; p < x.h * x.w; p++) for (let i = 0; i < x.c; i++) out[i] = (out[i] as number) + (x.data[p * x.c + i] as number) / (x.h * x.w);
      break;
    case 'upsample': {
      const sc = layer.scale;
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          for (let i = 0; i < z; i++) out[(y * ow + xx) * z + i] = x.data[(Math.floor(y / sc) * x.w + Math.floor(xx / sc)) * x.c + i] as number;
        }
      }
      break;
    }
    case 'fc': {
      const w = weights.get(layer.id) as ConvWeights;
      for (let o = 0; o < z; o++) {
        let acc = w.bias[o] as number;
        for (let i = 0; i < x.c; i++) acc += (x.data[i] as number) * (w.kernel[i * z + o] as number);
        out[o] = activate(acc, layer.act);
      }
      break;
    }
  }
  return { h: oh, w: ow, c: z, data: out };
}

/** Runs the network on one image (H×W×C, row-major NHWC without the batch dimension); returns the last layer's output. */
export function referenceForward(network: ResolvedNetwork, weights: FoldedWeights, image: Float32Array): Float32Array {
  const { input } = network.spec;
  let x: Tensor3 = { h: input.height, w: input.width, c: input.channels, data: image };
  let block = x;
  let unit = -1;
  for (const layer of network.layers) {
    if (layer.unitIndex !== unit) {
      unit = layer.unitIndex;
      block = x;
    }
    x = layerForward(layer, x, block, weights);
  }
  return x.data;
}

/** Runs one layer alone (for single-layer models). */
export function referenceLayer(layer: ResolvedLayer, weights: FoldedWeights, x: Tensor3, block?: Tensor3): Float32Array {
  return layerForward(layer, x, block ?? x, weights).data;
}
