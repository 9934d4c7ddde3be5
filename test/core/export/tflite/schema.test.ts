import { describe, expect, it } from 'vitest';
import {
  BUILTIN_OPERATOR_NAMES,
  BuiltinOperator,
  OPTIONS_TABLES,
  builtinOptionsName,
  builtinOptionsTypeOf,
  type OptionsTableName,
} from '../../../../core/export/tflite/schema.ts';

describe('TFLite schema facts', () => {
  it('names each builtin operator code consistently with the code table', () => {
    for (const [name, code] of Object.entries(BuiltinOperator)) expect(BUILTIN_OPERATOR_NAMES[code]).toBe(name);
    expect(BUILTIN_OPERATOR_NAMES).toHaveLength(162);
    expect(new Set(BUILTIN_OPERATOR_NAMES).size).toBe(BUILTIN_OPERATOR_NAMES.length);
  });

  it('derives the BuiltinOptions union values of the generated TFLite headers', () => {
    // Spot values as they appear in schema_generated.h (BuiltinOptions_<Name> = n).
    const expected: Record<OptionsTableName, number> = {
      Conv2DOptions: 1,
      DepthwiseConv2DOptions: 2,
      Pool2DOptions: 5,
      FullyConnectedOptions: 8,
      SoftmaxOptions: 9,
      ConcatenationOptions: 10,
      AddOptions: 11,
      ReshapeOptions: 17,
      MulOptions: 21,
      PadOptions: 22,
      ReducerOptions: 27,
      StridedSliceOptions: 32,
      SliceOptions: 48,
      ResizeNearestNeighborOptions: 74,
      HardSwishOptions: 91,
    };
    for (const table of Object.keys(OPTIONS_TABLES) as OptionsTableName[]) {
      expect(builtinOptionsTypeOf(table), table).toBe(expected[table]);
      expect(builtinOptionsName(expected[table])).toBe(table);
    }
    expect(builtinOptionsName(0)).toBe('NONE');
  });
});
