// Tests app/cli/commands/device.ts with the emulated phone.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../../app/cli/commands/device.ts';
import { UserError, ValidationError } from '../../../core/errors.ts';
import { adbBinary, AdbTestEnvironment } from '../../latency/android/adb-harness.ts';
import { BENCHMARK_TOOL_PATH } from '../../latency/android/emulated/adbd.ts';
import { fakeElfBinary } from '../../latency/fake-models.ts';

async function runCli(args: string[]): Promise<string[]> {
  const program = new Command().exitOverride();
  register(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    await program.parseAsync(['node', 'netadapt', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines;
}

describe.skipIf(!adbBinary)('netadapt device', () => {
  let env: AdbTestEnvironment;
  let scratch: string;

  beforeAll(async () => {
    env = await AdbTestEnvironment.start({ model: 'CLI Phone' });
    scratch = await mkdtemp(join(tmpdir(), 'netadapt-cli-'));
  });

  afterAll(async () => {
    await env?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('lists devices with serial, model and state; --adb-port works before or after the subcommand', async () => {
    const port = String(env.adbPort);
    for (const args of [['device', '--adb-port', port, 'list'], ['device', 'list', '--adb-port', port]]) {
      const lines = await runCli(args);
      expect(lines[0]).toMatch(/^SERIAL\s+MODEL\s+STATE$/);
      expect(lines.some((line) => line.startsWith(env.serial) && line.includes('CLI Phone') && line.endsWith('device'))).toBe(true);
    }
  });

  it('setup installs the benchmark binary; info prints the fingerprint', async () => {
    env.device.fs.remove(BENCHMARK_TOOL_PATH);
    const binary = join(scratch, 'benchmark_model');
    await writeFile(binary, fakeElfBinary('cli'));
    const setup = await runCli(['device', '--adb-port', String(env.adbPort), 'setup', '--serial', env.serial, '--benchmark-binary', binary]);
    expect(setup[0]).toMatch(/^installed benchmark_model on .* \(sha256 [0-9a-f]{64}\)$/);
    expect(env.device.fs.stat(BENCHMARK_TOOL_PATH)?.perm).toBe(0o755);

    const info = await runCli(['device', '--adb-port', String(env.adbPort), 'info', '--json']);
    const parsed = JSON.parse(info.join('\n')) as { id: string; fingerprint: { model: string; cpuMask: string; benchmarkToolSha256: string } };
    expect(parsed.id).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.fingerprint).toMatchObject({ model: 'CLI Phone', cpuMask: '80' });
    expect(setup[0]).toContain(parsed.fingerprint.benchmarkToolSha256);

    const table = await runCli(['device', '--adb-port', String(env.adbPort), 'info', '--serial', env.serial, '--cpu-mask', 'f0']);
    expect(table).toContainEqual(expect.stringMatching(/^cpu mask\s+f0$/));
    expect(table).toContainEqual(expect.stringMatching(/^model\s+NetAdapt CLI Phone/));
  });

  it('gives actionable errors', async () => {
    await expect(runCli(['device', '--adb-port', '0', 'list'])).rejects.toBeInstanceOf(ValidationError);
    await expect(runCli(['device', '--adb-port', String(env.adbPort), 'info', '--serial', 'nope; reboot'])).rejects.toBeInstanceOf(ValidationError);
    await expect(runCli(['device', '--adb-port', String(env.adbPort), 'info', '--serial', 'emulator-9999'])).rejects.toBeInstanceOf(UserError);
  });
});
