/**
 * An emulated Android device for tests: a TCP server on 127.0.0.1 that speaks the adbd transport protocol
 * (CNXN/OPEN/OKAY/WRTE/CLSE, AOSP adb/protocol.txt) so a real `adb` server can `adb connect` to it.
 * It offers the legacy `shell:` service (banner features=cmd, no shell_v2) backed by a small sh
 * interpreter over an in-memory filesystem, and the `sync:` file service. Faults: unplug mid-command,
 * garbage benchmark output, missing benchmark binary, a benchmark that hangs, output cut off mid-line, a frozen
 * phone (connection open, nothing answered), changing clock frequencies and temperatures.
 */
import net from 'node:net';
import {
  A_CLSE,
  A_CNXN,
  A_OKAY,
  A_OPEN,
  A_VERSION_SKIP_CHECKSUM,
  A_WRTE,
  commandName,
  encodePacket,
  PacketDecoder,
} from './adb-packets.ts';
import type { AdbPacket } from './adb-packets.ts';
import { MemoryFs } from './memory-fs.ts';
import { ShellAborted, ShellSession } from './shell-interpreter.ts';
import type { DeviceState } from './shell-interpreter.ts';
import { SyncService } from './sync-service.ts';
import { sizeDerivedExecuteModel } from './fake-benchmark-model.ts';
import type { ExecuteModel, OpenModel } from './fake-benchmark-model.ts';
import { ProcessTable } from './processes.ts';

export type { ExecuteModel, ExecuteModelOptions, LoadedBenchmarkModel, OpenModel } from './fake-benchmark-model.ts';
export { sizeDerivedExecuteModel } from './fake-benchmark-model.ts';

export const BENCHMARK_TOOL_PATH = '/data/local/tmp/benchmark_model';

export interface EmulatedDeviceOptions {
  productName?: string;
  model?: string;
  device?: string;
  manufacturer?: string;
  /** Extra or overriding system properties. */
  properties?: Record<string, string>;
  /** cpuinfo_max_freq per core in kHz; the index is the core number. */
  coreMaxFreqKHz?: number[];
  governor?: string;
  /** Install a benchmark_model binary at /data/local/tmp (default true). */
  withBenchmarkTool?: boolean;
  executeModel?: ExecuteModel;
  /** Load each model once per benchmark_model run and time warm-up and timed runs on it (overrides executeModel). */
  openModel?: OpenModel;
  /** Old adbd ran legacy shell commands on a pty, turning "\n" into "\r\n". */
  ptyLineEndings?: boolean;
  /** Accelerator delegates benchmark_model can create here (default: a GPU, no NNAPI driver). */
  delegates?: { gpu: boolean; nnapi: boolean };
  /** adbd runs as root (a userdebug build after `adb root`). */
  rooted?: boolean;
  /** Thermal zones (type and temperature in m°C) under /sys/class/thermal (default: cpu and battery at 35/30 °C). */
  thermalZones?: { type: string; milliCelsius: number }[];
  /** Max payload this device advertises in its CNXN (adb 29 hosts offer 256K; old devices 4096). */
  maxPayload?: number;
  /** 0x01000000 (payload checksums checked) or 0x01000001 (not checked, the default). */
  protocolVersion?: number;
}

/** Snapdragon 865-like layout: 4 little, 3 big, 1 prime core. */
const DEFAULT_CORES_KHZ = [1804800, 1804800, 1804800, 1804800, 2419200, 2419200, 2419200, 2841600];

/** Stand-in bytes for the benchmark binary (an ELF header, so sha256sum has something to hash). */
export const FAKE_BENCHMARK_TOOL_BYTES = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  Buffer.from('emulated TFLite benchmark_model android_aarch64\n'),
]);

interface UnplugFault {
  pattern: string;
  remaining: number;
  replug: boolean;
}

export class EmulatedAdbDevice {
  readonly fs: MemoryFs;
  readonly state: DeviceState;
  /** Every `shell:` command received, in order. */
  readonly shellCommands: string[] = [];
  /** Every service opened (`shell:…`, `sync:`), in order. */
  readonly services: string[] = [];
  /** Every sync request (`STAT path`, `LIST path`, `SEND path,mode`, `RECV path`, `QUIT`), in order. */
  readonly syncRequests: string[] = [];
  private readonly connections = new Set<AdbdConnection>();
  private fault: UnplugFault | undefined;
  private accepting = true;
  /** While frozen nothing is read from or written to any connection (a SIGSTOPped adbd). */
  frozen = false;
  private readonly thawWaiters: (() => void)[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly options: Required<Pick<EmulatedDeviceOptions, 'ptyLineEndings' | 'maxPayload' | 'protocolVersion'>> & {
      banner: string;
    },
    state: DeviceState,
  ) {
    this.state = state;
    this.fs = state.fs;
  }

  static async start(options: EmulatedDeviceOptions = {}): Promise<EmulatedAdbDevice> {
    const productName = options.productName ?? 'kona_emu';
    const model = options.model ?? 'NetAdapt Emulated Phone';
    const deviceName = options.device ?? 'emu865';
    const cores = options.coreMaxFreqKHz ?? DEFAULT_CORES_KHZ;
    const fs = new MemoryFs();
    const properties = new Map<string, string>(
      Object.entries({
        'ro.product.name': productName,
        'ro.product.model': model,
        'ro.product.device': deviceName,
        'ro.product.manufacturer': options.manufacturer ?? 'NetAdapt',
        'ro.product.cpu.abi': 'arm64-v8a',
        'ro.product.cpu.abilist': 'arm64-v8a,armeabi-v7a,armeabi',
        'ro.board.platform': 'kona',
        'ro.soc.manufacturer': 'QTI',
        'ro.soc.model': 'SM8250',
        'ro.build.version.sdk': '33',
        'ro.build.version.release': '13',
        'ro.build.fingerprint': `netadapt/${productName}/${deviceName}:13/TQ3A.230805.001/1234567:user/release-keys`,
        'ro.serialno': 'EMU0000001',
        'sys.boot_completed': '1',
        ...options.properties,
      }),
    );
    setUpSysfs(fs, cores, options.governor ?? 'schedutil', options.thermalZones ?? DEFAULT_THERMAL_ZONES);
    fs.mkdir('/data/local/tmp', { parents: true });
    fs.mkdir('/system/bin', { parents: true });
    if (options.withBenchmarkTool !== false) fs.writeFile(BENCHMARK_TOOL_PATH, FAKE_BENCHMARK_TOOL_BYTES, 0o755);
    const state: DeviceState = {
      fs,
      properties,
      cpuCount: cores.length,
      executeModel: options.executeModel ?? sizeDerivedExecuteModel,
      openModel: options.openModel,
      garbageBenchmarkOutput: false,
      processes: new ProcessTable(),
      delegates: options.delegates ?? { gpu: true, nnapi: false },
      faults: {},
      rooted: options.rooted ?? false,
    };
    const banner = `device::ro.product.name=${productName};ro.product.model=${model};ro.product.device=${deviceName};features=cmd`;
    const server = net.createServer();
    const device = new EmulatedAdbDevice(
      server,
      {
        ptyLineEndings: options.ptyLineEndings ?? false,
        maxPayload: options.maxPayload ?? 256 * 1024,
        protocolVersion: options.protocolVersion ?? A_VERSION_SKIP_CHECKSUM,
        banner,
      },
      state,
    );
    server.on('connection', (socket) => device.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return device;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('emulated device is not listening');
    return address.port;
  }

  /** The serial adb gives a TCP device: host:port. */
  get serial(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Emulate old adbd running legacy shell commands on a pty ("\n" becomes "\r\n"). */
  setPtyLineEndings(enabled: boolean): void {
    this.options.ptyLineEndings = enabled;
  }

  setGarbageBenchmarkOutput(enabled: boolean): void {
    this.state.garbageBenchmarkOutput = enabled;
  }

  setExecuteModel(executeModel: ExecuteModel): void {
    this.state.executeModel = executeModel;
  }

  /** benchmark_model hangs on models whose path matches (until killed); undefined clears the fault. */
  hangBenchmarkOn(matches: ((graph: string) => boolean) | undefined): void {
    if (matches) this.state.faults.hang = matches;
    else delete this.state.faults.hang;
  }

  /** Every `every`-th benchmark run from now is killed mid-write (see BenchmarkFaults.cut); 0 clears the fault. */
  cutBenchmarkOutputEvery(every: number, exitCode = 137): void {
    if (every > 0) this.state.faults.cut = { every, exitCode, runs: 0 };
    else delete this.state.faults.cut;
  }

  /** Command lines of the processes running now (benchmark runs, including hung ones). */
  runningProcesses(): string[] {
    return this.state.processes.list();
  }

  /** Freeze the phone: connections stay open, but nothing is answered or sent until thaw(). */
  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const resume of this.thawWaiters.splice(0)) resume();
  }

  /** Runs `work` once the phone is not frozen. */
  whenThawed(work: () => void): void {
    if (this.frozen) this.thawWaiters.push(work);
    else work();
  }

  /** Write scaling_cur_freq of the given cores (default: all). */
  setCurrentFreqKHz(khz: number, cores?: readonly number[]): void {
    for (const core of cores ?? Array.from({ length: this.state.cpuCount }, (_, i) => i)) {
      this.fs.writeFile(`${CPU_BASE}/cpu${core}/cpufreq/scaling_cur_freq`, `${khz}\n`);
    }
  }

  /** Write the temperature (m°C) of a thermal zone. */
  setTemperature(zone: number, milliCelsius: number): void {
    this.fs.writeFile(`${THERMAL_BASE}/thermal_zone${zone}/temp`, `${Math.round(milliCelsius)}\n`);
  }

  /**
   * Drop the USB cable once shell output has contained `pattern` `occurrences` times (counted from now):
   * the output up to and including that occurrence's line is delivered, then every connection is cut.
   * With replug=false the device refuses new connections until `replug()`.
   */
  unplugAfterOutput(pattern: string, occurrences = 1, { replug = true } = {}): void {
    this.fault = { pattern, remaining: occurrences, replug };
  }

  /** Cut every connection now. */
  unplug({ replug = true } = {}): void {
    this.accepting = replug;
    for (const connection of this.connections) connection.destroy();
  }

  replug(): void {
    this.accepting = true;
  }

  async close(): Promise<void> {
    this.accepting = false;
    for (const connection of this.connections) connection.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const connection = new AdbdConnection(socket, this);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }

  /** Apply the unplug fault to a piece of shell output; returns the part to deliver and whether to cut after it. */
  filterShellOutput(text: string): { deliver: string; cut: boolean; replug: boolean } {
    const fault = this.fault;
    if (!fault) return { deliver: text, cut: false, replug: true };
    let from = 0;
    while (true) {
      const index = text.indexOf(fault.pattern, from);
      if (index === -1) return { deliver: text, cut: false, replug: true };
      from = index + fault.pattern.length;
      if (--fault.remaining === 0) {
        const lineEnd = text.indexOf('\n', from);
        this.fault = undefined;
        return { deliver: lineEnd === -1 ? text : text.slice(0, lineEnd + 1), cut: true, replug: fault.replug };
      }
    }
  }
}

const CPU_BASE = '/sys/devices/system/cpu';
const THERMAL_BASE = '/sys/class/thermal';
const DEFAULT_THERMAL_ZONES = [
  { type: 'cpu-1-0-usr', milliCelsius: 35_000 },
  { type: 'battery', milliCelsius: 30_000 },
];

function setUpSysfs(fs: MemoryFs, coresKHz: readonly number[], governor: string, zones: readonly { type: string; milliCelsius: number }[]): void {
  const base = CPU_BASE;
  fs.mkdir(base, { parents: true });
  const last = coresKHz.length - 1;
  fs.writeFile(`${base}/possible`, `0-${last}\n`);
  fs.writeFile(`${base}/present`, `0-${last}\n`);
  fs.writeFile(`${base}/online`, `0-${last}\n`);
  coresKHz.forEach((maxKHz, index) => {
    const dir = `${base}/cpu${index}/cpufreq`;
    fs.mkdir(dir, { parents: true });
    fs.writeFile(`${dir}/cpuinfo_max_freq`, `${maxKHz}\n`);
    fs.writeFile(`${dir}/cpuinfo_min_freq`, '300000\n');
    fs.writeFile(`${dir}/scaling_governor`, `${governor}\n`);
    fs.writeFile(`${dir}/scaling_cur_freq`, `${maxKHz}\n`);
    fs.writeFile(`${dir}/scaling_max_freq`, `${maxKHz}\n`);
    fs.writeFile(`${dir}/scaling_available_frequencies`, `300000 ${Math.round(maxKHz / 2)} ${maxKHz}\n`);
    fs.writeFile(`${dir}/scaling_setspeed`, '<unsupported>\n');
  });
  fs.mkdir(THERMAL_BASE, { parents: true });
  zones.forEach((zone, index) => {
    fs.mkdir(`${THERMAL_BASE}/thermal_zone${index}`, { parents: true });
    fs.writeFile(`${THERMAL_BASE}/thermal_zone${index}/type`, `${zone.type}\n`);
    fs.writeFile(`${THERMAL_BASE}/thermal_zone${index}/temp`, `${zone.milliCelsius}\n`);
  });
}

/** One transport connection from the adb server. */
class AdbdConnection {
  private readonly decoder: PacketDecoder;
  private readonly streams = new Map<number, DeviceStream>();
  private nextLocalId = 1;
  private connected = false;
  private hostMaxPayload = 4096;
  private destroyed = false;

  constructor(
    private readonly socket: net.Socket,
    readonly device: EmulatedAdbDevice,
  ) {
    this.decoder = new PacketDecoder(Math.max(device.options.maxPayload, 1024 * 1024));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let packets: AdbPacket[];
      try {
        packets = this.decoder.push(chunk);
      } catch {
        // A corrupt packet closes the connection, as the protocol requires.
        this.destroy();
        return;
      }
      for (const packet of packets) this.device.whenThawed(() => this.handle(packet));
    });
    socket.on('close', () => this.teardown());
    socket.on('error', () => this.teardown());
  }

  get maxPayload(): number {
    return Math.min(this.hostMaxPayload, this.device.options.maxPayload);
  }

  send(packet: AdbPacket): void {
    this.device.whenThawed(() => {
      if (!this.destroyed) this.socket.write(encodePacket(packet));
    });
  }

  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  private teardown(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const stream of this.streams.values()) stream.hostClosed();
    this.streams.clear();
  }

  private handle(packet: AdbPacket): void {
    if (packet.command === A_CNXN) {
      this.connected = true;
      this.hostMaxPayload = packet.arg1;
      this.send({
        command: A_CNXN,
        arg0: this.device.options.protocolVersion,
        arg1: this.device.options.maxPayload,
        payload: Buffer.from(this.device.options.banner, 'utf8'),
      });
      return;
    }
    if (!this.connected) return;
    switch (packet.command) {
      case A_OPEN:
        return this.open(packet.arg0, packet.payload.toString('utf8').replace(/\0$/, ''));
      case A_OKAY:
        return this.streams.get(packet.arg1)?.acknowledged(packet.arg0);
      case A_WRTE: {
        const stream = this.streams.get(packet.arg1);
        if (!stream) return this.send({ command: A_CLSE, arg0: 0, arg1: packet.arg0, payload: Buffer.alloc(0) });
        this.send({ command: A_OKAY, arg0: stream.localId, arg1: stream.remoteId, payload: Buffer.alloc(0) });
        return stream.received(packet.payload);
      }
      case A_CLSE: {
        const stream = this.streams.get(packet.arg1);
        this.streams.delete(packet.arg1);
        return stream?.hostClosed();
      }
      default:
        // Unknown commands (e.g. AUTH we never asked for) are ignored.
        void commandName(packet.command);
    }
  }

  private open(remoteId: number, service: string): void {
    this.device.services.push(service);
    const localId = this.nextLocalId++;
    if (service.startsWith('shell:')) {
      const stream = this.register(localId, remoteId);
      void this.runShell(stream, service.slice('shell:'.length));
    } else if (service === 'sync:') {
      const stream = this.register(localId, remoteId);
      const sync = new SyncService(
        this.device.fs,
        (data) => stream.write(data),
        () => stream.closeAfterFlush(),
        (request) => this.device.syncRequests.push(request),
      );
      stream.onData = (data) => sync.receive(data);
    } else {
      this.send({ command: A_CLSE, arg0: 0, arg1: remoteId, payload: Buffer.alloc(0) });
    }
  }

  private register(localId: number, remoteId: number): DeviceStream {
    const stream = new DeviceStream(this, localId, remoteId, () => this.streams.delete(localId));
    this.streams.set(localId, stream);
    this.send({ command: A_OKAY, arg0: localId, arg1: remoteId, payload: Buffer.alloc(0) });
    return stream;
  }

  private async runShell(stream: DeviceStream, command: string): Promise<void> {
    this.device.shellCommands.push(command);
    if (command.trim() === '') {
      stream.write(Buffer.from('emulated device: interactive shells are not supported\n'));
      stream.closeAfterFlush();
      return;
    }
    const session = new ShellSession(this.device.state, stream.abortSignal);
    let cut = false;
    const sink = (_fd: 1 | 2, text: string): void => {
      if (cut) return;
      const output = this.device.options.ptyLineEndings ? text.replace(/\r?\n/g, '\r\n') : text;
      const filtered = this.device.filterShellOutput(output);
      stream.write(Buffer.from(filtered.deliver, 'utf8'));
      if (filtered.cut) {
        cut = true;
        void stream.flushed().then(() => this.device.unplug({ replug: filtered.replug }));
      }
    };
    try {
      await session.run(command, sink);
    } catch (error) {
      if (!(error instanceof ShellAborted) && !cut) {
        stream.write(Buffer.from(`sh: internal error: ${(error as Error).message}\n`));
      }
    }
    if (!cut) stream.closeAfterFlush();
  }
}

/**
 * A device-side stream. Like adbd reading a process's pipe, output that accumulates while a WRTE waits
 * for the host's OKAY (protocol v1 flow control: one unacknowledged WRTE per stream) goes out together
 * in the next WRTE, up to the negotiated max payload.
 */
class DeviceStream {
  onData: (data: Buffer) => void = () => undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight = false;
  private drainWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    private readonly connection: AdbdConnection,
    readonly localId: number,
    readonly remoteId: number,
    private readonly onClosed: () => void,
  ) {}

  get abortSignal(): AbortSignal {
    return this.abort.signal;
  }

  write(data: Buffer): void {
    if (data.length === 0 || this.closed) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    if (this.pendingBytes === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    const all = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const payload = all.subarray(0, this.connection.maxPayload);
    const rest = all.subarray(payload.length);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    this.inFlight = true;
    this.connection.send({ command: A_WRTE, arg0: this.localId, arg1: this.remoteId, payload });
  }

  /** Resolves once everything written so far was acknowledged (or the stream closed). */
  flushed(): Promise<void> {
    if (this.closed || (!this.inFlight && this.pendingBytes === 0)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  acknowledged(_hostId: number): void {
    this.inFlight = false;
    this.pump();
  }

  received(data: Buffer): void {
    this.onData(data);
  }

  closeAfterFlush(): void {
    void this.flushed().then(() => {
      if (this.closed) return;
      this.closed = true;
      this.connection.send({ command: A_CLSE, arg0: this.localId, arg1: this.remoteId, payload: Buffer.alloc(0) });
      this.onClosed();
    });
  }

  hostClosed(): void {
    this.closed = true;
    this.abort.abort();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
