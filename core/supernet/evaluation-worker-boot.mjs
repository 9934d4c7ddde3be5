// Starts the TypeScript evaluation worker from source (tests, tsx runs): tsx compiles it on the fly.
// The CLI bundle starts the compiled evaluation-worker.js directly instead (build/bundle.ts).
import { register } from 'tsx/esm/api';

register();
await import('./evaluation-worker.ts');
