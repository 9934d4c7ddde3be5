/**
 * DeviceBridge: the profiler's only door to Android devices, over the adb server via @devicefarmer/adbkit.
 * Every serial and remote path is validated; shell commands get an exit-status marker because the legacy
 * `shell:` service merges stdout/stderr and drops the exit code.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { createRequire } from 'node:module';
import type { Client, Device, DeviceClient } from '@devicefarmer/adbkit';
import type * as AdbkitModule from '@devicefarmer/adbkit';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { FileFormatError, ValidationError } from '../../../core/errors.ts';
import { ShellSessionReader } from './shell-session.ts';
import {
  AdbUnavailableError,
  DeviceCommandError,
  DeviceDisconnectedError,
  DeviceNotFoundError,
} from './errors.ts';
import { validateRemotePath, validateSerial } from './shell-quote.ts';

export interface DeviceBridgeOptions {
  /** adb server host (default 127.0.0.1). */
  host?: string;
  /** adb server port (default $ANDROID_ADB_SERVER_PORT or 5037). */
  port?: number;
  /** adb binary used to start the server when it is not running (default "adb" on PATH). */
  bin?: string;
}

export type DeviceState = 'device' | 'offline' | 'unauthorized' | 'emulator' | 'unknown';

export interface AttachedDevice {
  serial: string;
  state: DeviceState;
}

export type DeviceEvent = { type: 'added' | 'removed' | 'changed'; device: AttachedDevice };

export interface ShellOptions {
  /** Close the session and throw DeviceTimeoutError after this long, opening included (default: no limit). */
  timeoutMs?: number;
  /** Closes the session; the call rejects with ShellAbortedError carrying the output so far. */
  signal?: AbortSignal;
  /** Called with each complete output line (without its line ending) as it arrives. */
  onOutputLine?: (line: string) => void;
}

export type { ShellResult } from './shell-session.ts';
import type { ShellResult } from './shell-session.ts';

export interface RemoteFileStat {
  /** Permission bits, e.g. 0o755. */
  permissions: number;
  isDirectory: boolean;
  size: number;
  mtime: Date;
}

export interface RemoteEntry extends RemoteFileStat {
  name: string;
}

export interface PushItem {
  /** A local file path or the bytes themselves. */
  source: string | Uint8Array;
  remotePath: string;
  /** Permission bits (default 0o644). */
  mode?: number;
}

// adbkit's methods return Bluebird promises whose types are not installed; these describe what we use.
interface AdbTracker extends EventEmitter {
  end(): unknown;
}
interface AdbSync {
  stat(path: string): PromiseLike<AdbStats>;
  readdir(path: string): PromiseLike<AdbEntry[]>;
  end(): unknown;
  /** adbkit internals used to pipeline SEND requests (adbkit's own push waits for each file's reply). */
  readonly connection: { getSocket(): Writable };
  readonly parser: {
    readAscii(howMany: number): PromiseLike<string>;
    readBytes(howMany: number): PromiseLike<Buffer>;
    readError(): PromiseLike<never>;
  };
}
interface AdbStats {
  mode: number;
  size: number | bigint;
  mtime: Date;
}
interface AdbEntry extends AdbStats {
  name: string;
}

// adbkit is CommonJS with an __esModule default; Node and vitest disagree on what a default import
// yields, so load it with require for one behaviour everywhere.
const adbkit = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof AdbkitModule;

const EXIT_MARKER_PREFIX = '__NETADAPT_RC_';
const DEFAULT_ADB_PORT = 5037;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

export function defaultAdbPort(): number {
  const fromEnv = Number(process.env.ANDROID_ADB_SERVER_PORT);
  return Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 65536 ? fromEnv : DEFAULT_ADB_PORT;
}

export class DeviceBridge {
  readonly host: string;
  readonly port: number;
  readonly bin: string;
  private readonly client: Client;

  constructor(options: DeviceBridgeOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? defaultAdbPort();
    this.bin = options.bin ?? 'adb';
    if (!Number.isInteger(this.port) || this.port <= 0 || this.port >= 65536) {
      throw new ValidationError(`adb port must be an integer between 1 and 65535, got ${options.port}`);
    }
    this.client = adbkit.Adb.createClient({ host: this.host, port: this.port, bin: this.bin });
  }

  /**
   * `adb connect host:port`: attach a phone reachable over TCP (a phone in `adb tcpip` mode on the network, or one
   * lent by a device farm such as DeviceFarmer STF, whose "Remote debug" shows this address). Returns its serial.
   */
  async connect(address: string): Promise<string> {
    const match = /^([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(address.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      throw new ValidationError(`not a phone address: ${JSON.stringify(address)}`, ['give host:port, e.g. 192.168.1.20:5555 or stf.example.com:7401']);
    }
    const host = match[1] as string;
    await this.wrap<string>(undefined, () => this.client.connect(host, port));
    return `${host}:${port}`;
  }

  async disconnect(serial: string): Promise<void> {
    const [host, port] = [serial.slice(0, serial.lastIndexOf(':')), Number(serial.slice(serial.lastIndexOf(':') + 1))];
    await this.wrap(serial, () => this.client.disconnect(host, port));
  }

  async listDevices(): Promise<AttachedDevice[]> {
    const devices = await this.wrap<Device[]>(undefined, () => this.client.listDevices());
    return devices.map((device) => ({ serial: device.id, state: device.type }));
  }

  /**
   * Watch devices being plugged in, removed or changing state. Returns a function that stops watching.
   * `onError` receives the failure if the adb server goes away.
   */
  async trackDevices(onEvent: (event: DeviceEvent) => void, onError?: (error: Error) => void): Promise<() => void> {
    const tracker = await this.wrap<AdbTracker>(undefined, () => this.client.trackDevices());
    const toDevice = (device: { id: string; type: DeviceState }): AttachedDevice => ({ serial: device.id, state: device.type });
    tracker.on('add', (device: Device) => onEvent({ type: 'added', device: toDevice(device) }));
    tracker.on('remove', (device: Device) => onEvent({ type: 'removed', device: toDevice(device) }));
    tracker.on('change', (device: Device) => onEvent({ type: 'changed', device: toDevice(device) }));
    tracker.on('error', (error: Error) => onError?.(this.translate(error, undefined)));
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      tracker.end();
    };
  }

  /**
   * Run a command in the device shell and return its output and exit status. The time limit covers opening the
   * session too (a frozen phone never answers the open), and `signal` closes the session early.
   */
  async shell(serial: string, command: string, options: ShellOptions = {}): Promise<ShellResult> {
    const device = this.device(serial);
    const body = command.trim();
    if (body === '') throw new ValidationError('empty shell command');
    const marker = `${EXIT_MARKER_PREFIX}${randomBytes(6).toString('hex')}=`;
    // A subshell, so `exit N` in the command cannot skip the marker; the newline ends a trailing comment.
    const wrapped = `(${body}\n); echo "${marker}$?__"`;
    const session = new ShellSessionReader(serial, marker, options);
    if (options.signal?.aborted) throw session.abortError(options.signal.reason);
    const opening = this.wrap<Duplex>(serial, () => device.shell(wrapped));
    return session.run(opening);
  }

  async getProperties(serial: string): Promise<Record<string, string>> {
    const device = this.device(serial);
    return this.wrap<Record<string, string>>(serial, () => device.getProperties());
  }

  /** Copy a local file or bytes to the device with the given permission bits; resolves when the device confirmed. */
  async push(serial: string, source: string | Uint8Array, remotePath: string, mode = 0o644): Promise<void> {
    await this.pushAll(serial, [{ source, remotePath, mode }]);
  }

  /**
   * Push several files over one sync connection: one round trip to open it, then every SEND/DATA/DONE
   * written back to back and the device's replies read as they come (pipelined, like `adb push` with many
   * files), instead of one round trip per file.
   */
  async pushAll(serial: string, items: readonly PushItem[]): Promise<void> {
    // Validate and read every source before touching the device.
    const files = await preparePushes(items);
    if (files.length === 0) return;
    await this.withSync(serial, (sync) => sync.pushAll(files));
  }

  /**
   * Run several sync requests (stat, list, push) over one sync connection, opened once and closed
   * afterwards whatever happens.
   */
  async withSync<T>(serial: string, work: (sync: SyncSession) => Promise<T>): Promise<T> {
    const device = this.device(serial);
    const sync = await this.wrap<AdbSync>(serial, () => device.syncService());
    try {
      return await work(new SyncSession(sync, serial, (error, action) => this.translate(error, serial, action)));
    } finally {
      sync.end();
    }
  }

  /** File status on the device, or undefined when the path does not exist. */
  async stat(serial: string, remotePath: string): Promise<RemoteFileStat | undefined> {
    validateRemotePath(remotePath);
    const device = this.device(serial);
    try {
      const stats = await this.wrap<AdbStats>(serial, () => device.stat(remotePath));
      return toRemoteStat(stats.mode, Number(stats.size), stats.mtime);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Entries of a device directory (empty when it does not exist). */
  async listDirectory(serial: string, remotePath: string): Promise<RemoteEntry[]> {
    validateRemotePath(remotePath);
    const device = this.device(serial);
    const entries = await this.wrap<AdbEntry[]>(serial, () => device.readdir(remotePath));
    return entries.map((entry) => ({ name: entry.name, ...toRemoteStat(entry.mode, Number(entry.size), entry.mtime) }));
  }

  /**
   * Stat some paths and list some directories over one sync connection (one round trip to open it,
   * instead of one per request). Missing paths stat as undefined; missing directories list as empty.
   */
  async inspect(
    serial: string,
    request: { stat?: readonly string[]; list?: readonly string[] },
  ): Promise<{ stats: Map<string, RemoteFileStat | undefined>; listings: Map<string, RemoteEntry[]> }> {
    const statPaths = (request.stat ?? []).map(validateRemotePath);
    const listPaths = (request.list ?? []).map(validateRemotePath);
    return this.withSync(serial, async (sync) => {
      const stats = new Map<string, RemoteFileStat | undefined>();
      const listings = new Map<string, RemoteEntry[]>();
      for (const path of statPaths) stats.set(path, await sync.stat(path));
      for (const path of listPaths) listings.set(path, await sync.list(path));
      return { stats, listings };
    });
  }

  private device(serial: string): DeviceClient {
    return this.client.getDevice(validateSerial(serial));
  }

  /** Run an adbkit call and turn its errors into errors a user can act on. */
  private async wrap<T>(serial: string | undefined, call: () => PromiseLike<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.translate(error, serial);
    }
  }

  private translate(error: unknown, serial: string | undefined, action?: string): Error {
    if (!(error instanceof Error)) return new Error(String(error));
    if ((error as { code?: string }).code === 'ENOENT' && 'path' in error) return error;
    const message = error.message;
    const where = serial === undefined ? '' : ` (${serial})`;
    if (/ECONNREFUSED|connect ENOENT|spawn .*ENOENT/.test(message) || (error as { code?: string }).code === 'ECONNREFUSED') {
      return new AdbUnavailableError(`cannot reach the adb server at ${this.host}:${this.port}: ${message}`, [
        `install Android platform-tools (adb) or pass --adb-port/--adb-host for a server that is running`,
      ]);
    }
    if (/device '.*' not found|device not found|no devices/i.test(message)) {
      return new DeviceNotFoundError(`no device${where} is attached to the adb server at ${this.host}:${this.port}`, [
        'run `netadapt device list` to see the attached devices',
      ]);
    }
    if (/unauthorized/i.test(message)) {
      return new DeviceNotFoundError(`device${where} is unauthorized: accept the USB debugging prompt on the phone`);
    }
    if (/offline/i.test(message)) {
      return new DeviceDisconnectedError(`device${where} is offline: reconnect it and check \`adb devices\``);
    }
    if (error.name === 'PrematureEOFError' || /premature|closed|ECONNRESET|EPIPE/i.test(message)) {
      return new DeviceDisconnectedError(`device${where} disconnected${action ? ` during ${action}` : ''}: ${message}`);
    }
    if (error.name === 'FailError') {
      return new DeviceCommandError(`device${where} refused ${action ?? 'the request'}: ${message}`);
    }
    return error;
  }
}

/** Sync requests over one open `sync:` connection (see DeviceBridge.withSync). */
export class SyncSession {
  constructor(
    private readonly sync: AdbSync,
    private readonly serial: string,
    private readonly translate: (error: unknown, action?: string) => Error,
  ) {}

  /** File status, or undefined when the path does not exist. */
  async stat(remotePath: string): Promise<RemoteFileStat | undefined> {
    validateRemotePath(remotePath);
    try {
      const stats = await this.sync.stat(remotePath);
      return toRemoteStat(stats.mode, Number(stats.size), stats.mtime);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw this.translate(error, `stat of ${remotePath}`);
    }
  }

  /** Entries of a directory (empty when it does not exist). */
  async list(remotePath: string): Promise<RemoteEntry[]> {
    validateRemotePath(remotePath);
    try {
      const entries = await this.sync.readdir(remotePath);
      return entries.map((entry) => ({ name: entry.name, ...toRemoteStat(entry.mode, Number(entry.size), entry.mtime) }));
    } catch (error) {
      throw this.translate(error, `listing of ${remotePath}`);
    }
  }

  /** Pipelined pushes: all requests are written at once, then one OKAY (or FAIL) per file is read. */
  async pushAll(items: readonly PushItem[]): Promise<void> {
    const files = await preparePushes(items);
    if (files.length === 0) return;
    const socket = this.sync.connection.getSocket();
    const mtimeSec = Math.floor(Date.now() / 1000);
    const writeAll = async (): Promise<void> => {
      for (const file of files) {
        const parts = [syncRequest('SEND', Buffer.from(`${file.remotePath},${S_IFREG | file.mode}`, 'utf8'))];
        for (let offset = 0; offset < file.bytes.length; offset += SYNC_DATA_MAX) {
          parts.push(syncRequest('DATA', file.bytes.subarray(offset, offset + SYNC_DATA_MAX)));
        }
        parts.push(syncHeader('DONE', mtimeSec));
        if (!socket.write(Buffer.concat(parts))) await drained(socket);
      }
    };
    const readReplies = async (): Promise<void> => {
      for (const file of files) {
        try {
          const reply = await this.sync.parser.readAscii(4);
          if (reply === 'OKAY') await this.sync.parser.readBytes(4);
          else if (reply === 'FAIL') await this.sync.parser.readError();
          else throw new DeviceCommandError(`device ${this.serial} answered ${JSON.stringify(reply)} to a file transfer`);
        } catch (error) {
          throw error instanceof DeviceCommandError ? error : this.translate(error, `push to ${file.remotePath}`);
        }
      }
    };
    const writing = writeAll();
    // If the device fails early, stop waiting for the writer: the connection is closed right after.
    await Promise.all([writing, readReplies()]).catch(async (error: unknown) => {
      await writing.catch(() => undefined);
      throw error;
    });
  }
}

const SYNC_DATA_MAX = 64 * 1024;

interface PreparedPush {
  bytes: Buffer;
  remotePath: string;
  mode: number;
  source: Buffer;
}

async function preparePushes(items: readonly PushItem[]): Promise<PreparedPush[]> {
  const files: PreparedPush[] = [];
  for (const item of items) {
    validateRemotePath(item.remotePath);
    const mode = item.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new ValidationError(`file mode must be between 0 and 0o7777, got ${mode}`);
    }
    const bytes = typeof item.source !== 'string' && Buffer.isBuffer(item.source) ? item.source : await readSource(item.source);
    files.push({ bytes, remotePath: item.remotePath, mode, source: bytes });
  }
  return files;
}
const S_IFREG = 0o100000;

function syncHeader(id: string, value: number): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(value, 4);
  return header;
}

function syncRequest(id: string, payload: Buffer): Buffer {
  return Buffer.concat([syncHeader(id, payload.length), payload]);
}

function drained(socket: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      socket.off('drain', onDrain);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(new Error('connection closed during the transfer'));
    socket.once('drain', onDrain);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

async function readSource(source: string | Uint8Array): Promise<Buffer> {
  if (typeof source !== 'string') return Buffer.from(source);
  try {
    return await readFile(source);
  } catch (error) {
    throw new FileFormatError(`cannot read ${source}: ${(error as Error).message}`);
  }
}

function toRemoteStat(mode: number, size: number, mtime: Date): RemoteFileStat {
  return { permissions: mode & 0o7777, isDirectory: (mode & S_IFMT) === S_IFDIR, size, mtime };
}

export { splitExitMarker } from './shell-session.ts';
