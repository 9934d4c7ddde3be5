import { Command } from 'commander';

/** The top-level `netadapt` command (no sub-commands yet): shared by main.ts and the build's help snapshot. */
export function createProgram(): Command {
  return new Command()
    .name('netadapt')
    .description('NetAdaptV2 architecture search with on-device latency tables')
    .option('--debug', 'print stack traces of unexpected errors')
    .showHelpAfterError();
}
