import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../core/errors.ts';
import { DeviceBridge, splitExitMarker } from '../../../../latency/android/device/bridge.ts';
import type { DeviceEvent } from '../../../../latency/android/device/bridge.ts';
import { DeviceCommandError, DeviceDisconnectedError, DeviceTimeoutError, ShellAbortedError } from '../../../../latency/android/device/errors.ts';
import { shellQuote } from '../../../../latency/android/device/shell-quote.ts';
import { adbBinary, adbSkipReason, AdbTestEnvironment } from '../adb-harness.ts';

const INJECTIONS = ['; rm -rf /', '$(reboot)', '`reboot`', 'a\nreboot', "a'b", 'a"b', 'a b', '../../etc', '&& reboot', '|reboot', '\u0000'];

describe('splitExitMarker', () => {
  it('splits the status off the end, tolerating CRLF and output without a final newline', () => {
    expect(splitExitMarker('hi\n__M=0__\n', '__M=')).toEqual({ stdout: 'hi\n', exitCode: 0 });
    expect(splitExitMarker('hi\r\n__M=127__\r\n', '__M=')).toEqual({ stdout: 'hi\r\n', exitCode: 127 });
    expect(splitExitMarker('no newline__M=1__', '__M=')).toEqual({ stdout: 'no newline', exitCode: 1 });
  });

  it('reports a missing or truncated marker as undefined', () => {
    expect(splitExitMarker('hi\n', '__M=')).toBeUndefined();
    expect(splitExitMarker('hi\n__M=1', '__M=')).toBeUndefined();
    expect(splitExitMarker('__M=0__ then more output\n', '__M=')).toBeUndefined();
  });
});

describe('DeviceBridge validation (no adb needed)', () => {
  // A binary that does not exist, so adbkit can never start a server even if validation were skipped.
  const bridge = new DeviceBridge({ port: 1, bin: '/nonexistent/adb' });

  it('rejects an empty serial', async () => {
    await expect(bridge.shell('', 'echo hi')).rejects.toBeInstanceOf(ValidationError);
  });

  it.each(INJECTIONS)('rejects serial %j before talking to adb', async (serial) => {
    await expect(bridge.shell(serial, 'echo hi')).rejects.toBeInstanceOf(ValidationError);
    await expect(bridge.getProperties(serial)).rejects.toBeInstanceOf(ValidationError);
  });

  it.each(INJECTIONS.map((s) => `/data/local/tmp/${s}`))('rejects remote path %j', async (path) => {
    await expect(bridge.push('emulator-5554', Buffer.from('x'), path)).rejects.toBeInstanceOf(ValidationError);
    await expect(bridge.stat('emulator-5554', path)).rejects.toBeInstanceOf(ValidationError);
  });

  it('rejects relative paths, bad modes and bad ports', async () => {
    await expect(bridge.push('emulator-5554', Buffer.from('x'), 'data/x')).rejects.toBeInstanceOf(ValidationError);
    await expect(bridge.push('emulator-5554', Buffer.from('x'), '/data/x', 0o17777)).rejects.toBeInstanceOf(ValidationError);
    expect(() => new DeviceBridge({ port: 70000 })).toThrow(ValidationError);
  });
});

describe.skipIf(!adbBinary)('DeviceBridge through a real adb server and the emulated device', () => {
  let env: AdbTestEnvironment;

  beforeAll(async () => {
    env = await AdbTestEnvironment.start({ model: 'Pixel Emu', device: 'emu_dev' });
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('lists the emulated device by its host:port serial', async () => {
    const devices = await env.bridge.listDevices();
    expect(devices).toContainEqual({ serial: `127.0.0.1:${env.device.port}`, state: 'device' });
  });

  it('reads system properties', async () => {
    const properties = await env.bridge.getProperties(env.serial);
    expect(properties['ro.product.model']).toBe('Pixel Emu');
    expect(properties['ro.product.device']).toBe('emu_dev');
  });

  it('returns exit codes 0, 1 and 127 with the output', async () => {
    expect(await env.bridge.shell(env.serial, 'echo hello')).toEqual({ stdout: 'hello\n', exitCode: 0 });
    expect(await env.bridge.shell(env.serial, 'echo before; false')).toEqual({ stdout: 'before\n', exitCode: 1 });
    const missing = await env.bridge.shell(env.serial, 'no_such_tool --x');
    expect(missing.exitCode).toBe(127);
    expect(missing.stdout).toContain('no_such_tool: not found');
    expect((await env.bridge.shell(env.serial, 'exit 3;')).exitCode).toBe(3);
  });

  it('strips pty CRLF line endings from streamed lines', async () => {
    env.device.setPtyLineEndings(true);
    try {
      const lines: string[] = [];
      const result = await env.bridge.shell(env.serial, 'echo one; echo two', { onOutputLine: (line) => lines.push(line) });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('one\r\ntwo\r\n');
      expect(lines).toEqual(['one', 'two']);
    } finally {
      env.device.setPtyLineEndings(false);
    }
  });

  it('pushes bytes with a mode; ls -l, stat and sync stat show it', async () => {
    const bytes = Buffer.from('model bytes \u0000\u00ff'.repeat(5000), 'latin1');
    await env.bridge.push(env.serial, bytes, '/data/local/tmp/netadapt-test/tool.bin', 0o755);
    const listing = await env.bridge.shell(env.serial, `ls -l ${shellQuote('/data/local/tmp/netadapt-test/tool.bin')}`);
    expect(listing.stdout).toMatch(new RegExp(`^-rwxr-xr-x .* ${bytes.length} .*tool\\.bin\\n$`));
    const stat = await env.bridge.shell(env.serial, "stat -c '%a %s' /data/local/tmp/netadapt-test/tool.bin");
    expect(stat.stdout).toBe(`755 ${bytes.length}\n`);
    const remote = await env.bridge.stat(env.serial, '/data/local/tmp/netadapt-test/tool.bin');
    expect(remote).toMatchObject({ permissions: 0o755, size: bytes.length, isDirectory: false });
    expect(env.device.fs.readFile('/data/local/tmp/netadapt-test/tool.bin').equals(bytes)).toBe(true);
    expect(await env.bridge.stat(env.serial, '/data/local/tmp/netadapt-test/missing')).toBeUndefined();
  });

  it('pipelines many pushes over one sync connection: large, empty and small files arrive intact', async () => {
    const syncBefore = env.device.services.filter((s) => s === 'sync:').length;
    const sendsBefore = env.device.syncRequests.filter((r) => r.startsWith('SEND')).length;
    // 200 KiB spans several 64 KiB DATA chunks; contents differ per file so a mix-up would show.
    const files = [
      { source: Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => (i * 31) % 251)), remotePath: '/data/local/tmp/pipe/big.bin' },
      { source: Buffer.alloc(0), remotePath: '/data/local/tmp/pipe/empty.bin', mode: 0o600 },
      ...Array.from({ length: 40 }, (_, i) => ({ source: Buffer.from(`file ${i} `.repeat(i + 1)), remotePath: `/data/local/tmp/pipe/f${i}.bin` })),
    ];
    await env.bridge.pushAll(env.serial, files);
    expect(env.device.services.filter((s) => s === 'sync:').length - syncBefore).toBe(1);
    expect(env.device.syncRequests.filter((r) => r.startsWith('SEND')).length - sendsBefore).toBe(files.length);
    for (const file of files) {
      const node = env.device.fs.stat(file.remotePath);
      expect(node?.kind === 'file' && node.data.equals(file.source)).toBe(true);
      expect(node?.perm).toBe(file.mode ?? 0o644);
    }
  });

  it('reports a file the device refuses as a command error, keeping the files pushed before it', async () => {
    await env.bridge.push(env.serial, Buffer.from('not a directory'), '/data/local/tmp/pipe-file');
    const error = await env.bridge
      .pushAll(env.serial, [
        { source: Buffer.from('first'), remotePath: '/data/local/tmp/pipe-ok/first.bin' },
        { source: Buffer.from('second'), remotePath: '/data/local/tmp/pipe-file/second.bin' },
        { source: Buffer.from('third'), remotePath: '/data/local/tmp/pipe-ok/third.bin' },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceCommandError);
    expect(env.device.fs.readFile('/data/local/tmp/pipe-ok/first.bin').toString()).toBe('first');
    // The bridge still works afterwards.
    expect((await env.bridge.shell(env.serial, 'echo ok')).stdout).toBe('ok\n');
  });

  it('pushes several files over one sync connection and lists them', async () => {
    const before = env.device.services.filter((s) => s === 'sync:').length;
    await env.bridge.pushAll(env.serial, [
      { source: Buffer.from('a'), remotePath: '/data/local/tmp/many/a.bin' },
      { source: Buffer.from('bb'), remotePath: '/data/local/tmp/many/b.bin', mode: 0o600 },
    ]);
    expect(env.device.services.filter((s) => s === 'sync:').length - before).toBe(1);
    const entries = await env.bridge.listDirectory(env.serial, '/data/local/tmp/many');
    expect(entries.map((e) => [e.name, e.size, e.permissions])).toEqual([
      ['a.bin', 1, 0o644],
      ['b.bin', 2, 0o600],
    ]);
  });

  it('quoted injection attempts are echoed literally, never executed', async () => {
    const canary = '/data/local/tmp/pwned';
    for (const evil of [`; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `x\ntouch ${canary}`, `'; touch ${canary}; '`, `"$(touch ${canary})"`]) {
      const result = await env.bridge.shell(env.serial, `echo ${shellQuote(evil)}`);
      expect(result.stdout).toBe(`${evil}\n`);
      expect(env.device.fs.stat(canary)).toBeUndefined();
    }
    // Control: the same text unquoted does run on the device, so the test above can fail.
    await env.bridge.shell(env.serial, `echo $(touch ${canary})`);
    expect(env.device.fs.stat(canary)).toBeDefined();
    env.device.fs.remove(canary);
  });

  it('injection through serials and paths never reaches the device', async () => {
    const commandsBefore = env.device.shellCommands.length;
    const servicesBefore = env.device.services.length;
    for (const evil of INJECTIONS) {
      await expect(env.bridge.shell(`${env.serial}${evil}`, 'echo hi')).rejects.toBeInstanceOf(ValidationError);
      await expect(env.bridge.push(env.serial, Buffer.from('x'), `/data/local/tmp/${evil}x`)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(env.device.shellCommands.length).toBe(commandsBefore);
    expect(env.device.services.length).toBe(servicesBefore);
  });

  it('times out a command that runs too long', async () => {
    await expect(env.bridge.shell(env.serial, 'echo started; sleep 5', { timeoutMs: 300 })).rejects.toBeInstanceOf(DeviceTimeoutError);
  });

  it('counts the time to open the session too (a frozen phone never answers it), and closes a session on abort', async () => {
    env.device.freeze();
    const started = Date.now();
    await expect(env.bridge.shell(env.serial, 'echo hi', { timeoutMs: 500 })).rejects.toBeInstanceOf(DeviceTimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
    env.device.thaw();
    const stop = new AbortController();
    const lines: string[] = [];
    const running = env.bridge.shell(env.serial, 'echo started; sleep 5; echo never', {
      signal: stop.signal,
      onOutputLine: (line) => {
        lines.push(line);
        stop.abort('enough');
      },
    });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShellAbortedError);
    expect((error as ShellAbortedError).message).toMatch(/was stopped: enough/);
    expect((error as ShellAbortedError).partialOutput).toBe('started\n');
    expect(lines).toEqual(['started']);
  });

  it('reports an unplug mid-command as DeviceDisconnectedError with the partial output, then sees the device come back', async () => {
    const events: DeviceEvent[] = [];
    const stop = await env.bridge.trackDevices((event) => events.push(event));
    try {
      env.device.unplugAfterOutput('step2');
      const error = await env.bridge.shell(env.serial, 'echo step1; echo step2; sleep 0.3; echo step3').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeviceDisconnectedError);
      expect((error as DeviceDisconnectedError).partialOutput).toBe('step1\nstep2\n');
      await env.waitUntilGone();
      await env.connect();
      await waitFor(() => events.some((e) => e.device.serial === env.serial && e.device.state === 'device' && e.type !== 'removed'));
      expect(events.some((e) => e.device.serial === env.serial && (e.type === 'removed' || e.device.state === 'offline'))).toBe(true);
      expect((await env.bridge.shell(env.serial, 'echo back')).stdout).toBe('back\n');
    } finally {
      stop();
    }
  });
});

if (!adbBinary) console.warn(adbSkipReason);

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!adbBinary)('an old device: protocol 0x01000000, 4 KiB max payload, pty line endings', () => {
  let env: AdbTestEnvironment;

  beforeAll(async () => {
    env = await AdbTestEnvironment.start({ protocolVersion: 0x01000000, maxPayload: 4096, ptyLineEndings: true });
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('streams output larger than one packet and pushes files larger than one packet', async () => {
    const bytes = Buffer.alloc(150_000, 7);
    bytes.write('\u00ff\u0000binary', 100, 'latin1');
    await env.bridge.push(env.serial, bytes, '/data/local/tmp/big.bin', 0o640);
    expect(env.device.fs.readFile('/data/local/tmp/big.bin').equals(bytes)).toBe(true);
    const words = Array.from({ length: 3000 }, (_, i) => `word${i}`);
    env.device.fs.writeFile('/data/local/tmp/words.txt', `${words.join('\n')}\n`);
    const result = await env.bridge.shell(env.serial, 'for w in a b; do echo "$w"; done; cat /data/local/tmp/words.txt');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\r\n').filter(Boolean)).toEqual(['a', 'b', ...words]);
    expect(result.stdout.length).toBeGreaterThan(6 * 4096);
  });
});
