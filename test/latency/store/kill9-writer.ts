/**
 * Child process of kill9-durability.test.ts: writes latency entries in an endless loop and prints
 * `committed <signature>` after each `putEntry` returned (i.e. after its transaction committed). The test kills it
 * with SIGKILL at an arbitrary moment. Usage: node --import tsx kill9-writer.ts <workspace path> <round>
 */
import { openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';

const [path, round] = process.argv.slice(2);
if (path === undefined || round === undefined) throw new Error('usage: kill9-writer.ts <workspace> <round>');

const store = new LatencyStore(openWorkspace(path));
store.upsertDevice('kill9-device', { model: 'kill9' }, 'kill -9 test device');
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const signature = `v1;op=conv;round=${round};i=${i}`;
  const mean = 100 + i;
  store.putEntry({
    deviceId: 'kill9-device',
    runtimeOptions: 'threads=1;runs=50',
    signature,
    count: 50,
    meanUs: mean,
    medianUs: mean,
    stdUs: 1,
    minUs: mean - 5,
    maxUs: mean + 5,
  });
  // stdout to a pipe is synchronous on Linux: once this returns, the line is in the parent's pipe.
  process.stdout.write(`committed ${signature}\n`);
}
