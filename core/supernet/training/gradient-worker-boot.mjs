// Starts the TypeScript gradient worker from source (tests, tsx runs): tsx compiles it on the fly.
// The CLI bundle starts the compiled gradient-worker.js directly instead (build/bundle.ts).
import { register } from 'tsx/esm/api';

register();
await import('./gradient-worker.ts');
