#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';
import { reportError } from './report-error.ts';

const program = new Command();
program
  .name('netadapt')
  .description('NetAdaptV2 architecture search with on-device latency tables')
  .option('--debug', 'print stack traces of unexpected errors')
  .showHelpAfterError();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error, program.opts<{ debug?: boolean }>().debug === true);
}
