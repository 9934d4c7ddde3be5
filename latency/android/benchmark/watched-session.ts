/**
 * Runs one batch script under a watchdog. The script prints a begin and an end marker around every model run; the
 * watchdog gives each run its own time limit from its begin marker, and the gaps between runs (and the start of
 * the session) a fixed one. Past a limit it closes the session and says which model was in flight, so the caller
 * can fail that model alone and go on with the rest. While a run takes long, it reports the wait.
 */
import type { DeviceBridge } from '../device/bridge.ts';
import { DeviceDisconnectedError, ShellAbortedError } from '../device/errors.ts';
import { SectionSplitter } from './batch-script.ts';
import type { Section } from './batch-script.ts';

export type SessionOutcome =
  | { kind: 'completed'; strayOutput: string }
  | { kind: 'model-timeout'; token: string; elapsedMs: number; limitMs: number; output: string }
  | { kind: 'stalled'; silentMs: number }
  | { kind: 'disconnected'; error: DeviceDisconnectedError; unfinished?: { token: string; output: string } };

export interface WaitingEvent {
  token: string;
  elapsedMs: number;
  limitMs: number;
}

export interface WatchOptions {
  limitMs: (token: string) => number;
  /** Longest silence allowed outside a model run (shell start, between runs). */
  gapLimitMs: number;
  onSection: (section: Section) => void;
  onWaiting?: (event: WaitingEvent) => void;
  /** How often the watchdog looks (default 250 ms); how long a run must last before waits are reported (2 s). */
  tickMs?: number;
  waitReportMs?: number;
}

class WatchdogFired extends Error {
  constructor(readonly outcome: SessionOutcome) {
    super(outcome.kind);
  }
}

export async function runWatchedSession(bridge: DeviceBridge, serial: string, script: string, options: WatchOptions): Promise<SessionOutcome> {
  const tickMs = options.tickMs ?? 250;
  const waitReportMs = options.waitReportMs ?? 2_000;
  const stop = new AbortController();
  let running: { token: string; startedAt: number; limitMs: number; lastReport: number } | undefined;
  let lastOutputAt = Date.now();
  const splitter = new SectionSplitter(
    (section) => {
      running = undefined;
      options.onSection(section);
    },
    (token) => {
      const now = Date.now();
      running = { token, startedAt: now, limitMs: options.limitMs(token), lastReport: now };
    },
  );
  const watchdog = setInterval(() => {
    const now = Date.now();
    if (running) {
      const elapsedMs = now - running.startedAt;
      if (elapsedMs > running.limitMs) {
        const output = splitter.unfinished?.output ?? '';
        stop.abort(new WatchdogFired({ kind: 'model-timeout', token: running.token, elapsedMs, limitMs: running.limitMs, output }));
      } else if (elapsedMs >= waitReportMs && now - running.lastReport >= waitReportMs) {
        running.lastReport = now;
        options.onWaiting?.({ token: running.token, elapsedMs, limitMs: running.limitMs });
      }
    } else if (now - lastOutputAt > options.gapLimitMs) {
      stop.abort(new WatchdogFired({ kind: 'stalled', silentMs: now - lastOutputAt }));
    }
  }, tickMs);
  try {
    await bridge.shell(serial, script, {
      signal: stop.signal,
      onOutputLine: (line) => {
        lastOutputAt = Date.now();
        splitter.line(line);
      },
    });
    return { kind: 'completed', strayOutput: splitter.strayLines.join('\n') };
  } catch (error) {
    if (error instanceof ShellAbortedError && error.reason instanceof WatchdogFired) return error.reason.outcome;
    if (error instanceof DeviceDisconnectedError) {
      const unfinished = splitter.unfinished;
      return { kind: 'disconnected', error, ...(unfinished ? { unfinished } : {}) };
    }
    throw error;
  } finally {
    clearInterval(watchdog);
  }
}
