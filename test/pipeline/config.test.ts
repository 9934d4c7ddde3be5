import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.ts';
import { parseSearchConfig, toSearchParams } from '../../pipeline/config.ts';
import { validateParams } from '../../core/search/optimizer.ts';
import { SqliteRunStore } from '../../core/search/run-store.ts';
import { openWorkspace } from '../../core/store/workspace.ts';
import { params } from '../core/search/helpers.ts';

describe('search config: mcdShrink', () => {
  it('defaults to stop-at-target, accepts every-chosen-layer, and is stored with the run', () => {
    expect(toSearchParams(parseSearchConfig({ network: 'n', target: '50%' })).mcdShrink).toBe('stop-at-target');
    const chosen = toSearchParams(parseSearchConfig({ network: 'n', target: '50%', mcdShrink: 'every-chosen-layer' }));
    expect(chosen.mcdShrink).toBe('every-chosen-layer');
    const file = join(mkdtempSync(join(tmpdir(), 'mcd-shrink-')), 'ws.sqlite');
    const store = new SqliteRunStore(openWorkspace(file));
    const run = store.createRun({ network: 'n', metric: 'macs', metricUnit: 'MACs', params: chosen, config: null });
    expect(new SqliteRunStore(openWorkspace(file)).getRun(run.id)?.params.mcdShrink).toBe('every-chosen-layer');
  });

  it('an unknown mode is a clear error naming the allowed ones, from the config file and from the API', () => {
    try {
      parseSearchConfig({ network: 'n', target: '50%', mcdShrink: 'all' }, 'search.json');
      throw new Error('expected a ValidationError');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details.join('\n')).toMatch(/mcdShrink: must be one of "stop-at-target", "every-chosen-layer"/);
    }
    expect(() => validateParams(params({ mcdShrink: 'all' as never }))).toThrow(ValidationError);
  });
});
