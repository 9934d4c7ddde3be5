import { ByteBuffer } from 'flatbuffers';
import { FileFormatError } from '../../errors.ts';

/**
 * Bounds-checked flatbuffer access. The flatbuffers runtime reads whatever offset it is given (out-of-range reads
 * quietly return 0 or garbage), so every position is checked here before it is read, and any violation becomes a
 * FileFormatError naming the structure being read. Reading is also given a work budget proportional to the file
 * size, so a small crafted file whose tables all point at the same huge vector cannot make parsing take forever.
 */
export class CheckedFlatbuffer {
  readonly size: number;
  private readonly bb: ByteBuffer;
  private readonly bytes: Uint8Array;
  private budget: number;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(bytes: Uint8Array, private readonly fileLabel: string) {
    this.bytes = bytes;
    this.size = bytes.length;
    this.bb = new ByteBuffer(bytes);
    // A real model visits well under one item per 4 bytes (every table or vector element takes at least 4).
    this.budget = bytes.length + 10_000;
  }

  fail(message: string): never {
    throw new FileFormatError(`${this.fileLabel} is not a valid TFLite model: ${message}`);
  }

  /** Spend `items` units of the parse budget (one per table, vector element or field read in a loop). */
  charge(items: number): void {
    this.budget -= items;
    if (this.budget < 0) this.fail('its tables reference each other far more often than a model of this size can');
  }

  need(pos: number, length: number, what: Describe): void {
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(length) || pos < 0 || length < 0 || pos + length > this.size) {
      this.fail(
        `${describe(what)} (bytes ${pos}..${pos + length}) lies outside the file (${this.size} bytes); ` +
          'it is truncated or corrupt',
      );
    }
  }

  /** Unchecked reads, for positions already proven in bounds (fields inside a checked table). */
  get raw(): ByteBuffer {
    return this.bb;
  }

  u8(pos: number, what: Describe): number {
    this.need(pos, 1, what);
    return this.bb.readUint8(pos);
  }

  i8(pos: number, what: Describe): number {
    this.need(pos, 1, what);
    return this.bb.readInt8(pos);
  }

  u16(pos: number, what: Describe): number {
    this.need(pos, 2, what);
    return this.bb.readUint16(pos);
  }

  i32(pos: number, what: Describe): number {
    this.need(pos, 4, what);
    return this.bb.readInt32(pos);
  }

  u32(pos: number, what: Describe): number {
    this.need(pos, 4, what);
    return this.bb.readUint32(pos);
  }

  f32(pos: number, what: Describe): number {
    this.need(pos, 4, what);
    return this.bb.readFloat32(pos);
  }

  u64(pos: number, what: Describe): bigint {
    this.need(pos, 8, what);
    return this.bb.readUint64(pos);
  }

  /** Follows a uoffset stored at `pos` (relative to `pos`). */
  deref(pos: number, what: Describe): number {
    const target = pos + this.u32(pos, what);
    this.need(target, 4, what);
    return target;
  }

  utf8(start: number, length: number, what: Describe): string {
    this.need(start, length, what);
    return this.decoder.decode(this.bytes.subarray(start, start + length));
  }

  /** The table whose start (its soffset to the vtable) is at `pos`. */
  table(pos: number, label: Label): CheckedTable {
    this.charge(1);
    if (pos < 0 || pos + 4 > this.size) this.need(pos, 4, labelText(label));
    const vtable = pos - this.bb.readInt32(pos);
    if (vtable < 0 || vtable + 4 > this.size) this.need(vtable, 4, `${labelText(label)} vtable`);
    const vtableSize = this.bb.readUint16(vtable);
    const objectSize = this.bb.readUint16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) {
      this.fail(`${labelText(label)} has a malformed vtable (size ${vtableSize})`);
    }
    if (vtable + vtableSize > this.size) this.need(vtable, vtableSize, `${labelText(label)} vtable`);
    if (objectSize < 4) this.fail(`${labelText(label)} has a malformed vtable (object size ${objectSize})`);
    if (pos + objectSize > this.size) this.need(pos, objectSize, labelText(label));
    return new CheckedTable(this, pos, vtable, vtableSize, objectSize, label);
  }
}

/** Names what is being read, for error messages; element labels are only formatted when an error needs them. */
export type Label = string | { readonly base: string; readonly index: number };

function labelText(label: Label): string {
  return typeof label === 'string' ? label : `${label.base}[${label.index}]`;
}

/** A description, or a function producing one (so hot paths do not format strings that are rarely shown). */
export type Describe = string | (() => string);

function describe(what: Describe): string {
  return typeof what === 'string' ? what : what();
}

export interface VectorRef {
  /** Position of element 0. */
  readonly start: number;
  readonly length: number;
}

export class CheckedTable {
  constructor(
    private readonly buf: CheckedFlatbuffer,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly objectSize: number,
    private readonly label: Label,
  ) {}

  get what(): string {
    return labelText(this.label);
  }

  /** Position of field `slot` if present, checked to lie inside this table's (bounds-checked) inline data. */
  private field(slot: number, width: number, name: string): number | null {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableSize) return null;
    const offset = this.buf.raw.readUint16(this.vtable + entry);
    if (offset === 0) return null;
    if (offset < 4 || offset + width > this.objectSize) {
      this.buf.fail(`${this.what}.${name} points outside its table`);
    }
    return this.pos + offset;
  }

  private fieldName(name: string): () => string {
    return () => `${this.what}.${name}`;
  }

  has(slot: number): boolean {
    return this.field(slot, 1, `field ${slot}`) !== null;
  }

  i8(slot: number, name: string, defaultValue = 0): number {
    const p = this.field(slot, 1, name);
    return p === null ? defaultValue : this.buf.raw.readInt8(p);
  }

  u8(slot: number, name: string, defaultValue = 0): number {
    const p = this.field(slot, 1, name);
    return p === null ? defaultValue : this.buf.raw.readUint8(p);
  }

  bool(slot: number, name: string, defaultValue = false): boolean {
    const p = this.field(slot, 1, name);
    return p === null ? defaultValue : this.buf.raw.readUint8(p) !== 0;
  }

  i32(slot: number, name: string, defaultValue = 0): number {
    const p = this.field(slot, 4, name);
    return p === null ? defaultValue : this.buf.raw.readInt32(p);
  }

  u32(slot: number, name: string, defaultValue = 0): number {
    const p = this.field(slot, 4, name);
    return p === null ? defaultValue : this.buf.raw.readUint32(p);
  }

  f32(slot: number, name: string, defaultValue = 0): number {
    const p = this.field(slot, 4, name);
    return p === null ? defaultValue : this.buf.raw.readFloat32(p);
  }

  u64(slot: number, name: string): bigint {
    const p = this.field(slot, 8, name);
    return p === null ? 0n : this.buf.raw.readUint64(p);
  }

  table(slot: number, name: string): CheckedTable | null {
    const p = this.field(slot, 4, name);
    if (p === null) return null;
    return this.buf.table(this.buf.deref(p, this.fieldName(name)), `${this.what}.${name}`);
  }

  string(slot: number, name: string): string | null {
    const v = this.vector(slot, 1, name);
    return v === null ? null : this.buf.utf8(v.start, v.length, this.fieldName(name));
  }

  /** A vector of `elementSize`-byte elements, bounds-checked as a whole. */
  vector(slot: number, elementSize: number, name: string): VectorRef | null {
    const p = this.field(slot, 4, name);
    if (p === null) return null;
    const what = this.fieldName(name);
    const lengthPos = this.buf.deref(p, what);
    const length = this.buf.u32(lengthPos, what);
    this.buf.need(lengthPos + 4, length * elementSize, what);
    return { start: lengthPos + 4, length };
  }

  int32Vector(slot: number, name: string): number[] | null {
    const v = this.vector(slot, 4, name);
    if (v === null) return null;
    this.buf.charge(v.length);
    const out: number[] = [];
    // The whole vector was bounds-checked by vector().
    for (let i = 0; i < v.length; i++) out.push(this.buf.raw.readInt32(v.start + 4 * i));
    return out;
  }

  float32Vector(slot: number, name: string): number[] | null {
    const v = this.vector(slot, 4, name);
    if (v === null) return null;
    this.buf.charge(v.length);
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(this.buf.raw.readFloat32(v.start + 4 * i));
    return out;
  }

  /** A vector of int64 (zero points), as numbers (values beyond 2^53 lose precision; any valid one is tiny). */
  int64Vector(slot: number, name: string): number[] | null {
    const v = this.vector(slot, 8, name);
    if (v === null) return null;
    this.buf.charge(v.length);
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(Number(this.buf.raw.readInt64(v.start + 8 * i)));
    return out;
  }

  tableVector(slot: number, name: string): CheckedTable[] | null {
    const v = this.vector(slot, 4, name);
    if (v === null) return null;
    this.buf.charge(v.length);
    const out: CheckedTable[] = [];
    const base = `${this.what}.${name}`;
    for (let i = 0; i < v.length; i++) {
      const elementPos = v.start + 4 * i;
      // The element slots were bounds-checked with the vector; table() checks the target.
      out.push(this.buf.table(elementPos + this.buf.raw.readUint32(elementPos), { base, index: i }));
    }
    return out;
  }
}
