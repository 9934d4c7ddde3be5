/**
 * SIMD (f32x4) loops over the tfjs wasm backend's own heap, assembled at load time (assembler.ts) into a module that
 * imports the backend's memory: the hot per-element work of the training step — batch-norm statistics and
 * normalization, their gradient, hard-swish/sigmoid and their gradients, the depthwise filter gradient — which as
 * JavaScript loops ran at several ns per element. Arguments are byte offsets into the heap and element counts;
 * channel counts must be multiples of 4 (callers fall back to JavaScript otherwise).
 */
import { Body, V128, encodeModule, type WasmFunction } from './assembler.ts';

export interface SimdKernels {
  /** acc[k] += Σ_r src[r, k] */
  colsum(src: number, rows: number, c: number, acc: number): void;
  /** acc[k] += Σ_r (src[r, k] − mean[k])² */
  colsumCenteredSquares(src: number, rows: number, c: number, mean: number, acc: number): void;
  /** s[k] += Σ_r dy[r, k];  t[k] += Σ_r dy[r, k]·(y[r, k] − mean[k]) */
  colsumGradient(dy: number, y: number, rows: number, c: number, mean: number, s: number, t: number): void;
  /** dst = (src − mean)·scale + beta */
  normalize(src: number, dst: number, rows: number, c: number, mean: number, scale: number, beta: number): void;
  /** dst = a·dy − b − (y − mean)·d */
  normalizeGradient(dy: number, y: number, dst: number, rows: number, c: number, mean: number, a: number, b: number, d: number): void;
  hardSwish(src: number, dst: number, vectors: number): void;
  hardSwishGradient(x: number, dy: number, dst: number, vectors: number): void;
  hardSigmoid(src: number, dst: number, vectors: number): void;
  hardSigmoidGradient(x: number, dy: number, dst: number, vectors: number): void;
  /** for t < count: acc[k] += x[k]·dy[k], then x += xStep bytes, dy += c floats */
  depthwiseFilterAccumulate(x: number, dy: number, count: number, xStep: number, c: number, acc: number): void;
}

type Addr = (name: string) => void;

/**
 * rows × (c / 4) vectors: `streams` advance 16 bytes per vector (row-major tensors), the others are per-channel
 * vectors addressed base + k. The first stream bounds the loop; rows ≥ 1, c ≥ 4.
 */
function streamKernel(name: string, params: string[], streams: string[], emit: (b: Body, addr: Addr, v: number) => void): WasmFunction {
  const at = (n: string) => {
    const i = params.indexOf(n);
    if (i < 0) throw new Error(`${name}: no parameter ${n}`);
    return i;
  };
  const end = params.length;
  const k = end + 1;
  const cb = end + 2;
  const v = end + 3;
  const b = new Body();
  const addr: Addr = (n) => {
    if (streams.includes(n)) b.get(at(n));
    else b.get(at(n)).get(k).add();
  };
  b.get(at('c')).i32(4).mul().set(cb);
  b.get(at(streams[0] as string)).get(at('rows')).get(cb).mul().add().set(end);
  b.loop((outer) => {
    outer.i32(0).set(k);
    outer.loop((inner) => {
      emit(inner, addr, v);
      for (const s of streams) inner.get(at(s)).i32(16).add().set(at(s));
      inner.get(k).i32(16).add().tee(k).get(cb).ltU().brIf(0);
    });
    outer.get(at(streams[0] as string)).get(end).ltU().brIf(0);
  });
  return { name, params: params.length, locals: [0x7f, 0x7f, 0x7f, V128], body: b };
}

/** Elementwise over `vectors` groups of 4 floats: rows × 4 channels (simdKernels passes c = 4). */
function elementwise(name: string, inputs: string[], emit: (b: Body, addr: Addr, v: number) => void): WasmFunction {
  return streamKernel(name, [...inputs, 'dst', 'rows', 'c'], [...inputs, 'dst'], emit);
}

function functions(): WasmFunction[] {
  const sixth = 1 / 6;
  return [
    streamKernel('colsum', ['src', 'rows', 'c', 'acc'], ['src'], (b, a) => {
      a('acc'); a('acc'); b.load(); a('src'); b.load(); b.fadd().store();
    }),
    streamKernel('colsumCenteredSquares', ['src', 'rows', 'c', 'mean', 'acc'], ['src'], (b, a, v) => {
      a('acc'); a('acc'); b.load(); a('src'); b.load(); a('mean'); b.load(); b.fsub().tee(v).get(v).fmul().fadd().store();
    }),
    streamKernel('colsumGradient', ['dy', 'y', 'rows', 'c', 'mean', 's', 't'], ['dy', 'y'], (b, a) => {
      a('s'); a('s'); b.load(); a('dy'); b.load(); b.fadd().store();
      a('t'); a('t'); b.load(); a('dy'); b.load(); a('y'); b.load(); a('mean'); b.load(); b.fsub().fmul().fadd().store();
    }),
    streamKernel('normalize', ['src', 'dst', 'rows', 'c', 'mean', 'scale', 'beta'], ['src', 'dst'], (b, a) => {
      a('dst'); a('src'); b.load(); a('mean'); b.load(); b.fsub(); a('scale'); b.load(); b.fmul(); a('beta'); b.load(); b.fadd().store();
    }),
    streamKernel('normalizeGradient', ['dy', 'y', 'dst', 'rows', 'c', 'mean', 'a', 'b', 'd'], ['dy', 'y', 'dst'], (b, a) => {
      a('dst'); a('a'); b.load(); a('dy'); b.load(); b.fmul(); a('b'); b.load(); b.fsub();
      a('y'); b.load(); a('mean'); b.load(); b.fsub(); a('d'); b.load(); b.fmul(); b.fsub().store();
    }),
    elementwise('hardSwish', ['src'], (b, a, v) => {
      a('dst'); a('src'); b.load().tee(v).get(v).f32x4(3).fadd().f32x4(0).fmax().f32x4(6).fmin().fmul().f32x4(sixth).fmul().store();
    }),
    elementwise('hardSwishGradient', ['x', 'dy'], (b, a, v) => {
      a('x'); b.load().set(v);
      // (2v + 3)/6 inside (−3, 3), 0 at or below −3, 1 at or above 3; times dy.
      a('dst'); a('dy'); b.load();
      b.f32x4(1);
      b.get(v).f32x4(1 / 3).fmul().f32x4(0.5).fadd().f32x4(0).get(v).f32x4(-3).fgt().bitselect();
      b.get(v).f32x4(3).fge().bitselect();
      b.fmul().store();
    }),
    elementwise('hardSigmoid', ['src'], (b, a) => {
      a('dst'); a('src'); b.load().f32x4(3).fadd().f32x4(0).fmax().f32x4(6).fmin().f32x4(sixth).fmul().store();
    }),
    elementwise('hardSigmoidGradient', ['x', 'dy'], (b, a, v) => {
      a('x'); b.load().set(v);
      a('dst'); a('dy'); b.load().f32x4(sixth).fmul().f32x4(0);
      b.get(v).f32x4(-3).fgt().get(v).f32x4(3).flt().and().bitselect().store();
    }),
    depthwiseFilterAccumulate(),
  ];
}

function depthwiseFilterAccumulate(): WasmFunction {
  const [x, dy, count, xStep, c, acc] = [0, 1, 2, 3, 4, 5];
  const k = 6;
  const cb = 7;
  const b = new Body();
  b.get(c).i32(4).mul().set(cb);
  b.loop((outer) => {
    outer.i32(0).set(k);
    outer.loop((inner) => {
      inner.get(acc).get(k).add();
      inner.get(acc).get(k).add().load();
      inner.get(x).get(k).add().load();
      inner.get(dy).get(k).add().load();
      inner.fmul().fadd().store();
      inner.get(k).i32(16).add().tee(k).get(cb).ltU().brIf(0);
    });
    outer.get(x).get(xStep).add().set(x);
    outer.get(dy).get(cb).add().set(dy);
    outer.get(count).i32(1).sub().tee(count).brIf(0);
  });
  return { name: 'depthwiseFilterAccumulate', params: 6, locals: [0x7f, 0x7f], body: b };
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/** The kernels bound to `memory` (the wasm backend's heap), or undefined where wasm SIMD is unavailable. */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels | undefined {
  const cached = instances.get(memory);
  if (cached) return cached;
  try {
    compiled ??= new WebAssembly.Module(encodeModule(functions()) as Uint8Array<ArrayBuffer>);
  } catch {
    return undefined;
  }
  const e = new WebAssembly.Instance(compiled, { env: { memory } }).exports as Record<string, (...args: number[]) => void>;
  const fn = (n: string) => e[n] as (...args: number[]) => void;
  const four = (n: string) => {
    const f = fn(n);
    return (...args: number[]) => f(...args, 4);
  };
  const kernels: SimdKernels = {
    colsum: fn('colsum'),
    colsumCenteredSquares: fn('colsumCenteredSquares'),
    colsumGradient: fn('colsumGradient'),
    normalize: fn('normalize'),
    normalizeGradient: fn('normalizeGradient'),
    hardSwish: four('hardSwish'),
    hardSwishGradient: four('hardSwishGradient'),
    hardSigmoid: four('hardSigmoid'),
    hardSigmoidGradient: four('hardSigmoidGradient'),
    depthwiseFilterAccumulate: fn('depthwiseFilterAccumulate'),
  };
  instances.set(memory, kernels);
  return kernels;
}
