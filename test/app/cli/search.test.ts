/** `netadapt search` / `netadapt runs` (app/cli/commands/search.ts), driven in-process through commander. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { register } from '../../../app/cli/commands/search.ts';
import { runCommand } from './run-command.ts';
import { ValidationError } from '../../../core/errors.ts';
import { TargetUnreachableError } from '../../../core/search/errors.ts';

const netadapt = (...args: string[]): Promise<string> => runCommand(register, args);

function writeConfig(dir: string, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, 'search.json');
  writeFileSync(
    file,
    JSON.stringify({
      network: 'mobilenet-v1-32',
      metric: 'macs',
      target: '60%',
      J: 6,
      L: 4,
      reduction: '10%',
      seed: 4,
      evaluator: { kind: 'synthetic' },
      workspace: 'ws.sqlite',
      output: 'out',
      ...overrides,
    }),
  );
  return file;
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('netadapt search', () => {
  it('stops at --max-iterations, is listed by `runs`, resumes to the target and writes the outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-search-'));
    const config = writeConfig(dir);
    const first = await netadapt('search', '--config', config, '--max-iterations', '2');
    expect(first).toMatch(/iter {4}0 {2}target/);
    expect(first).toMatch(/^budget: stopped by the budget after 2 iteration/m);
    const runId = /search run (\S+)/.exec(first)?.[1] as string;
    expect(runId).toBeTruthy();
    expect(first).toContain(`continue with: netadapt search --resume ${runId}`);

    const listed = await netadapt('runs', '--workspace', join(dir, 'ws.sqlite'));
    expect(listed).toMatch(new RegExp(`${runId}\\s+budget\\s+mobilenet-v1-32\\s+macs\\s+mcd\\s+2\\s+`));

    const second = await netadapt('search', '--resume', runId, '--workspace', join(dir, 'ws.sqlite'), '--max-iterations', '100');
    expect(second).toMatch(/^resuming run/m);
    expect(second).toMatch(/^done: reached the target/m);
    const network = JSON.parse(readFileSync(join(dir, 'out', 'network.json'), 'utf8')) as { resource: number; finalTarget: number; spec: { name: string } };
    expect(network.resource).toBeLessThanOrEqual(network.finalTarget);
    expect(network.spec.name).toBe('mobilenet-v1-32');
    for (const file of ['report.md', 'report.html', 'samples.svg']) expect(existsSync(join(dir, 'out', file))).toBe(true);

    const json = JSON.parse(await netadapt('runs', '--workspace', join(dir, 'ws.sqlite'), '--json')) as { id: string; status: string }[];
    expect(json).toEqual([expect.objectContaining({ id: runId, status: 'done' })]);
  });

  it('refuses a bad configuration with one line per problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-search-'));
    const config = writeConfig(dir, { J: 0, metric: 'flops', reduction: 'lots' });
    const error = (await netadapt('search', '--config', config).catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details.join('\n')).toMatch(/^J: /m);
    expect(error.details.join('\n')).toMatch(/^metric: /m);
    expect(error.details.join('\n')).toMatch(/^reduction: /m);
  });

  it('clear errors: unreachable target, missing super-network evaluator, unknown run, no mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-search-'));
    await expect(netadapt('search', '--config', writeConfig(dir, { target: 10 }))).rejects.toThrow(TargetUnreachableError);
    const stuck = await netadapt('search', '--config', writeConfig(dir, { target: 1000, L: 1, reduction: '40%', maxAttempts: 2 }));
    expect(stuck).toMatch(/^unreachable: iteration 0: target unreachable from here: .* from 3\.05M MACs by shrinking 1 of the 27 layers/m);
    expect(process.exitCode).toBe(1);
    await expect(netadapt('search', '--config', writeConfig(dir, { evaluator: { kind: 'supernet' }, checkpoint: 'ckpt' }))).rejects.toThrow(
      /the super-network evaluator needs "dataset"/,
    );
    await expect(netadapt('search', '--config', writeConfig(dir, { evaluator: { kind: 'supernet' } }))).rejects.toThrow(/needs "checkpoint"/);
    await expect(netadapt('search', '--resume', 'nope', '--workspace', join(dir, 'ws.sqlite'))).rejects.toThrow(/no search run "nope"/);
    await expect(netadapt('search')).rejects.toThrow(/one of --network <name>/);
  });

  it('runs the common case from flags, with the app\'s names and defaults, into the same configuration as a search.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-search-'));
    const workspace = join(dir, 'ws.sqlite');
    const out = await netadapt('search', '--network', 'mobilenet-v1-32', '--evaluator', 'synthetic', '--metric', 'macs', '--target', '60%', '--samples-per-iteration', '6', '--layers-per-sample', '4', '--reduction', '10%', '--seed', '4', '--workspace', workspace, '--output', join(dir, 'out'));
    expect(out).toMatch(/^done: reached the target/m);
    const runs = JSON.parse(await netadapt('runs', '--workspace', workspace, '--json')) as { config: Record<string, unknown> }[];
    // The app's Search screen defaults fill what the flags leave out (the demo's decay, the flags' evaluator seed).
    expect(runs[0]?.config).toMatchObject({ network: 'mobilenet-v1-32', metric: 'macs', target: '60%', J: 6, L: 4, reduction: '10%', decay: 0.98, seed: 4, evaluator: { kind: 'synthetic', seed: 4 } });
    expect(runs[0]?.config).not.toHaveProperty('finalTraining');
    // The same search from a JSON file reaches the same network.
    const fromJson = await netadapt('search', '--config', writeConfig(dir, { workspace: 'ws2.sqlite', output: 'out2', decay: 0.98, budget: { maxIterations: 200 }, evaluator: { kind: 'synthetic', seed: 4 } }));
    const best = (text: string) => /^discovered: (.*), score/m.exec(text)?.[1];
    expect(best(fromJson)).toBe(best(out));
  });

  it('keeps to --max-samples in a search from flags too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-search-'));
    const workspace = join(dir, 'ws.sqlite');
    const out = await netadapt('search', '--network', 'mobilenet-v1-32', '--evaluator', 'synthetic', '--metric', 'macs', '--target', '30%', '--samples-per-iteration', '6', '--max-samples', '10', '--workspace', workspace, '--output', join(dir, 'out'));
    expect(out).not.toMatch(/^done: reached the target/m);
    const runs = JSON.parse(await netadapt('runs', '--workspace', workspace, '--json')) as { status: string; samplesEvaluated: number }[];
    // The initial network and one iteration of 6 (then 7 ≤ 10 starts one more): far fewer than the target needs.
    expect(runs[0]?.status).toBe('budget');
    expect(runs[0]?.samplesEvaluated).toBeLessThanOrEqual(13);
  });

  it('names the flag and the allowed range of a bad flag value', async () => {
    const error = (await netadapt('search', '--network', 'mobilenet-v1-32', '--evaluator', 'synthetic', '--samples-per-iteration', '0', '--target', 'half').catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toContain('--samples-per-iteration: must be a whole number from 1 to 10,000 (the paper uses 27–200)');
    expect(error.details.join('\n')).toMatch(/^--target: must be a percentage of the initial network like "50%"/m);
    await expect(netadapt('search', '--network', 'mobilenet-v1-32', '--dataset', 'imagenet')).rejects.toThrow(/--dataset: unknown dataset "imagenet"/);
  });
});
