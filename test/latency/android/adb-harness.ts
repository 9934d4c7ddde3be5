/**
 * Starts a private adb server (its own port and HOME, so a developer's adb and keys are untouched),
 * connects it to an EmulatedAdbDevice with `adb connect`, and tears both down again.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeviceBridge } from '../../../latency/android/device/bridge.ts';
import { EmulatedAdbDevice } from './emulated/adbd.ts';
import type { EmulatedDeviceOptions } from './emulated/adbd.ts';

const execFileAsync = promisify(execFile);

/** Path of the adb binary ($ADB or `adb` on PATH), or undefined when it is not installed. */
export async function findAdb(): Promise<string | undefined> {
  const candidate = process.env.ADB ?? 'adb';
  try {
    await execFileAsync(candidate, ['version'], { timeout: 10_000 });
    return candidate;
  } catch {
    return undefined;
  }
}

export const adbBinary = await findAdb();
/** Reason printed when adb-dependent tests are skipped. */
export const adbSkipReason = adbBinary ? '' : 'adb binary not found (install Debian package "adb" or set $ADB); skipping tests that need a real adb server';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A private adb server: its own port and HOME, killed again by stop(). */
export class PrivateAdbServer {
  readonly bridge: DeviceBridge;

  private constructor(
    readonly adb: string,
    readonly adbPort: number,
    readonly home: string,
  ) {
    this.bridge = new DeviceBridge({ port: adbPort, bin: adb });
  }

  static async start(): Promise<PrivateAdbServer> {
    if (!adbBinary) throw new Error(adbSkipReason);
    const home = await mkdtemp(join(tmpdir(), 'netadapt-adb-home-'));
    const server = new PrivateAdbServer(adbBinary, await freePort(), home);
    await server.adbCommand(['start-server']);
    return server;
  }

  async adbCommand(args: string[]): Promise<string> {
    const { stdout, stderr } = await execFileAsync(this.adb, ['-P', String(this.adbPort), ...args], {
      env: { ...process.env, HOME: this.home, ANDROID_ADB_SERVER_PORT: String(this.adbPort) },
      timeout: 30_000,
    });
    return `${stdout}${stderr}`;
  }

  /** `adb connect` a TCP device and wait until adb reports it as "device". */
  async connect(serial: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastOutput = '';
    while (Date.now() < deadline) {
      const devices = await this.bridge.listDevices();
      const state = devices.find((d) => d.serial === serial)?.state;
      if (state === 'device') return;
      if (state === undefined) lastOutput = await this.adbCommand(['connect', serial]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`emulated device ${serial} did not come online: ${lastOutput}`);
  }

  /** Wait until the adb server no longer lists the device as online. */
  async waitUntilGone(serial: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const devices = await this.bridge.listDevices();
      if (!devices.some((d) => d.serial === serial && d.state === 'device')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`device ${serial} still online`);
  }

  async stop(): Promise<void> {
    try {
      await this.adbCommand(['kill-server']);
    } catch {
      // already gone
    }
    await rm(this.home, { recursive: true, force: true });
  }
}

/** A private adb server connected to an in-process EmulatedAdbDevice (tests can reach into the device). */
export class AdbTestEnvironment {
  private constructor(
    readonly server: PrivateAdbServer,
    readonly device: EmulatedAdbDevice,
  ) {}

  static async start(options: EmulatedDeviceOptions = {}): Promise<AdbTestEnvironment> {
    const device = await EmulatedAdbDevice.start(options);
    const server = await PrivateAdbServer.start();
    const environment = new AdbTestEnvironment(server, device);
    await environment.connect();
    return environment;
  }

  get serial(): string {
    return this.device.serial;
  }

  get bridge(): DeviceBridge {
    return this.server.bridge;
  }

  get adb(): string {
    return this.server.adb;
  }

  get adbPort(): number {
    return this.server.adbPort;
  }

  adbCommand(args: string[]): Promise<string> {
    return this.server.adbCommand(args);
  }

  connect(timeoutMs?: number): Promise<void> {
    return this.server.connect(this.serial, timeoutMs);
  }

  waitUntilGone(timeoutMs?: number): Promise<void> {
    return this.server.waitUntilGone(this.serial, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.device.close();
  }
}
