/**
 * Pools part (b) of several ablation bench results (runs of the same setting with different search seeds, e.g. two
 * processes sharing one `--supernet-dir`) and judges the goals over all seeds with the bench's own `cbcGoals`.
 *
 * `npx tsx bench/ablation-combine.ts a.json b.json [--out combined.json]`
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { cbcGoals, type CbcPartResult } from './ablation.ts';

/** Fields that must agree for the runs to be one experiment. */
const SAME: readonly (keyof CbcPartResult)[] = ['pair', 'metric', 'targetFraction', 'setting', 'finalTrainingSteps', 'standaloneEpochs'];

export function combineCbcParts(sources: readonly { name: string; result: Record<string, unknown> }[]): Record<string, unknown> {
  if (sources.length === 0) throw new Error('no results to combine');
  const parts = sources.map(({ name, result }) => {
    const part = result['b_cbcVsNoCbc'] as CbcPartResult | undefined;
    if (!part || !Array.isArray(part.rows)) throw new Error(`${name} has no part (b) result (b_cbcVsNoCbc)`);
    return { name, part };
  });
  const [first] = parts as [(typeof parts)[number], ...typeof parts];
  for (const { name, part } of parts) {
    for (const key of SAME) {
      if (JSON.stringify(part[key]) !== JSON.stringify(first.part[key])) {
        throw new Error(`${name} differs from ${first.name} in ${key} (${JSON.stringify(part[key])} vs ${JSON.stringify(first.part[key])}): not one experiment`);
      }
    }
  }
  const rows = parts.flatMap(({ part }) => part.rows);
  const seen = new Set<string>();
  for (const row of rows) {
    const key = `${row.cbc ? 'CBC' : 'no CBC'} seed ${row.seed}`;
    if (seen.has(key)) throw new Error(`${key} appears in more than one result: combine runs with different search seeds`);
    seen.add(key);
  }
  const unreachable = parts.flatMap(({ part }) => part.unreachable);
  const { summary, removesWholeLayers, scoresHigher } = cbcGoals(rows, unreachable, first.part.standaloneEpochs);
  const { rows: _rows, unreachable: _unreachable, seeds: _seeds, ...setting } = first.part;
  return {
    benchmark: 'ablation part (b), combined',
    sources: parts.map(({ name }) => name),
    ...setting,
    seeds: [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b),
    unreachable,
    rows,
    ...(summary ? { summary } : {}),
    goals: { b_cbcRemovesWholeLayers: removesWholeLayers, b_cbcScoresHigher: scoresHigher },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : undefined;
  const files = outAt < 0 ? args : args.filter((_, i) => i !== outAt && i !== outAt + 1);
  try {
    if (outAt >= 0 && out === undefined) throw new Error('--out takes a file name');
    const combined = combineCbcParts(files.map((name) => ({ name, result: JSON.parse(readFileSync(name, 'utf8')) as Record<string, unknown> })));
    const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : 'n/a');
    const goals = combined['goals'] as Record<string, { met: boolean; [key: string]: unknown }>;
    const summary = combined['summary'] as Record<string, Record<string, unknown>> | undefined;
    console.log(`${files.length} results, search seeds ${(combined['seeds'] as number[]).join(', ')}`);
    if (summary) {
      for (const side of ['cbc', 'noCbc'] as const) {
        const s = summary[side] as Record<string, unknown>;
        console.log(
          `  ${side === 'cbc' ? 'CBC   ' : 'no CBC'}: layers removed ${(s['removedLayerCounts'] as number[]).join(', ')}; median test after the final training ${pct(s['medianFinalTestTop1'])}` +
            `, trained alone from scratch ${pct(s['medianStandaloneTestTop1'])}`,
        );
      }
      console.log(`  CBC higher in ${String(summary['cbcHigherInSeeds'])} seeds after the final training, ${String(summary['cbcStandaloneHigherInSeeds'] ?? 'n/a')} trained alone`);
    }
    for (const [name, goal] of Object.entries(goals)) console.log(`  ${name}: ${goal.met ? 'met' : 'NOT met'} (${String(goal['criterion'])})`);
    if (out) {
      writeFileSync(out, `${JSON.stringify(combined, null, 2)}\n`);
      console.log(`wrote ${out}`);
    }
  } catch (error) {
    console.error(`ablation-combine: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
