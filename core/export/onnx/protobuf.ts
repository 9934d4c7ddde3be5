/**
 * Protocol Buffers wire-format encoding (the subset ONNX needs): varints, length-delimited fields (strings, bytes,
 * nested messages, packed numbers) and fixed 32-bit floats. Fields are written in the order they are added.
 */
const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(64);
  private used = 0;
  private total = 0;

  get length(): number {
    return this.total + this.used;
  }

  /** An unsigned or (two's complement, 10-byte) negative integer as a varint. */
  varint(value: number | bigint): this {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new RangeError(`varint ${value} is not a safe integer`);
      if (value >= 0) {
        let v = value;
        while (v >= 0x80) {
          this.byte((v % 0x80) | 0x80);
          v = Math.floor(v / 0x80);
        }
        this.byte(v);
        return this;
      }
    }
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.byte(byte);
    } while (v !== 0n);
    return this;
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.raw(b);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED).varint(data.length);
    return this.raw(data);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[] | Float32Array): this {
    if (values.length === 0) return this;
    const data = Float32Array.from(values);
    return this.bytes(field, littleEndianBytes(data));
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.total);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }

  private tag(field: number, wire: number): this {
    if (!Number.isInteger(field) || field < 1) throw new RangeError(`invalid protobuf field number ${field}`);
    return this.varint(field * 8 + wire);
  }

  private byte(b: number): void {
    if (this.used === this.scratch.length) this.flush();
    this.scratch[this.used++] = b;
  }

  private raw(data: Uint8Array): this {
    this.flush();
    this.chunks.push(data);
    this.total += data.length;
    return this;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.slice(0, this.used));
    this.total += this.used;
    this.used = 0;
  }
}

/** The bytes of a typed array in little-endian order (the wire order of ONNX raw_data and packed floats). */
export function littleEndianBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return bytes.slice();
  const out = new Uint8Array(bytes.length);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j] as number;
  return out;
}
