import type { Command } from 'commander';

interface CommandModule {
  /** The top-level commands the module registers. */
  names: readonly string[];
  load: () => Promise<{ register(program: Command): void }>;
}

/**
 * Each command module exports `register(program)`; add new commands here. Modules load on demand, so running one
 * command does not load the engine parts of all the others (tfjs, sharp, SQLite…).
 */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['arch', 'zoo'], load: () => import('./arch.ts') },
  { names: ['export'], load: () => import('./export.ts') },
  { names: ['inspect'], load: () => import('./inspect.ts') },
  { names: ['lut'], load: () => import('./lut.ts') },
  { names: ['search', 'runs'], load: () => import('./search.ts') },
  { names: ['device'], load: () => import('./device.ts') },
  { names: ['train-supernet'], load: () => import('./train-supernet.ts') },
  { names: ['ui'], load: () => import('./ui.ts') },
  { names: ['demo'], load: () => import('./demo.ts') },
];

/** Registers the module of command `name` only, or every command when `name` is not one of them (help, typos). */
export async function registerCommands(program: Command, name?: string): Promise<void> {
  const owner = COMMAND_MODULES.find((m) => name !== undefined && m.names.includes(name));
  for (const module of owner ? [owner] : COMMAND_MODULES) (await module.load()).register(program);
}
