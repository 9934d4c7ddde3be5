import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { FileFormatError } from '../../../core/errors.ts';
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
        writeFileAtomically(resolve(opts.out), text);
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
        throw new FileFormatError(`cannot read ${file}: ${(error as Error).message}`);
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
      });
    });
}

function workspacePath(command: Command): string {
  const { workspace } = command.optsWithGlobals<WorkspaceOption>();
  return workspace ?? defaultWorkspacePath();
}

function withStore(path: string, use: (store: LatencyStore) => void): void {
  const workspace = openWorkspace(path);
  try {
    use(new LatencyStore(workspace));
  } finally {
    workspace.close();
  }
}

/** Writes a sibling temporary file and renames it over the target, so a crash never leaves half a file. */
function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new FileFormatError(`cannot write ${path}: ${(error as Error).message}`);
  }
}
