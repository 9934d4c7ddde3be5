import { describe, expect, it } from 'vitest';
import { startSearchParams } from '../../app/api/contract/schemas.ts';
import { fieldErrors, numberOrRaw } from '../../renderer/src/lib/form.ts';
import { formatCount, formatDuration, formatPercent, formatScore, formatValue } from '../../renderer/src/lib/format.ts';

describe('format', () => {
  it('formats counts, percentages and durations', () => {
    expect(formatCount(3_050_000)).toBe('3.05M');
    expect(formatCount(undefined)).toBe('–');
    expect(formatPercent(0.868)).toBe('86.8%');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(7500)).toBe('2 h 05 min');
    expect(formatDuration(Number.NaN)).toBe('–');
  });

  it('shows accuracies as percentages and a dry run\'s score as a marked number', () => {
    expect(formatScore(0.2617)).toBe('26.2%');
    expect(formatScore(0.2617, 'synthetic')).toBe('0.262 (synthetic)');
    expect(formatScore(undefined)).toBe('–');
  });

  it('gives every value its unit, latency in ms or µs by magnitude', () => {
    expect(formatValue(12.345, 'ms')).toBe('12.35 ms');
    expect(formatValue(0.42, 'ms')).toBe('420 µs');
    expect(formatValue(0.0421, 'ms')).toBe('42.1 µs');
    expect(formatValue(1_320_000, 'MACs')).toBe('1.32M MACs');
    expect(formatValue(undefined, 'ms')).toBe('–');
  });
});

describe('inline validation with the API schema', () => {
  it('is empty for a valid configuration', () => {
    expect(fieldErrors(startSearchParams, { network: 'mobilenet-v1-32', evaluator: 'synthetic', finalTraining: { mode: 'none' } })).toEqual({});
    expect(fieldErrors(startSearchParams, { network: 'mobilenet-v1-32', checkpoint: '/ckpt' })).toEqual({});
    expect(fieldErrors(startSearchParams, { network: 'mobilenet-v1-32' }).checkpoint).toMatch(/trained super-network/);
  });

  it('names each invalid field with the schema message', () => {
    const errors = fieldErrors(startSearchParams, {
      network: 'mobilenet-v1-32',
      target: '150%',
      samplesPerIteration: numberOrRaw('abc'),
      layersPerSample: 0,
      reduction: 'lots',
    });
    expect(errors.target).toBe('a percentage must be above 0% and below 100%');
    expect(errors.samplesPerIteration).toMatch(/must be a whole number from 1 to 10,000/);
    expect(errors.layersPerSample).toBe('must be a whole number from 1 to 1,000 (the paper uses 4–15)');
    expect(errors.reduction).toMatch(/percentage above 0% and at most 50%/);
    expect(fieldErrors(startSearchParams, { target: '50%', evaluator: 'synthetic', finalTraining: { mode: 'none' } }).target).toBeUndefined();
    expect(fieldErrors(startSearchParams, { target: 12.5, evaluator: 'synthetic', finalTraining: { mode: 'none' } }).target).toBeUndefined();
    // Cross-field rules run once every field is valid on its own.
    expect(fieldErrors(startSearchParams, { evaluator: 'synthetic' })['finalTraining.mode']).toMatch(/nothing to train/);
  });

  it('numberOrRaw keeps text that is not a number for the schema to report', () => {
    expect(numberOrRaw('0.5')).toBe(0.5);
    expect(numberOrRaw('')).toBe('');
    expect(numberOrRaw('1e3')).toBe(1000);
    expect(numberOrRaw('x')).toBe('x');
  });
});
