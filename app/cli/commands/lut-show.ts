import type { Command } from 'commander';
import { enumerateLayerVariants, loadNetwork, resolveNetwork, searchSpace } from '../../../core/arch/index.ts';
import { defaultWorkspacePath, openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';

/** `netadapt lut show`: the tables of the workspace with their failed entries and throttled batches. */
export function registerLutShow(lut: Command): void {
  lut
    .command('show')
    .description('list the latency tables of the workspace (with failed entries and throttled batches), or the coverage of one network')
    .option('--device <id>', 'device fingerprint id')
    .option('--network <network>', 'zoo name or network .json: coverage of its search space')
    .option('--workspace <path>', 'workspace file')
    .action((options: { device?: string; network?: string; workspace?: string }) => {
      const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath(), { mustExist: true });
      try {
        for (const line of describeTables(new LatencyStore(workspace), options)) console.log(line);
      } finally {
        workspace.close();
      }
    });
}

export function describeTables(store: LatencyStore, options: { device?: string; network?: string }): string[] {
  const lines: string[] = [];
  const devices = new Map(store.listDevices().map((d) => [d.id, d]));
  const tables = store.listTables(options.device);
  if (tables.length === 0) lines.push('no latency tables in this workspace yet (netadapt lut build --network NAME --device host)');
  const spec = options.network ? loadNetwork(options.network) : undefined;
  const signatures = spec ? [...enumerateLayerVariants(spec).keys()] : [];
  for (const table of tables) {
    lines.push(`${table.deviceId}  ${devices.get(table.deviceId)?.label ?? ''}`);
    lines.push(`  options ${table.runtimeOptions}: ${table.entries} entries, newest ${table.newestMeasuredAt}`);
    lines.push(`  ${JSON.stringify(store.stats(table.deviceId, table.runtimeOptions))}`);
    const failures = store.tableFailures(table.deviceId, table.runtimeOptions);
    if (failures.length > 0) {
      lines.push(`  ${failures.length} failed entr${failures.length === 1 ? 'y' : 'ies'} (skipped by builds unless --retry-failed):`);
      for (const f of failures.slice(0, 20)) lines.push(`    ${f.reason} (${f.attempts}×, ${f.failedAt}): ${f.signature}: ${f.message}`);
      if (failures.length > 20) lines.push(`    ... and ${failures.length - 20} more`);
    }
    const conditions = store.batchConditions(table.deviceId, table.runtimeOptions);
    const throttled = conditions.filter((c) => c.verdict !== 'stable');
    if (conditions.length > 0) {
      lines.push(`  ${conditions.length} measured batches: ${throttled.length} throttled (${throttled.filter((c) => c.verdict === 'throttled-remeasured').length} measured again after a cool-down)`);
      for (const c of throttled.slice(0, 5)) lines.push(`    ${c.recordedAt} ${c.serial} attempt ${c.attempt} ${c.verdict}: ${c.reasons.join('; ')}`);
    }
    if (spec) {
      const coverage = store.coverage(table.deviceId, table.runtimeOptions, signatures);
      const failed = store.failedSignatures(table.deviceId, table.runtimeOptions, signatures).size;
      lines.push(
        `  coverage of ${spec.name} (${searchSpace(spec).layers.length} searchable layers, ${(resolveNetwork(spec).macs / 1e6).toFixed(1)}M MACs): ` +
          `${JSON.stringify({ ...coverage, failed })}`,
      );
    }
  }
  return lines;
}
