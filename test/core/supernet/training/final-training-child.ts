/**
 * Child process for the final-training kill -9 test: runs (or resumes) the trajectory-mode final training of
 * finalKillOptions and prints "step <n>" after every step; the parent SIGKILLs it mid-run. Args: <supernet dir> <out dir>.
 */
import { trainDiscoveredNetwork } from '../../../../core/supernet/training/final-training.ts';
import { useTestBackend } from '../backend.ts';
import { finalKillOptions } from './final-fixture.ts';

await useTestBackend();
const [checkpoint, outDir] = process.argv.slice(2) as [string, string];
await trainDiscoveredNetwork({
  ...finalKillOptions(checkpoint, outDir),
  resume: true,
  onEvent: (e) => process.stdout.write(`step ${e.phase} ${e.step}\n`),
});
process.stdout.write('finished\n');
