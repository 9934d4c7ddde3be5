import type { Command } from 'commander';
import { register as registerArch } from './arch.ts';
import { register as registerExport } from './export.ts';
import { register as registerInspect } from './inspect.ts';
import { register as registerLut } from './lut.ts';
import { register as registerSearch } from './search.ts';
import { register as registerDevice } from './device.ts';
import { register as registerTrainSupernet } from './train-supernet.ts';
import { register as registerUi } from './ui.ts';
import { register as registerDemo } from './demo.ts';

/** Each command module exports `register(program)`; add new commands here. */
export function registerCommands(program: Command): void {
  registerArch(program);
  registerExport(program);
  registerInspect(program);
  registerLut(program);
  registerSearch(program);
  registerDevice(program);
  registerTrainSupernet(program);
  registerUi(program);
  registerDemo(program);
}
