/** Where the app keeps files next to its workspace file. */
import { dirname, join } from 'node:path';

/** A search run's outputs (network.json, reports, final training, trained .tflite): <workspace folder>/runs/<run id>. */
export function runOutputDir(workspacePath: string, runId: string): string {
  return join(workspacePath === ':memory:' ? '.' : dirname(workspacePath), 'runs', runId);
}
