/**
 * Bad `netadapt lut` options: refused with the allowed values before a workspace is opened or anything measured
 * (even kernels no longer fall back silently to the layer's own kernel). LUT *file* import is covered by
 * test/latency/store (issue 18).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectRefused, listing } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'bad-input-lut-'));
const workspace = join(dir, 'ws.sqlite');

describe('bad lut build options', () => {
  it.each([
    ['--kernels 4', ['--kernels', '4'], /--kernels: "4" is not an odd kernel size; kernel sizes are odd \(1, 3, 5, 7, …\); mobilenet-v3-large-32 allows 1, 3, 5/],
    ['--kernels 9', ['--kernels', '9'], /--kernels: no searchable layer of mobilenet-v3-large-32 allows kernel 9; it allows 1, 3, 5/],
    ['--kernels 3,x', ['--kernels', '3,x'], /"x" is not an odd kernel size/],
    ['--widths 1', ['--widths', '1'], /--widths must be a whole number from 2 to 65, got "1"/],
    ['--runs 1e12', ['--runs', '1e12'], /--runs must be a whole number from 1 to 1,000, got "1e12"/],
    ['--threads 0', ['--threads', '0'], /--threads must be a whole number from 1 to 16/],
    ['--batch 2.5', ['--batch', '2.5'], /--batch must be a whole number from 1 to 1,000/],
  ])('%s', async (_name, options, problem) => {
    expectRefused(await cli('lut', 'build', '--network', 'mobilenet-v3-large-32', '--device', 'host', '--workspace', workspace, ...options), problem);
    expect(listing(dir)).toEqual([]);
  });

  it('a --device that is neither host nor an adb serial', async () => {
    expectRefused(await cli('lut', 'build', '--network', 'mobilenet-v1-32', '--device', 'my phone;rm -rf', '--workspace', workspace), /--device "my phone;rm -rf" is neither "host" nor an adb serial/);
  });
});
