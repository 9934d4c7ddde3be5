#!/usr/bin/env node
import { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { registerCommands } from './commands/index.ts';

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

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof UserError) {
    console.error(`error: ${error.message}`);
    for (const line of error.details) console.error(`  - ${line}`);
    if (debug && error.stack) console.error(error.stack);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`internal error: ${message}`);
  if (debug && error instanceof Error && error.stack) console.error(error.stack);
  else console.error('(run again with --debug for the stack trace)');
  return 2;
}
