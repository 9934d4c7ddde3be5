import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../../../latency/android/device/shell-quote.ts';
import { buildBatchScript } from '../../../../latency/android/benchmark/batch-script.ts';
import { EmulatedAdbDevice } from './adbd.ts';
import { A_OKAY, encodePacket, PacketDecoder, payloadChecksum } from './adb-packets.ts';
import { ShellSession } from './shell-interpreter.ts';

const hostSh = spawnSync('sh', ['-c', 'true']).status === 0 ? 'sh' : undefined;

describe('emulated shell', () => {
  let device: EmulatedAdbDevice;

  beforeAll(async () => {
    device = await EmulatedAdbDevice.start();
  });

  afterAll(async () => {
    await device.close();
  });

  async function run(script: string): Promise<{ output: string; status: number }> {
    let output = '';
    const status = await new ShellSession(device.state, new AbortController().signal).run(script, (_fd, text) => (output += text));
    return { output, status };
  }

  /** Scripts in the subset both shells understand; the emulator must print exactly what /bin/sh prints. */
  const DIFFERENTIAL_SCRIPTS = [
    'echo a && false || echo b',
    'false; echo "rc=$?"',
    'true && echo yes; false && echo no; echo end',
    'for m in 1 2 3; do echo "x${m}y"; done',
    "for m in 'a b' c; do echo \"[$m]\"; done",
    'echo "$(echo inner; echo two)"',
    'echo $(echo  split   words )',
    'echo `echo back`',
    "echo 'single $x' \"double \\$x\" \\$x",
    'echo a\\ b "c\\"d"',
    '(exit 3); echo "sub=$?"',
    'echo one # a comment',
    'echo "__NETADAPT_END ${m} rc=$?__"',
    "echo ''\"\"x",
  ];

  it.skipIf(!hostSh).each(DIFFERENTIAL_SCRIPTS)('matches /bin/sh for %j', async (script) => {
    const expected = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    const actual = await run(script);
    expect(actual.output).toBe(expected.stdout);
    expect(actual.status).toBe(expected.status);
  });

  it('shellQuote survives the emulated shell and /bin/sh for any string', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')), async (text) => {
        const { output } = await run(`echo -n ${shellQuote(text)}`);
        expect(output).toBe(text);
      }),
      { numRuns: 500 },
    );
    if (!hostSh) return;
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')), (text) => {
        const result = spawnSync('sh', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' });
        expect(result.stdout).toBe(text);
      }),
      { numRuns: 150 },
    );
  });

  it('the batch script the runner emits is valid for /bin/sh too', () => {
    if (!hostSh) return;
    const script = buildBatchScript(['0123456789abcdef'], {
      toolPath: '/bin/echo',
      modelDir: '/data/local/tmp/netadapt',
      threads: 1,
      cpuMask: undefined,
      warmupRuns: 1,
      numRuns: 2,
      cooldownMs: 0,
      delegate: 'xnnpack',
    });
    const result = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(result.stdout).toBe(
      '__NETADAPT_BEGIN 0123456789abcdef__\n' +
        '--graph=/data/local/tmp/netadapt/0123456789abcdef.tflite --num_threads=1 --warmup_runs=1 --warmup_min_secs=0 --num_runs=2 --min_secs=0 --use_xnnpack=true\n' +
        '__NETADAPT_END 0123456789abcdef rc=0__\n',
    );
  });

  it('prints sh errors for unknown commands and unsupported syntax', async () => {
    expect(await run('frobnicate now')).toEqual({ output: 'sh: frobnicate: not found\n', status: 127 });
    expect((await run('echo a | cat')).status).toBe(2);
    expect((await run('for x in a; echo')).output).toMatch(/syntax error/);
    expect(await run('/data/local/tmp/nothing')).toEqual({ output: 'sh: /data/local/tmp/nothing: not found\n', status: 127 });
  });

  it('implements the file commands the profiler uses', async () => {
    expect((await run('mkdir -p /data/local/tmp/a/b && touch /data/local/tmp/a/b/f && chmod 700 /data/local/tmp/a/b/f && stat -c "%a %s %F" /data/local/tmp/a/b/f')).output).toBe(
      '700 0 regular file\n',
    );
    expect((await run('ls /data/local/tmp/a/b; rm -r /data/local/tmp/a; ls /data/local/tmp/a')).output).toBe(
      'f\nls: /data/local/tmp/a: No such file or directory\n',
    );
    expect((await run('grep -H . /sys/devices/system/cpu/cpu[0-1]/cpufreq/cpuinfo_max_freq')).output).toBe(
      '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq:1804800\n/sys/devices/system/cpu/cpu1/cpufreq/cpuinfo_max_freq:1804800\n',
    );
    expect((await run('getprop ro.product.cpu.abi; getprop no.such.prop fallback')).output).toBe('arm64-v8a\nfallback\n');
    expect((await run('nproc; taskset f0 nproc; taskset 0 nproc')).output).toBe('8\n4\ntaskset: sched_setaffinity: Invalid argument\n');
    expect((await run('cat /nope 2>/dev/null; echo "rc=$?"')).output).toBe('rc=1\n');
    expect((await run('echo hi > /data/local/tmp/out.txt; cat /data/local/tmp/out.txt')).output).toBe('hi\n');
  });
});

describe('adb packet codec', () => {
  it('round-trips packets split at arbitrary points and checks magic and checksum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 50 }), (payload, arg0, arg1, step) => {
        const wire = encodePacket({ command: A_OKAY, arg0, arg1, payload: Buffer.from(payload) });
        expect(wire.readUInt32LE(16)).toBe(payloadChecksum(payload));
        const decoder = new PacketDecoder(4096);
        const packets = [];
        for (let offset = 0; offset < wire.length; offset += step) packets.push(...decoder.push(wire.subarray(offset, offset + step)));
        expect(packets).toHaveLength(1);
        expect(packets[0]).toMatchObject({ command: A_OKAY, arg0: arg0 >>> 0, arg1: arg1 >>> 0 });
        expect(Buffer.compare(packets[0]!.payload, Buffer.from(payload))).toBe(0);
      }),
    );
    const corrupt = encodePacket({ command: A_OKAY, arg0: 1, arg1: 2, payload: Buffer.from('x') });
    corrupt.writeUInt32LE(0, 20);
    expect(() => new PacketDecoder(4096).push(corrupt)).toThrow(/magic/);
    const badSum = encodePacket({ command: A_OKAY, arg0: 1, arg1: 2, payload: Buffer.from('x') });
    badSum.writeUInt32LE(12345, 16);
    expect(() => new PacketDecoder(4096).push(badSum)).toThrow(/checksum/);
  });
});
