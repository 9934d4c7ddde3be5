import { describe, expect, it } from 'vitest';
import { describeRuntimeOptions } from '../../../../app/api/contract/titles.ts';
import { canonicalRuntimeOptions, withModelDtype } from '../../../../latency/store/runtime-options.ts';

describe('describeRuntimeOptions', () => {
  it('names a table\'s threads, cores, runs and delegate, and its int8 models (so two tables of one device differ)', () => {
    const float = canonicalRuntimeOptions({ threads: 1, mask: 'all', warmup: 5, runs: 30, delegate: 'xnnpack' });
    expect(describeRuntimeOptions(float)).toBe('1 thread · all cores · 30 runs after 5 warm-up · XNNPACK');
    expect(describeRuntimeOptions(withModelDtype(float, 'int8'))).toBe('1 thread · all cores · 30 runs after 5 warm-up · XNNPACK · int8');
    expect(describeRuntimeOptions('')).toBe('no table yet');
  });
});
