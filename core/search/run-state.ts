/**
 * What a stored run's status means now: a run marked 'running' whose owner process on this computer is gone (killed,
 * crashed, machine rebooted) was interrupted, not running. Computed when runs are read (reading never writes), and
 * used by the optimizer to decide whether a run may be claimed.
 */
import { hostname } from 'node:os';
import { processAlive } from '../process-alive.ts';
import type { RunRecord, RunStatus } from './types.ts';

export interface RunState {
  /** The stored status, with 'running' turned into 'interrupted' when its owner is gone. */
  status: RunStatus;
  /** True when the run stopped before its end (interrupted, killed, crashed, failed, budget spent): it can be resumed. */
  resumable: boolean;
  /** 'running' but its process is gone. */
  ownerGone: boolean;
  /** The command that continues it, when resumable. */
  resumeCommand?: string;
  /** One line for people: "interrupted — resume with netadapt search --resume <id>". */
  note?: string;
}

export interface LivenessProbe {
  alive(pid: number): boolean;
  host: string;
}

const LOCAL: LivenessProbe = { alive: processAlive, get host() { return hostname(); } };

/** Whether the run's owner is a live process (or one on another computer, which cannot be checked). */
export function ownerIsLive(run: Pick<RunRecord, 'ownerPid' | 'ownerHost'>, probe: LivenessProbe = LOCAL): boolean {
  if (run.ownerPid === null) return false;
  if (run.ownerHost !== null && run.ownerHost !== probe.host) return true;
  return probe.alive(run.ownerPid);
}

export function runState(run: RunRecord, probe: LivenessProbe = LOCAL): RunState {
  const ownerGone = run.status === 'running' && !(run.ownerPid === process.pid && run.ownerHost === probe.host) && !ownerIsLive(run, probe);
  const status: RunStatus = ownerGone ? 'interrupted' : run.status;
  const resumable = status === 'interrupted' || status === 'failed' || status === 'budget';
  const resumeCommand = resumable ? `netadapt search --resume ${run.id}${status === 'budget' ? ' --max-iterations <n>' : ''}` : undefined;
  const state: RunState = { status, resumable, ownerGone };
  if (resumeCommand !== undefined) {
    state.resumeCommand = resumeCommand;
    const why = ownerGone
      ? `interrupted (its process ${run.ownerPid ?? '?'} is gone)`
      : status === 'failed'
        ? 'failed'
        : status === 'budget'
          ? 'stopped at its budget'
          : 'interrupted';
    state.note = `${why} — resume with ${resumeCommand}`;
  }
  return state;
}
