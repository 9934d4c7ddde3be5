/**
 * `npm start`'s native modules: better-sqlite3 built for Electron's ABI into dist/electron-native, next to (not
 * over) the copy in node_modules that Node (the CLI, the tests) keeps using. Rebuilding node_modules in place
 * (electron-builder install-app-deps) would break `netadapt` and `npm test` with a NODE_MODULE_VERSION error until the
 * next `npm rebuild`. The main process hands the Electron build to the engine (NETADAPT_SQLITE_BINDING) in development;
 * a packaged app needs none of this: electron-builder rebuilds its own node_modules (npmRebuild in electron-builder.yml).
 *
 * Uses @electron/rebuild (prebuilt binaries when published for this Electron, else node-gyp with Electron's headers;
 * both are downloaded once, then cached). Skips when the build for this Electron version is already there.
 * Run: tsx build/electron-native.ts
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const ELECTRON_NATIVE_DIR = join(root, 'dist', 'electron-native');
/** Where the Electron build of better-sqlite3's addon ends up (main.ts passes it to the engine). */
export const ELECTRON_SQLITE_BINDING = join(ELECTRON_NATIVE_DIR, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const STAMP = join(ELECTRON_NATIVE_DIR, 'built-for.json');

function packageDir(name: string): string {
  return dirname(createRequire(join(root, 'package.json')).resolve(`${name}/package.json`));
}

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function buildElectronNative(log: (line: string) => void = console.log): Promise<string> {
  const electronVersion = installedVersion('electron');
  const sqliteVersion = installedVersion('better-sqlite3');
  const wanted = JSON.stringify({ electron: electronVersion, 'better-sqlite3': sqliteVersion, platform: process.platform, arch: process.arch });
  if (existsSync(ELECTRON_SQLITE_BINDING) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === wanted) return ELECTRON_SQLITE_BINDING;

  log(`rebuilding native modules for Electron ${electronVersion} (better-sqlite3 ${sqliteVersion}) into ${ELECTRON_NATIVE_DIR}; node_modules stays built for Node`);
  rmSync(ELECTRON_NATIVE_DIR, { recursive: true, force: true });
  const staged = join(ELECTRON_NATIVE_DIR, 'node_modules', 'better-sqlite3');
  mkdirSync(dirname(staged), { recursive: true });
  // The sources without Node's build output; its dependencies (bindings, prebuild-install) resolve from the repo's.
  cpSync(packageDir('better-sqlite3'), staged, { recursive: true, filter: (source) => !source.includes(`${join('better-sqlite3', 'build')}`) });
  writeFileSync(join(ELECTRON_NATIVE_DIR, 'package.json'), JSON.stringify({ name: 'netadapt-electron-native', private: true, dependencies: { 'better-sqlite3': sqliteVersion } }));
  const { rebuild } = await import('@electron/rebuild');
  try {
    await rebuild({ buildPath: ELECTRON_NATIVE_DIR, electronVersion, onlyModules: ['better-sqlite3'], force: true });
  } catch (error) {
    throw new Error(
      `could not build better-sqlite3 for Electron ${electronVersion}: ${(error as Error).message}\n` +
        'it needs a prebuilt binary or Electron\'s headers (downloaded once; needs internet access) and a C++ toolchain for node-gyp',
    );
  }
  if (!existsSync(ELECTRON_SQLITE_BINDING)) throw new Error(`the rebuild finished but ${ELECTRON_SQLITE_BINDING} is missing`);
  writeFileSync(STAMP, wanted);
  log(`built ${ELECTRON_SQLITE_BINDING}`);
  return ELECTRON_SQLITE_BINDING;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildElectronNative();
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
