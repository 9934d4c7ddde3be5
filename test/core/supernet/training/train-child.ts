/**
 * Child process for the kill -9 test: trains the small test network with a checkpoint every 2 steps and prints
 * "checkpoint <step>" after each one; the parent SIGKILLs it mid-run. Args: <outDir>.
 */
import { SupernetTrainer } from '../../../../core/supernet/training/supernet-trainer.ts';
import { useTestBackend } from '../backend.ts';
import { resumeFixture } from './train-fixture.ts';

await useTestBackend();
const outDir = process.argv[2] as string;
const { spec, dataset, config } = resumeFixture();
const trainer = SupernetTrainer.create({ spec, dataset, config: { ...config, checkpointEverySteps: 2 }, outDir });
await trainer.run({
  onEvent: (e) => {
    if (e.type === 'checkpoint') process.stdout.write(`checkpoint ${e.step}\n`);
  },
});
process.stdout.write('finished\n');
