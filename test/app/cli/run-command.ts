/** Runs one CLI command in-process through commander and returns what it printed with console.log. */
import { Command } from 'commander';
import { vi } from 'vitest';

export async function runCommand(register: (program: Command) => void, args: readonly string[]): Promise<string> {
  const program = new Command().name('netadapt').exitOverride();
  register(program);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    lines.push(parts.map(String).join(' '));
  });
  try {
    await program.parseAsync(['node', 'netadapt', ...args]);
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}
