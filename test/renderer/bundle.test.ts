/** The built renderer must not reach for Node: no require, no process, no node: modules in the bundle. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RENDERER_DIST } from '../../app/api/browser-ui.ts';
import { ensureFreshRenderer } from '../e2e/harness.ts';

describe('renderer bundle', () => {
  let code = '';
  beforeAll(async () => {
    await ensureFreshRenderer();
    const assets = join(RENDERER_DIST, 'assets');
    code = readdirSync(assets)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(assets, f), 'utf8'))
      .join('\n');
  });

  it('exists and contains no Node access', () => {
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).not.toMatch(/\brequire\(/);
    expect(code).not.toMatch(/\bprocess\.(env|versions|platform|argv)/);
    expect(code).not.toMatch(/["']node:[a-z_]+["']/);
  });

  it('index.html has no inline script or style (the CSP forbids them)', () => {
    const html = readFileSync(join(RENDERER_DIST, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\sstyle=/);
  });
});
