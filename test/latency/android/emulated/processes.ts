/**
 * The emulated phone's process table: benchmark_model runs register here while they run, so `pkill -f` can find
 * and end them — a hung run outlives the shell session that started it, as on a real phone.
 */
export interface EmulatedProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolves with the signal number when the process is killed. */
  readonly killed: Promise<number>;
  exit(): void;
}

export class ProcessTable {
  private nextPid = 4000;
  private readonly running = new Map<number, { argv: readonly string[]; kill: (signal: number) => void }>();

  start(argv: readonly string[]): EmulatedProcess {
    const pid = this.nextPid++;
    let kill: (signal: number) => void = () => undefined;
    const killed = new Promise<number>((resolve) => (kill = resolve));
    this.running.set(pid, { argv, kill: (signal) => kill(signal) });
    return { pid, argv, killed, exit: () => this.running.delete(pid) };
  }

  /** Command lines of the running processes. */
  list(): string[] {
    return [...this.running.values()].map((p) => p.argv.join(' '));
  }

  /** Kills the processes whose command line matches (pkill -f semantics: a regular expression); returns how many. */
  kill(pattern: RegExp, signal: number): number {
    let count = 0;
    for (const [pid, process] of this.running) {
      if (!pattern.test(process.argv.join(' '))) continue;
      this.running.delete(pid);
      process.kill(signal);
      count++;
    }
    return count;
  }
}
