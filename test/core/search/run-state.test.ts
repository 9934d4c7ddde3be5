import { describe, expect, it } from 'vitest';
import { ownerIsLive, runState } from '../../../core/search/run-state.ts';
import type { RunRecord } from '../../../core/search/types.ts';

const run = (changes: Partial<RunRecord>): RunRecord =>
  ({ id: 'r1', status: 'running', ownerPid: 4242, ownerHost: 'box', message: null, ...changes }) as RunRecord;
const probe = (alive: boolean) => ({ alive: () => alive, host: 'box' });

describe('runState', () => {
  it('a running run whose owner process on this computer is gone is interrupted, with the command that resumes it', () => {
    const state = runState(run({}), probe(false));
    expect(state).toMatchObject({ status: 'interrupted', ownerGone: true, resumable: true, resumeCommand: 'netadapt search --resume r1' });
    expect(state.note).toBe('interrupted (its process 4242 is gone) — resume with netadapt search --resume r1');
  });

  it('a live owner, or one on another computer, keeps it running', () => {
    expect(runState(run({}), probe(true)).status).toBe('running');
    expect(runState(run({ ownerHost: 'other' }), probe(false)).status).toBe('running');
    expect(ownerIsLive(run({ ownerPid: null }), probe(true))).toBe(false);
  });

  it('failed and budget runs say how to continue; done runs say nothing', () => {
    expect(runState(run({ status: 'failed' }), probe(false)).note).toBe('failed — resume with netadapt search --resume r1');
    expect(runState(run({ status: 'budget' }), probe(false)).resumeCommand).toBe('netadapt search --resume r1 --max-iterations <n>');
    expect(runState(run({ status: 'done' }), probe(false))).toEqual({ status: 'done', resumable: false, ownerGone: false });
  });
});
