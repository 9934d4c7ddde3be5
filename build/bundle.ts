/**
 * The one build module: esbuild bundles of the CLI (dist/cli) and of the Electron side (dist/electron), so neither
 * compiles TypeScript when it starts. npm packages stay external (native ones such as better-sqlite3 and
 * onnxruntime-node, and the tfjs/LiteRT .wasm binaries, are found in node_modules at run time, as from source).
 *
 * - CLI: main.js, job-worker.js (the `netadapt ui` job thread), gradient-worker.js (data-parallel training) and
 *   evaluation-worker.js (sample scoring) as ES modules; lazily imported command modules become chunks in the same
 *   folder, so `new URL('./job-worker.js', import.meta.url)`, the other workers and the renderer path (two folders
 *   up) resolve from every chunk as they do from source. The top-level help text is rendered here from the
 *   registered commands and embedded, so `netadapt --help` loads none of them.
 * - Electron: main.js, engine-host.js and the three worker entries as ES modules (the package is
 *   "type": "module"), chunks in the same folder for the same reason; preload.cjs as CommonJS (sandboxed preloads
 *   cannot be ES modules).
 *
 * Run: tsx build/bundle.ts [cli|electron]… (default: cli); `npm install` runs the CLI build (the prepare script).
 */
import { build, type BuildOptions } from 'esbuild';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
export const CLI_DIR = `${root}dist/cli`;
export const ELECTRON_DIR = `${root}dist/electron`;
/** The data-parallel training thread, found next to whichever chunk starts it (gradient-workers.ts). */
const GRADIENT_WORKER = 'core/supernet/training/gradient-worker.ts';
/** The sample-scoring thread (evaluation-pool.ts), likewise. */
const EVALUATION_WORKER = 'core/supernet/evaluation-worker.ts';

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  format: 'esm',
  outExtension: { '.js': '.js' },
  splitting: true,
};

export async function buildCli(outdir: string = CLI_DIR): Promise<void> {
  // Chunk names carry content hashes: clear the folder so chunks of earlier builds do not pile up.
  rmSync(outdir, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: { main: 'app/cli/main.ts', 'job-worker': 'app/api/job-worker.ts', 'gradient-worker': GRADIENT_WORKER, 'evaluation-worker': EVALUATION_WORKER },
    outdir,
    chunkNames: '[name]-[hash]',
    define: { NETADAPT_TOP_LEVEL_HELP: JSON.stringify(await topLevelHelp()) },
  });
}

/**
 * `netadapt --help` as commander prints it to a pipe (80 columns), rendered from every registered command by the CLI
 * run from source in a child process (the build does not import the app: only its faces do, test/build/layers.test.ts).
 */
export async function topLevelHelp(): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', '--help'], { cwd: root, encoding: 'utf8' });
  return stdout;
}

export async function buildElectron(): Promise<void> {
  const electron = { ...common, external: ['electron'] };
  rmSync(ELECTRON_DIR, { recursive: true, force: true });
  await build({
    ...electron,
    entryPoints: {
      main: 'electron/main.ts',
      'engine-host': 'electron/engine-host.ts',
      'job-worker': 'app/api/job-worker.ts',
      'gradient-worker': GRADIENT_WORKER,
      'evaluation-worker': EVALUATION_WORKER,
    },
    outdir: ELECTRON_DIR,
    chunkNames: '[name]-[hash]',
  });
  await build({ ...electron, format: 'cjs', splitting: false, entryPoints: { preload: 'electron/preload.ts' }, outdir: ELECTRON_DIR, outExtension: { '.js': '.cjs' } });
}

const targets: Record<string, () => Promise<void>> = { cli: buildCli, electron: buildElectron };

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in targets));
  if (unknown.length > 0) {
    console.error(`unknown build target(s): ${unknown.join(', ')}; available: ${Object.keys(targets).join(', ')}`);
    process.exit(2);
  }
  for (const name of wanted.length > 0 ? wanted : ['cli']) {
    await (targets[name] as () => Promise<void>)();
    console.log(`built ${name === 'cli' ? CLI_DIR : ELECTRON_DIR}`);
  }
}
