/** The TFLite builder's tensor handles, operator options and small argument helpers. */
import { ValidationError } from '../../errors.ts';
import type { TfliteDataType } from './model-ir.ts';
import { PaddingCode } from './schema.ts';
import type { PaddingMode } from './shapes.ts';

/** A tensor in the model being built. Shapes are NHWC and fully known (batch included). */
export interface TensorHandle {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: TfliteDataType;
}

export type FusedActivation = 'none' | 'relu' | 'relu6';
export type { PaddingMode } from './shapes.ts';

/** A number means the same value for height and width. */
export type Size2d = number | readonly [number, number];

export interface Named {
  /** Name of the output tensor; a unique one is generated when omitted. Constants get `<name>/weights` etc. */
  readonly name?: string;
}

export interface Conv2dOptions extends Named {
  /** OHWI: [outChannels, kernelH, kernelW, inChannels], flattened row-major. */
  readonly weights: Float32Array;
  readonly outChannels: number;
  readonly kernelSize: Size2d;
  /** [outChannels]; zeros when omitted (always written: some delegates need the bias input). */
  readonly bias?: Float32Array;
  readonly stride?: Size2d;
  readonly padding?: PaddingMode;
  readonly activation?: FusedActivation;
}

export interface DepthwiseConv2dOptions extends Named {
  /** 1HWC: [1, kernelH, kernelW, channels] (depth multiplier 1). */
  readonly weights: Float32Array;
  readonly kernelSize: Size2d;
  readonly bias?: Float32Array;
  readonly stride?: Size2d;
  readonly padding?: PaddingMode;
  readonly activation?: FusedActivation;
}

export interface Pool2dOptions extends Named {
  readonly filterSize: Size2d;
  readonly stride?: Size2d;
  readonly padding?: PaddingMode;
  readonly activation?: FusedActivation;
}

export interface FullyConnectedOptions extends Named {
  /** [outUnits, inUnits] (TFLite's layout), where inUnits is the input's last dimension. */
  readonly weights: Float32Array;
  readonly outUnits: number;
  readonly bias?: Float32Array;
  readonly activation?: FusedActivation;
}

export interface ActivationOptions extends Named {
  readonly activation?: FusedActivation;
}

export interface TfliteModelBuilderOptions {
  /** Written to Model.description (shown by `netadapt inspect`). */
  readonly description?: string;
  readonly subgraphName?: string;
  readonly signatureKey?: string;
}


export function pair(size: Size2d): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ValidationError(`sizes and strides must be positive integers, got ${String(size)}`);
  }
  return [h, w];
}

export function paddingCode(padding: PaddingMode | undefined): number {
  return (padding ?? 'same') === 'same' ? PaddingCode.SAME : PaddingCode.VALID;
}

/** TFLite buffers are little-endian regardless of the host. */
export function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else data.forEach((v, i) => view.setInt32(i * 4, v, true));
  return bytes;
}
