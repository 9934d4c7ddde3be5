#!/usr/bin/env node
// Launcher: runs the CLI bundle (dist/cli/main.js, built by `npm install` / `npm run build:cli`) so start-up compiles
// nothing. A source checkout without the bundle falls back to compiling the TypeScript on the fly through tsx.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const bundle = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  process.stderr.write('(no CLI build in dist/cli: running from source, which starts slowly; `npm run build:cli` builds it)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../app/cli/main.ts');
}
