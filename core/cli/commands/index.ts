import type { Command } from 'commander';
import { register as registerArch } from './arch.ts';

/** Each command module exports `register(program)`; add new commands here. */
export function registerCommands(program: Command): void {
  registerArch(program);
}
