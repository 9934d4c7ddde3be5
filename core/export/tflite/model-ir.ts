import type { BuiltinOperatorName, OptionsTableName } from './schema.ts';

/**
 * A single-subgraph TFLite model held in plain objects: what TfliteModelBuilder produces and serialize.ts writes.
 * Indices are positions in the arrays below (tensor index, buffer index), exactly as they appear in the file.
 */
export type TfliteDataType = 'float32' | 'int32' | 'int8';

/**
 * TFLite's affine quantization of a tensor: real = (q − zeroPoint) · scale. One scale and zero point for the whole
 * tensor, or one per slice along `quantizedDimension` (per-channel weights and their biases).
 */
export interface IrQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

export interface IrTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: TfliteDataType;
  /** Index into `buffers`; 0 (the empty sentinel) for activations and inputs. */
  readonly buffer: number;
  readonly quantization?: IrQuantization;
}

export type OptionValue = number | boolean | readonly number[];

export interface IrOptions {
  readonly table: OptionsTableName;
  /** Field name (as in schema.fbs) -> value; absent fields take the schema default. */
  readonly values: Readonly<Record<string, OptionValue>>;
}

export interface IrOperator {
  readonly op: BuiltinOperatorName;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options: IrOptions | null;
  /** The operator version its tensor types need (TFLite's op_version rules); 1 when omitted. */
  readonly version?: number;
}

export interface TfliteModelIr {
  readonly description: string;
  readonly subgraphName: string;
  readonly tensors: readonly IrTensor[];
  /** Buffer 0 must be empty (the sentinel every non-constant tensor points at). */
  readonly buffers: readonly Uint8Array[];
  readonly operators: readonly IrOperator[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Key of the single SignatureDef written for the subgraph (runtimes use it to name inputs and outputs). */
  readonly signatureKey: string;
}
