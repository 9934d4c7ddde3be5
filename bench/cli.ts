/** What every bench's command line shares: run-as-script detection, `--name <number>` flags, the result file. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when the module at `moduleUrl` is the script node was started with (not imported by bench/run.ts). */
export function runAsScript(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

/** The numeric flags given, as options: `{ maxWorkers: 'max-workers' }` reads `--max-workers 2` as { maxWorkers: 2 }. */
export function numberFlags<K extends string>(flags: Record<K, string>, args: readonly string[] = process.argv.slice(2)): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const [key, flag] of Object.entries(flags) as [K, string][]) {
    const i = args.indexOf(`--${flag}`);
    if (i < 0) continue;
    const value = Number(args[i + 1]);
    if (!Number.isFinite(value)) throw new Error(`--${flag} needs a number (got ${args[i + 1] ?? 'nothing'})`);
    out[key] = value;
  }
  return out;
}

/** Writes bench/results/<name>.json and says so. */
export function writeBenchResult(name: string, results: unknown): void {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
