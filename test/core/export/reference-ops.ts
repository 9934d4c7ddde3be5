/**
 * Straightforward reference implementations of the TFLite float ops we export (NHWC, loops over Float32Array,
 * accumulating in float64). Written from the operators' definitions, independently of the builder, so a
 * disagreement with the runtime points at the writer.
 */
export type Shape = readonly number[];
export type Act = 'none' | 'relu' | 'relu6';

export interface Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;
}

export function size(shape: Shape): number {
  return shape.reduce((p, d) => p * d, 1);
}

function activate(v: number, act: Act): number {
  if (act === 'relu') return Math.max(0, v);
  if (act === 'relu6') return Math.min(6, Math.max(0, v));
  return v;
}

/** TFLite SAME: ceil(in / stride) outputs; the odd padding element goes after. */
function padBefore(inSize: number, k: number, stride: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [Math.floor((inSize - k) / stride) + 1, 0];
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  return [out, Math.floor(total / 2)];
}

export interface WindowParams {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: 'same' | 'valid';
}

export function conv2d(x: Tensor, w: Float32Array, bias: Float32Array, outC: number, p: WindowParams, act: Act): Tensor {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw] = p.kernel;
  const [oh, padT] = padBefore(h, kh, p.stride[0], p.padding);
  const [ow, padL] = padBefore(wd, kw, p.stride[1], p.padding);
  const out = new Float32Array(n * oh * ow * outC);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < outC; o++) {
          let acc = bias[o] ?? 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * p.stride[0] - padT + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * p.stride[1] - padL + kx;
              if (ix < 0 || ix >= wd) continue;
              for (let i = 0; i < c; i++) {
                acc += (x.data[((b * h + iy) * wd + ix) * c + i] ?? 0) * (w[((o * kh + ky) * kw + kx) * c + i] ?? 0);
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * outC + o] = activate(acc, act);
        }
  return { data: out, shape: [n, oh, ow, outC] };
}

export function depthwiseConv2d(x: Tensor, w: Float32Array, bias: Float32Array, p: WindowParams, act: Act): Tensor {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw] = p.kernel;
  const [oh, padT] = padBefore(h, kh, p.stride[0], p.padding);
  const [ow, padL] = padBefore(wd, kw, p.stride[1], p.padding);
  const out = new Float32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = bias[ch] ?? 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * p.stride[0] - padT + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * p.stride[1] - padL + kx;
              if (ix < 0 || ix >= wd) continue;
              acc += (x.data[((b * h + iy) * wd + ix) * c + ch] ?? 0) * (w[(ky * kw + kx) * c + ch] ?? 0);
            }
          }
          out[((b * oh + oy) * ow + ox) * c + ch] = activate(acc, act);
        }
  return { data: out, shape: [n, oh, ow, c] };
}

/** TFLite average pooling divides by the number of in-bounds elements (padding is not counted). */
export function pool2d(x: Tensor, p: WindowParams, kind: 'avg' | 'max', act: Act): Tensor {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw] = p.kernel;
  const [oh, padT] = padBefore(h, kh, p.stride[0], p.padding);
  const [ow, padL] = padBefore(wd, kw, p.stride[1], p.padding);
  const out = new Float32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === 'avg' ? 0 : -Infinity;
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * p.stride[0] - padT + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * p.stride[1] - padL + kx;
              if (ix < 0 || ix >= wd) continue;
              const v = x.data[((b * h + iy) * wd + ix) * c + ch] ?? 0;
              acc = kind === 'avg' ? acc + v : Math.max(acc, v);
              count++;
            }
          }
          out[((b * oh + oy) * ow + ox) * c + ch] = activate(kind === 'avg' ? acc / count : acc, act);
        }
  return { data: out, shape: [n, oh, ow, c] };
}

/** Weights [out, in]; the input is flattened to [numel / in, in]. */
export function fullyConnected(x: Tensor, w: Float32Array, bias: Float32Array, outUnits: number, act: Act): Tensor {
  const inUnits = x.shape[x.shape.length - 1] ?? 1;
  const rows = size(x.shape) / inUnits;
  const out = new Float32Array(rows * outUnits);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outUnits; o++) {
      let acc = bias[o] ?? 0;
      for (let i = 0; i < inUnits; i++) acc += (x.data[r * inUnits + i] ?? 0) * (w[o * inUnits + i] ?? 0);
      out[r * outUnits + o] = activate(acc, act);
    }
  return { data: out, shape: [rows, outUnits] };
}

function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] ?? 1) * (shape[i + 1] ?? 1);
  return s;
}

function unravel(index: number, shape: Shape): number[] {
  const coords: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] ?? 1;
    coords[i] = index % d;
    index = Math.floor(index / d);
  }
  return coords;
}

export function broadcastBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number, act: Act): Tensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: Shape): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const as = pad(a.shape);
  const bs = pad(b.shape);
  const shape = as.map((d, i) => Math.max(d, bs[i] ?? 1));
  const sa = strides(as);
  const sb = strides(bs);
  const out = new Float32Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const c = unravel(i, shape);
    let ia = 0;
    let ib = 0;
    c.forEach((v, k) => {
      ia += ((as[k] ?? 1) === 1 ? 0 : v) * (sa[k] ?? 0);
      ib += ((bs[k] ?? 1) === 1 ? 0 : v) * (sb[k] ?? 0);
    });
    out[i] = activate(f(a.data[ia] ?? 0, b.data[ib] ?? 0), act);
  }
  return { data: out, shape };
}

export function map(x: Tensor, f: (v: number) => number): Tensor {
  return { data: Float32Array.from(x.data, f), shape: x.shape };
}

export const hardSwish = (v: number): number => (v * Math.min(6, Math.max(0, v + 3))) / 6;
export const logistic = (v: number): number => 1 / (1 + Math.exp(-v));

export function mean(x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const reduced = new Set(axes);
  const keptShape = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const sums = new Float64Array(size(keptShape));
  const ks = strides(keptShape);
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape);
    let o = 0;
    c.forEach((v, k) => (o += (reduced.has(k) ? 0 : v) * (ks[k] ?? 0)));
    sums[o] = (sums[o] ?? 0) + (x.data[i] ?? 0);
  }
  const count = x.shape.reduce((p, d, i) => (reduced.has(i) ? p * d : p), 1);
  const shape = keepDims ? keptShape : x.shape.filter((_d, i) => !reduced.has(i));
  return { data: Float32Array.from(sums, (s) => s / count), shape };
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0] as Tensor;
  const outer = first.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = first.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const along = xs.reduce((s, x) => s + (x.shape[axis] ?? 0), 0);
  const out = new Float32Array(outer * along * inner);
  let offset = 0;
  for (const x of xs) {
    const n = (x.shape[axis] ?? 0) * inner;
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * n, (o + 1) * n), o * along * inner + offset);
    offset += n;
  }
  return { data: out, shape: first.shape.map((d, i) => (i === axis ? along : d)) };
}

/** General strided gather: output coordinate c reads input begin + c * step. */
export function stridedGather(x: Tensor, begin: readonly number[], step: readonly number[], outShape: Shape): Tensor {
  const xs = strides(x.shape);
  const out = new Float32Array(size(outShape));
  for (let i = 0; i < out.length; i++) {
    const c = unravel(i, outShape);
    let src = 0;
    c.forEach((v, k) => (src += ((begin[k] ?? 0) + v * (step[k] ?? 1)) * (xs[k] ?? 0)));
    out[i] = x.data[src] ?? 0;
  }
  return { data: out, shape: outShape };
}

export function pad(x: Tensor, paddings: readonly (readonly [number, number])[]): Tensor {
  const shape = x.shape.map((d, i) => d + (paddings[i]?.[0] ?? 0) + (paddings[i]?.[1] ?? 0));
  const os = strides(shape);
  const out = new Float32Array(size(shape));
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape);
    let dst = 0;
    c.forEach((v, k) => (dst += (v + (paddings[k]?.[0] ?? 0)) * (os[k] ?? 0)));
    out[dst] = x.data[i] ?? 0;
  }
  return { data: out, shape };
}

/** align_corners = half_pixel_centers = false: source = min(floor(dst * in / out), in - 1). */
export function resizeNearest(x: Tensor, outH: number, outW: number): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const out = new Float32Array(n * outH * outW * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < outH; y++)
      for (let xo = 0; xo < outW; xo++) {
        const sy = Math.min(Math.floor((y * h) / outH), h - 1);
        const sx = Math.min(Math.floor((xo * w) / outW), w - 1);
        for (let ch = 0; ch < c; ch++) {
          out[((b * outH + y) * outW + xo) * c + ch] = x.data[((b * h + sy) * w + sx) * c + ch] ?? 0;
        }
      }
  return { data: out, shape: [n, outH, outW, c] };
}

/** Softmax over the last axis with temperature beta. */
export function softmax(x: Tensor, beta: number): Tensor {
  const last = x.shape[x.shape.length - 1] ?? 1;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.data.length / last; r++) {
    const row = x.data.subarray(r * last, (r + 1) * last);
    const max = Math.max(...row);
    let sum = 0;
    for (let i = 0; i < last; i++) sum += Math.exp(beta * ((row[i] ?? 0) - max));
    for (let i = 0; i < last; i++) out[r * last + i] = Math.exp(beta * ((row[i] ?? 0) - max)) / sum;
  }
  return { data: out, shape: x.shape };
}
