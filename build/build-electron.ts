/**
 * Bundles the Electron side with esbuild: main.js, engine-host.js and job-worker.js as ES modules (the package is
 * "type": "module"), preload.cjs as CommonJS (sandboxed preloads cannot be ES modules). npm packages stay external:
 * electron-builder ships node_modules, and native ones (better-sqlite3) are rebuilt for Electron.
 * Run: tsx build/build-electron.ts
 */
import { build, type BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}/dist/electron`;

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  external: ['electron'],
  sourcemap: 'linked',
  logLevel: 'warning',
};

export async function buildElectron(): Promise<void> {
  await build({
    ...common,
    format: 'esm',
    entryPoints: {
      main: 'electron/main.ts',
      'engine-host': 'electron/engine-host.ts',
      'job-worker': 'app/api/job-worker.ts',
    },
    outdir,
    outExtension: { '.js': '.js' },
    // Lazily imported job modules become chunks next to the entries.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  });
  await build({ ...common, format: 'cjs', entryPoints: { preload: 'electron/preload.ts' }, outdir, outExtension: { '.js': '.cjs' } });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  console.log(`built ${outdir}/{main.js, engine-host.js, job-worker.js, preload.cjs}`);
}
