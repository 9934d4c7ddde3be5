/**
 * A minimal WebAssembly binary writer: one module importing a memory ("env"."memory"), exporting functions whose
 * parameters are i32 (byte offsets and counts), with i32 / v128 locals. Enough for the SIMD loops of kernels.ts;
 * opcodes from the WebAssembly core and SIMD specifications.
 */
export const I32 = 0x7f;
export const V128 = 0x7b;
type ValType = typeof I32 | typeof V128;

/** Instruction bytes; helpers below append to a function body. */
export class Body {
  readonly bytes: number[] = [];
  private push(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  get(i: number): this { return this.push(0x20, ...uleb(i)); }
  set(i: number): this { return this.push(0x21, ...uleb(i)); }
  tee(i: number): this { return this.push(0x22, ...uleb(i)); }
  i32(v: number): this { return this.push(0x41, ...sleb(v)); }
  add(): this { return this.push(0x6a); }
  sub(): this { return this.push(0x6b); }
  mul(): this { return this.push(0x6c); }
  ltU(): this { return this.push(0x49); }
  /** block … end / loop … end (no result). */
  block(inner: (b: this) => void): this { this.push(0x02, 0x40); inner(this); return this.push(0x0b); }
  loop(inner: (b: this) => void): this { this.push(0x03, 0x40); inner(this); return this.push(0x0b); }
  br(depth: number): this { return this.push(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.push(0x0d, ...uleb(depth)); }
  // SIMD (prefix 0xfd).
  private simd(op: number, ...imm: number[]): this { return this.push(0xfd, ...uleb(op), ...imm); }
  load(offset = 0): this { return this.simd(0x00, 0, ...uleb(offset)); }
  store(offset = 0): this { return this.simd(0x0b, 0, ...uleb(offset)); }
  /** v128.const of four equal f32 lanes. */
  f32x4(value: number): this {
    const lane = new Uint8Array(new Float32Array([value]).buffer);
    return this.simd(0x0c, ...lane, ...lane, ...lane, ...lane);
  }
  fadd(): this { return this.simd(0xe4); }
  fsub(): this { return this.simd(0xe5); }
  fmul(): this { return this.simd(0xe6); }
  fmin(): this { return this.simd(0xe8); }
  fmax(): this { return this.simd(0xe9); }
  flt(): this { return this.simd(0x43); }
  fgt(): this { return this.simd(0x44); }
  fge(): this { return this.simd(0x46); }
  and(): this { return this.simd(0x4e); }
  /** v128.bitselect(a, b, mask) = (a & mask) | (b & ~mask). */
  bitselect(): this { return this.simd(0x52); }
}

export interface WasmFunction {
  name: string;
  params: number;
  locals: ValType[];
  body: Body;
}

export function encodeModule(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), 0x00]);
  const importMemory = [...vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])];
  const code = functions.map((f) => {
    const locals = vec(f.locals.map((t) => [0x01, t]));
    const body = [...locals, ...f.body.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, importMemory),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(code)),
  ]);
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}
