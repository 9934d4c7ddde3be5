// Starts the TypeScript job worker from source (dev, tests, `netadapt ui`): tsx compiles it on the fly.
// Bundled builds (Electron) start the compiled job-worker.js directly instead.
import { register } from 'tsx/esm/api';

register();
await import('./job-worker.ts');
