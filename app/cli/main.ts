#!/usr/bin/env node
import { UserError } from '../../core/errors.ts';
import { registerCommands } from './commands/index.ts';
import { createProgram } from './program.ts';

/**
 * The top-level help text, rendered from every command at build time (build/bundle.ts) so that `netadapt --help`
 * prints without loading the commands. Undefined when running from source.
 */
declare const NETADAPT_TOP_LEVEL_HELP: string | undefined;
const prebuiltHelp = typeof NETADAPT_TOP_LEVEL_HELP === 'string' ? NETADAPT_TOP_LEVEL_HELP : undefined;

const args = process.argv.slice(2);
if (prebuiltHelp !== undefined && args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  process.stdout.write(prebuiltHelp);
} else {
  const program = createProgram();
  await registerCommands(program, args.find((a) => !a.startsWith('-')));
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = reportError(error, program.opts<{ debug?: boolean }>().debug === true);
  }
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
