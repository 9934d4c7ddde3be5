/**
 * `netadapt <args>` run in this process: commander with exitOverride, every line it prints captured, errors
 * reported exactly as app/cli/main.ts reports them. No vitest import, so child processes of the suite can use it too.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from '../../app/cli/commands/index.ts';
import { reportError } from '../../app/cli/report-error.ts';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `netadapt <args>` in this process; never throws (the outcome carries the exit code and what was printed). */
export async function cli(...args: string[]): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().name('netadapt').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerCommands(program);
  const saved = { log: console.log, error: console.error, out: process.stdout.write, err: process.stderr.write };
  console.log = (...parts: unknown[]) => void out.push(`${parts.map(String).join(' ')}\n`);
  console.error = (...parts: unknown[]) => void err.push(`${parts.map(String).join(' ')}\n`);
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  const exitCodeBefore = process.exitCode;
  let code = 0;
  try {
    await program.parseAsync(['node', 'netadapt', ...args]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    code = error instanceof CommanderError ? error.exitCode : reportError(error, false, (line) => err.push(`${line}\n`));
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error });
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = exitCodeBefore;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
