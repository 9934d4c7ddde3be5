import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { translateFileError, writeFileAtomically } from '../../../core/fs-errors.ts';
import { defaultWorkspacePath, openWorkspace } from '../../../core/store/workspace.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { lutToCsv, lutToJson } from '../../../latency/store/lut-format.ts';

/**
 * `netadapt lut export` and `netadapt lut import`.
 *
 * Other `lut` subcommands (build / show / validate) attach to the same parent:
 *
 *   import { lutCommand, registerLutIo } from './lut-io.ts';
 *   const lut = lutCommand(program);          // finds or creates `netadapt lut`
 *   registerLutIo(lut);                       // export, import
 *   lut.command('show').action(...);          // your own subcommands
 *
 * `register(program)` does the first two lines, so index.ts can simply call `register(program)` and other modules
 * call `lutCommand(program)` to get the same parent.
 */
export function register(program: Command): void {
  registerLutIo(lutCommand(program));
}

/** The `lut` parent command of `program`, created on first use. */
export function lutCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'lut');
  if (existing) return existing;
  return program.command('lut').description('latency lookup tables: per-layer latencies measured on a device');
}

interface WorkspaceOption {
  workspace?: string;
}

export function registerLutIo(lut: Command): void {
  lut
    .command('export')
    .description('write a device\'s latency table to a JSON or CSV file, to share it')
    .requiredOption('--device <id>', 'device fingerprint id (see the Devices list)')
    .addOption(new Option('--format <format>', 'file format (default: from the --out extension, else json)').choices(['json', 'csv']))
    .requiredOption('--out <file>', 'output file ("-" for standard output)')
    .option('--options <runtime-options>', 'only this table, e.g. "threads=1;mask=f0;runs=50;warmup=10" (default: all)')
    .option('--workspace <path>', 'workspace file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .action(function (this: Command, opts: { device: string; format?: 'json' | 'csv'; out: string; options?: string }) {
      const format = opts.format ?? (extname(opts.out).toLowerCase() === '.csv' ? 'csv' : 'json');
      withStore(workspacePath(this), (store) => {
        const table = store.exportTable(opts.device, opts.options);
        const text = format === 'csv' ? lutToCsv(table) : lutToJson(table);
        const entries = table.entries.length;
        if (opts.out === '-') {
          process.stdout.write(text);
          return;
        }
        writeFileAtomically(resolve(opts.out), text, 'the latency table file');
        process.stdout.write(`exported ${entries} entr${entries === 1 ? 'y' : 'ies'} of device ${opts.device} to ${opts.out} (${format})\n`);
      });
    });

  lut
    .command('import')
    .description('add the entries of a JSON or CSV latency table file to the workspace')
    .argument('<file>', 'a file written by `netadapt lut export`')
    .option('--overwrite', 'replace existing entries whose values differ (default: keep the workspace\'s)')
    .option('--workspace <path>', 'workspace file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .action(function (this: Command, file: string, opts: { overwrite?: boolean }) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw translateFileError(error, { path: file, what: 'the latency table file', action: 'read' });
      }
      withStore(workspacePath(this), (store) => {
        const report = store.importTable(text, { overwrite: opts.overwrite === true, source: file });
        const lines = [
          `imported ${file} into device ${report.deviceId}${report.deviceCreated ? ' (new device)' : ''}:`,
          `  ${report.inserted} inserted, ${report.skipped} already present, ${report.conflicts} conflicting`,
        ];
        if (report.conflicts > 0) {
          lines.push(
            report.overwritten > 0
              ? `  ${report.overwritten} conflicting entries replaced by the file's values`
              : '  conflicting entries kept the workspace\'s values; run again with --overwrite to take the file\'s',
          );
          for (const signature of report.conflictExamples.slice(0, 5)) lines.push(`    conflict: ${signature}`);
        }
        if (report.modelMeasurementsInserted > 0) lines.push(`  ${report.modelMeasurementsInserted} whole-model measurements added`);
        if (report.obsolete > 0) {
          lines.push(`  ${report.obsolete} entries left out: measured for layer signatures of an earlier version whose layers changed meaning (re-measure them with \`netadapt lut build\`)`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }, true);
    });
}

function workspacePath(command: Command): string {
  const { workspace } = command.optsWithGlobals<WorkspaceOption>();
  return workspace ?? defaultWorkspacePath();
}

/** `create`: import makes the workspace when there is none; export only reads one. */
function withStore(path: string, use: (store: LatencyStore) => void, create = false): void {
  const workspace = openWorkspace(path, { mustExist: !create });
  try {
    use(new LatencyStore(workspace));
  } finally {
    workspace.close();
  }
}
