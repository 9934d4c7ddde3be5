import { ValidationError } from '../../errors.ts';

/**
 * Output-shape rules of the TFLite builtin operators we write (NHWC, dilation 1), matching the TFLite kernels.
 * Each function throws ValidationError when the operands do not fit, so a caller finds a wiring mistake while
 * building, not when the runtime rejects the file.
 */
export type PaddingMode = 'same' | 'valid';

export interface SpatialPadding {
  readonly outSize: number;
  /** Rows/columns of zeros added before the first element. */
  readonly before: number;
  readonly after: number;
}

/**
 * TFLite's SAME: out = ceil(in / stride), total = max((out - 1) * stride + k - in, 0), the extra odd element goes at
 * the end (before = floor(total / 2)). VALID: out = floor((in - k) / stride) + 1, no padding.
 */
export function spatialPadding(inSize: number, kernel: number, stride: number, padding: PaddingMode): SpatialPadding {
  if (padding === 'same') {
    const outSize = Math.ceil(inSize / stride);
    const total = Math.max((outSize - 1) * stride + kernel - inSize, 0);
    const before = Math.floor(total / 2);
    return { outSize, before, after: total - before };
  }
  if (kernel > inSize) {
    throw new ValidationError(`VALID padding: kernel ${kernel} is larger than the input size ${inSize}`);
  }
  return { outSize: Math.floor((inSize - kernel) / stride) + 1, before: 0, after: 0 };
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function assertRank(shape: readonly number[], rank: number, what: string): void {
  if (shape.length !== rank) {
    throw new ValidationError(`${what} needs a rank-${rank} tensor, got shape ${formatShape(shape)}`);
  }
}

export function assertValidShape(shape: readonly number[], what: string): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ValidationError(`${what}: every dimension must be a positive integer, got ${formatShape(shape)}`);
  }
}

/** NHWC window op (conv, depthwise, pool) output shape. */
export function windowOutputShape(
  input: readonly number[],
  kernel: readonly [number, number],
  stride: readonly [number, number],
  padding: PaddingMode,
  outChannels: number,
): number[] {
  assertRank(input, 4, 'a 2-D window operator');
  const [n, h, w] = input as [number, number, number, number];
  const outH = spatialPadding(h, kernel[0], stride[0], padding).outSize;
  const outW = spatialPadding(w, kernel[1], stride[1], padding).outSize;
  return [n, outH, outW, outChannels];
}

/** NumPy-style broadcasting, as ADD and MUL do. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ValidationError(`shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together`);
    }
    out.push(Math.max(da, db));
  }
  return out;
}

export function normalizeAxis(axis: number, rank: number, what: string): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= rank) {
    throw new ValidationError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  }
  return normalized;
}

export function reduceShape(input: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const normalized = new Set(axes.map((a) => normalizeAxis(a, input.length, 'MEAN')));
  if (keepDims) return input.map((d, i) => (normalized.has(i) ? 1 : d));
  return input.filter((_d, i) => !normalized.has(i));
}

/** RESHAPE target with at most one -1 resolved. */
export function resolveReshape(input: readonly number[], target: readonly number[]): number[] {
  const total = numElements(input);
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1 || target.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1))) {
    throw new ValidationError(`RESHAPE: invalid target shape ${formatShape(target)}`);
  }
  const known = target.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const resolved = target.map((d) => (d === -1 ? total / known : d));
  if (numElements(resolved) !== total || !resolved.every(Number.isInteger)) {
    throw new ValidationError(`RESHAPE: cannot reshape ${formatShape(input)} to ${formatShape(target)}`);
  }
  return resolved;
}

export function concatShape(inputs: readonly (readonly number[])[], axis: number): number[] {
  const first = inputs[0];
  if (!first) throw new ValidationError('CONCATENATION needs at least one input');
  const a = normalizeAxis(axis, first.length, 'CONCATENATION');
  let along = 0;
  for (const shape of inputs) {
    if (shape.length !== first.length || shape.some((d, i) => i !== a && d !== first[i])) {
      throw new ValidationError(
        `CONCATENATION on axis ${axis}: shapes ${inputs.map(formatShape).join(', ')} differ off the axis`,
      );
    }
    along += shape[a] ?? 0;
  }
  return first.map((d, i) => (i === a ? along : d));
}

/** SLICE: size -1 means "to the end". Returns the resolved sizes (the output shape). */
export function sliceShape(input: readonly number[], begin: readonly number[], size: readonly number[]): number[] {
  if (begin.length !== input.length || size.length !== input.length) {
    throw new ValidationError(`SLICE: begin and size need ${input.length} entries (the input rank)`);
  }
  return input.map((d, i) => {
    const b = begin[i] ?? 0;
    const s = size[i] === -1 ? d - b : (size[i] ?? 0);
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 1 || b + s > d) {
      throw new ValidationError(`SLICE: begin ${b} size ${size[i]} does not fit dimension ${i} of size ${d}`);
    }
    return s;
  });
}

export interface StridedSliceMasks {
  /** Bit i set: ignore begin[i] and start from the beginning of dimension i. */
  readonly beginMask?: number;
  /** Bit i set: ignore end[i] and run to the end of dimension i. */
  readonly endMask?: number;
}

/** STRIDED_SLICE with positive strides (negative begin/end count from the end, as in TFLite). */
export function stridedSliceShape(
  input: readonly number[],
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  masks: StridedSliceMasks = {},
): number[] {
  const rank = input.length;
  if (begin.length !== rank || end.length !== rank || strides.length !== rank) {
    throw new ValidationError(`STRIDED_SLICE: begin, end and strides need ${rank} entries (the input rank)`);
  }
  return input.map((d, i) => {
    const stride = strides[i] ?? 0;
    if (!Number.isInteger(stride) || stride < 1) {
      throw new ValidationError(`STRIDED_SLICE: stride ${stride} on dimension ${i}; only positive strides are supported`);
    }
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const start = ((masks.beginMask ?? 0) >> i) & 1 ? 0 : clamp(begin[i] ?? 0);
    const stop = ((masks.endMask ?? 0) >> i) & 1 ? d : clamp(end[i] ?? 0);
    const size = Math.ceil((stop - start) / stride);
    if (size < 1) throw new ValidationError(`STRIDED_SLICE: dimension ${i} would be empty`);
    return size;
  });
}

export function padShape(input: readonly number[], paddings: readonly (readonly [number, number])[]): number[] {
  if (paddings.length !== input.length) {
    throw new ValidationError(`PAD: paddings need ${input.length} [before, after] pairs (the input rank)`);
  }
  return input.map((d, i) => {
    const [before, after] = paddings[i] ?? [0, 0];
    if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
      throw new ValidationError(`PAD: paddings must be non-negative integers, got [${before}, ${after}]`);
    }
    return d + before + after;
  });
}
