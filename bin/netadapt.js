#!/usr/bin/env node
// Thin launcher: runs the TypeScript CLI through tsx so `npm link`/`npx netadapt` work without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../app/cli/main.ts');
