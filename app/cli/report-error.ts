/**
 * How the CLI reports a failure: a UserError's message and detail lines (exit code 1); anything else is a bug,
 * printed as "internal error" (exit code 2) with the stack under --debug.
 */
import { UserError } from '../../core/errors.ts';

export function reportError(error: unknown, debug: boolean, print: (line: string) => void = (line) => console.error(line)): number {
  if (error instanceof UserError) {
    print(`error: ${error.message}`);
    for (const line of error.details) print(`  - ${line}`);
    if (debug && error.stack) print(error.stack);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  print(`internal error: ${message}`);
  if (debug && error instanceof Error && error.stack) print(error.stack);
  else print('(run again with --debug for the stack trace)');
  return 2;
}
