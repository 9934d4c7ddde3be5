/**
 * Bad search configurations (`netadapt search --config`): each is refused before any work with a message naming the
 * field and its allowed range or values; the workspace's content is unchanged and no run is added.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectRefused, workspaceHash } from './harness.ts';
import { scratchWithWorkspace, type Scratch } from './fixtures.ts';

let scratch: Scratch;
let before: string;
beforeAll(async () => {
  scratch = await scratchWithWorkspace('config');
  before = workspaceHash(scratch.workspace);
});
afterAll(() => {
  expect(workspaceHash(scratch.workspace)).toBe(before);
});

const CASES: [string, Record<string, unknown>, RegExp][] = [
  ['no target', { target: undefined }, /"target" is missing: .*percentage of the initial network like "50%"/],
  ['target 1e308', { target: 1e308 }, /target .* is not below the full network's 3\.05M MACs: there is nothing to search/],
  ['target 150%', { target: '150%' }, /above 100% of the initial network/],
  ['target "fast"', { target: 'fast' }, /target: must be a number or a percentage like "50%"/],
  ['target below the smallest sub-network', { target: 1 }, /unreachable: even the smallest sub-network/],
  ['seed 2^40', { seed: 2 ** 40 }, /seed: must be a whole number from 0 to 4,294,967,295 \(a seed must be < 2\^32\)/],
  ['seed -1', { seed: -1 }, /seed: .*< 2\^32/],
  ['J 1e12', { J: 1e12 }, /J: must be a whole number from 1 to 10,000/],
  ['J 2.5', { J: 2.5 }, /J: must be a whole number from 1 to 10,000/],
  ['L 0', { L: 0 }, /L: must be a whole number from 1 to 1,000/],
  ['reduction 3', { reduction: 3 }, /reduction: must be < 1 \(a fraction; or write a percentage like "3%"\)/],
  ['decay 2', { decay: 2 }, /decay: must be a number above 0 and at most 1/],
  ['algorithm "ga"', { algorithm: 'ga' }, /algorithm: must be "mcd" \(NetAdaptV2\) or "scd" \(NetAdaptV1\)/],
  ['metric "flops"', { metric: 'flops' }, /metric: must be one of macs, params, latency-lut, latency-measured/],
  ['budget.maxIterations -1', { budget: { maxIterations: -1 } }, /budget\.maxIterations: must be a whole number from 0 to 1,000,000/],
  ['maxAttempts 1e9', { maxAttempts: 1e9 }, /maxAttempts: must be a whole number from 1 to 1,000/],
  ['evaluator noise "loud"', { evaluator: { kind: 'synthetic', noise: 'loud' } }, /evaluator\.noise: must be a number from 0 to 100/],
  ['evaluator kind "magic"', { evaluator: { kind: 'magic' } }, /evaluator\.kind: must be \{"kind": "supernet", …\} or \{"kind": "synthetic", …\}/],
  ['finalTraining batch 1', { finalTraining: { batchSize: 1 }, dataset: 'synthetic', checkpoint: 'c' }, /finalTraining\.batchSize: must be a whole number from 2 to 4,096/],
  ['finalTraining without dataset', { finalTraining: { mode: 'scratch' } }, /"finalTraining" needs "dataset"/],
  ['latency metric without device', { metric: 'latency-lut' }, /needs "latency": \{"device"/],
  ['unknown key', { targte: '50%' }, /Unrecognized key.*targte/],
  ['network missing', { network: 'mobilenet-v9' }, /unknown network "mobilenet-v9": not a zoo name and not a \.json file/],
];

describe('bad search configurations', () => {
  it.each(CASES)('%s', async (_name, changes, problem) => {
    const outcome = await cli('search', '--config', scratch.config('bad.json', changes), '--quiet');
    expectRefused(outcome, problem);
  });

  it('a config that is not JSON, or not there', async () => {
    expectRefused(await cli('search', '--config', scratch.json('broken.json', '{"network": '), '--quiet'), /broken\.json is not valid JSON/);
    expectRefused(await cli('search', '--config', `${scratch.dir}/missing.json`, '--quiet'), /missing\.json does not exist; check the path/);
  });

  it('a run to resume that the workspace does not have', async () => {
    expectRefused(await cli('search', '--resume', 'no-such-run', '--workspace', scratch.workspace), /no search run "no-such-run" in .*ws\.sqlite; `netadapt runs` lists them/);
  });
});
