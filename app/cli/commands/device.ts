import type { Command } from 'commander';
import { UserError, ValidationError } from '../../../core/errors.ts';
import { DeviceBridge, defaultAdbPort } from '../../../latency/android/device/bridge.ts';
import { fingerprintId, readDeviceFingerprint } from '../../../latency/android/device/fingerprint.ts';
import type { DeviceFingerprint } from '../../../latency/android/device/fingerprint.ts';
import { BenchmarkRunner } from '../../../latency/android/benchmark/runner.ts';
import { probeDelegates } from '../../../latency/android/device/delegate-probe.ts';
import type { DelegateSupport } from '../../../latency/android/device/delegate-probe.ts';

export interface AdbCliOptions {
  adbPort?: string;
  adbHost?: string;
}

type Print = (line: string) => void;

export function bridgeFromOptions(options: AdbCliOptions): DeviceBridge {
  const port = options.adbPort === undefined ? defaultAdbPort() : Number(options.adbPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(`--adb-port must be 1..65535, got ${options.adbPort}`);
  return new DeviceBridge({ port, ...(options.adbHost === undefined ? {} : { host: options.adbHost }) });
}

/** The given serial, or the only online device when none is given. */
export async function resolveSerial(bridge: DeviceBridge, serial: string | undefined): Promise<string> {
  if (serial !== undefined) return serial;
  const online = (await bridge.listDevices()).filter((device) => device.state === 'device');
  if (online.length === 1 && online[0]) return online[0].serial;
  throw new UserError(
    online.length === 0 ? 'no device is attached and online' : `${online.length} devices are attached; choose one with --serial`,
    online.length === 0 ? ['plug in the phone with USB debugging enabled, then run `netadapt device list`'] : online.map((d) => d.serial),
  );
}

export async function listDevicesCommand(bridge: DeviceBridge, print: Print): Promise<void> {
  const devices = await bridge.listDevices();
  if (devices.length === 0) {
    print('no devices attached (enable USB debugging on the phone and accept the prompt)');
    return;
  }
  const rows = [['SERIAL', 'MODEL', 'STATE']];
  for (const device of devices) {
    let model = '-';
    if (device.state === 'device') {
      model = (await bridge.getProperties(device.serial))['ro.product.model'] || '-';
    }
    rows.push([device.serial, model, device.state]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  for (const row of rows) print(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

export async function setupDeviceCommand(bridge: DeviceBridge, serial: string, binaryPath: string, print: Print): Promise<void> {
  const sha256 = await new BenchmarkRunner(bridge).installTool(serial, binaryPath);
  print(`installed benchmark_model on ${serial} at /data/local/tmp/benchmark_model (sha256 ${sha256})`);
  const fingerprint = await readDeviceFingerprint(bridge, serial);
  print(`device fingerprint ${fingerprintId(fingerprint)} (${fingerprint.model}, cores ${fingerprint.cpuMask}, ${fingerprint.threads} thread)`);
}

export function formatFingerprint(fingerprint: DeviceFingerprint): string[] {
  const cores = fingerprint.cores.map((core) => `${core.index}:${core.maxFreqKHz === null ? '?' : `${(core.maxFreqKHz / 1e6).toFixed(2)}GHz`}`);
  return [
    `id               ${fingerprintId(fingerprint)}`,
    `model            ${fingerprint.manufacturer} ${fingerprint.model} (${fingerprint.device})`,
    `soc              ${[fingerprint.socManufacturer, fingerprint.socModel].filter(Boolean).join(' ') || '-'} / platform ${fingerprint.platform || '-'}`,
    `android sdk      ${fingerprint.sdk}`,
    `build            ${fingerprint.buildFingerprint}`,
    `abi              ${fingerprint.abi}`,
    `cores            ${cores.join(' ')}`,
    `governor         ${fingerprint.governor}`,
    `benchmark tool   ${fingerprint.benchmarkToolSha256 ?? 'not installed (run `netadapt device setup --benchmark-binary PATH`)'}`,
    `threads          ${fingerprint.threads}`,
    `cpu mask         ${fingerprint.cpuMask}`,
  ];
}

export async function deviceInfoCommand(
  bridge: DeviceBridge,
  serial: string,
  options: { threads?: string; cpuMask?: string; json?: boolean; delegates?: boolean },
  print: Print,
): Promise<void> {
  const threads = options.threads === undefined ? 1 : Number(options.threads);
  const fingerprint = await readDeviceFingerprint(bridge, serial, {
    threads,
    ...(options.cpuMask === undefined ? {} : { cpuMask: options.cpuMask }),
  });
  const delegates = options.delegates === false || fingerprint.benchmarkToolSha256 === null ? undefined : await probeDelegates(bridge, serial);
  if (options.json) print(JSON.stringify({ id: fingerprintId(fingerprint), fingerprint, ...(delegates ? { delegates } : {}) }, null, 2));
  else {
    for (const line of formatFingerprint(fingerprint)) print(line);
    if (delegates) print(`delegates        ${formatDelegates(delegates)}`);
  }
}

export function formatDelegates(support: readonly DelegateSupport[]): string {
  const works = support.filter((s) => s.works).map((s) => s.delegate);
  const not = support.filter((s) => !s.works).map((s) => `${s.delegate}: ${s.reason ?? 'does not work'}`);
  return `${works.join(', ') || 'none'}${not.length > 0 ? ` (not working: ${not.join('; ')})` : ''}`;
}

export async function connectDeviceCommand(bridge: DeviceBridge, address: string, print: Print): Promise<void> {
  const serial = await bridge.connect(address);
  const state = (await bridge.listDevices()).find((d) => d.serial === serial)?.state ?? 'not listed';
  print(`connected ${serial} (${state}); measure on it with --device ${serial}`);
  if (state !== 'device') print('it is not online yet: accept the debugging prompt on the phone, or check the address and port');
}

export function register(program: Command): void {
  const print: Print = (line) => console.log(line);
  const device = program
    .command('device')
    .description('Android devices over adb: list them, install the benchmark tool, show a fingerprint')
    .option('--adb-port <port>', 'port of the adb server (default $ANDROID_ADB_SERVER_PORT or 5037)')
    .option('--adb-host <host>', 'host of the adb server (default 127.0.0.1)');
  const adbOptions = (command: Command): AdbCliOptions => command.optsWithGlobals<AdbCliOptions>();

  device
    .command('list')
    .description('list attached devices (serial, model, state)')
    .action(async (_options: object, command: Command) => {
      await listDevicesCommand(bridgeFromOptions(adbOptions(command)), print);
    });

  device
    .command('setup')
    .description("install TFLite's benchmark_model (android_aarch64 build) on the device")
    .option('--serial <serial>', 'device serial (default: the only attached device)')
    .requiredOption('--benchmark-binary <path>', 'local path of the benchmark_model binary')
    .action(async (options: { serial?: string; benchmarkBinary: string }, command: Command) => {
      const bridge = bridgeFromOptions(adbOptions(command));
      await setupDeviceCommand(bridge, await resolveSerial(bridge, options.serial), options.benchmarkBinary, print);
    });

  device
    .command('connect')
    .description('attach a phone over the network: adb connect host:port (adb tcpip, or a device farm such as DeviceFarmer STF)')
    .argument('<host:port>', 'the address, e.g. 192.168.1.20:5555')
    .action(async (address: string, _options: object, command: Command) => {
      await connectDeviceCommand(bridgeFromOptions(adbOptions(command)), address, print);
    });

  device
    .command('info')
    .description('print the device fingerprint that latency tables are keyed by')
    .option('--serial <serial>', 'device serial (default: the only attached device)')
    .option('--threads <n>', 'benchmark threads', '1')
    .option('--cpu-mask <hex>', 'taskset mask (default: the fastest cluster)')
    .option('--json', 'print JSON')
    .option('--no-delegates', 'do not try which delegates work (a few benchmark runs)')
    .action(async (options: { serial?: string; threads?: string; cpuMask?: string; json?: boolean; delegates?: boolean }, command: Command) => {
      const bridge = bridgeFromOptions(adbOptions(command));
      await deviceInfoCommand(bridge, await resolveSerial(bridge, options.serial), options, print);
    });
}
