#!/usr/bin/env node
import { registerCommands } from './commands/index.ts';
import { createProgram } from './program.ts';
import { reportError } from './report-error.ts';

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
