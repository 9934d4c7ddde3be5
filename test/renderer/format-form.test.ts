import { describe, expect, it } from 'vitest';
import { startSearchParams } from '../../app/api/contract/schemas.ts';
import { fieldErrors, numberOrRaw } from '../../renderer/src/lib/form.ts';
import { formatCount, formatDuration, formatPercent } from '../../renderer/src/lib/format.ts';

describe('format', () => {
  it('formats counts, percentages and durations', () => {
    expect(formatCount(3_050_000)).toBe('3.05 M');
    expect(formatCount(undefined)).toBe('–');
    expect(formatPercent(0.868)).toBe('86.8%');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(7500)).toBe('2 h 05 min');
    expect(formatDuration(Number.NaN)).toBe('–');
  });
});

describe('inline validation with the API schema', () => {
  it('is empty for a valid configuration', () => {
    expect(fieldErrors(startSearchParams, { network: 'mobilenet-v1-32', evaluator: 'synthetic' })).toEqual({});
    expect(fieldErrors(startSearchParams, { network: 'mobilenet-v1-32', checkpoint: '/ckpt' })).toEqual({});
    expect(fieldErrors(startSearchParams, { network: 'mobilenet-v1-32' }).checkpoint).toMatch(/checkpoint/);
  });

  it('names each invalid field with the schema message', () => {
    const errors = fieldErrors(startSearchParams, {
      network: 'mobilenet-v1-32',
      targetRatio: 1.5,
      samplesPerIteration: numberOrRaw('abc'),
    });
    expect(errors.targetRatio).toMatch(/below 1/);
    expect(errors.samplesPerIteration).toMatch(/must be a whole number from 1 to 10,000/);
    // Cross-field rules run once every field is valid on its own.
    expect(fieldErrors(startSearchParams, { network: 'n', metric: 'latency', evaluator: 'synthetic' }).deviceId).toMatch(/needs a device/);
  });

  it('numberOrRaw keeps text that is not a number for the schema to report', () => {
    expect(numberOrRaw('0.5')).toBe(0.5);
    expect(numberOrRaw('')).toBe('');
    expect(numberOrRaw('1e3')).toBe(1000);
    expect(numberOrRaw('x')).toBe('x');
  });
});
