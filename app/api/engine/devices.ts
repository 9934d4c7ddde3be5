/**
 * Devices: this computer (its TFLite runtime) and the Android phones adb sees or the workspace remembers, with their
 * fingerprints, benchmark tool status, latency tables and delegates; plug/unplug events; pushing benchmark_model.
 */
import { createHash } from 'node:crypto';
import { cpus, hostname, platform, arch as cpuArch } from 'node:os';
import { resolve } from 'node:path';
import { UserError } from '../../../core/errors.ts';
import type { AttachedDevice } from '../../../latency/android/device/bridge.ts';
import { BenchmarkRunner, TOOL_DOWNLOAD_HINT } from '../../../latency/android/benchmark/runner.ts';
import { canonicalJson, readDeviceFingerprint } from '../../../latency/android/device/fingerprint.ts';
import { WorkingDelegates } from '../../../latency/android/device/delegate-probe.ts';
import { HOST_CAPABILITIES } from '../../../latency/host/host-profiler.ts';
import type { ValidParamsOf } from '../contract/methods.ts';
import type { BenchmarkToolStatus, DeviceDetails, DeviceListing, DeviceSummary } from '../contract/types.ts';
import type { JobContext } from '../engine.ts';
import { NotFoundError } from '../errors.ts';
import { errorText, type EngineContext } from './context.ts';

export class DeviceOperations {
  /** Which delegates work on each phone (probed once per fingerprint). */
  private readonly delegateSupport = new WorkingDelegates();

  constructor(private readonly ctx: EngineContext) {}

  async listDevices(): Promise<DeviceListing> {
    const stored = this.ctx.latencyStore().listDevices();
    let attached: AttachedDevice[] = [];
    let adb = { available: true, message: '' };
    try {
      attached = await this.ctx.deviceBridge().listDevices();
    } catch (error) {
      adb = { available: false, message: adbProblem(error) };
    }
    const devices: DeviceSummary[] = [hostDevice(this.hostTableId())];
    const attachedIds = new Set<string>();
    for (const device of attached) {
      attachedIds.add(device.serial);
      const record = stored.find((r) => r.id === device.serial);
      devices.push(await this.describeAttached(device, record?.fingerprintJson));
    }
    for (const record of stored) {
      if (isThisHost(record.id, record.fingerprint) || attachedIds.has(record.id)) continue;
      devices.push({
        id: record.id,
        label: record.label,
        kind: record.id.startsWith('host-') ? 'host' : 'android',
        state: 'stored',
        description: describeFingerprint(record.fingerprint),
        fingerprintHash: shortHash(record.fingerprintJson),
        benchmarkTool: 'unknown',
        lastSeen: record.lastSeen,
      });
    }
    return { devices, adb };
  }

  async deviceInfo(params: ValidParamsOf<'deviceInfo'>): Promise<DeviceDetails> {
    const store = this.ctx.latencyStore();
    const tableDeviceId = params.deviceId === 'host' ? this.hostTableId() ?? 'host' : params.deviceId;
    const tables = store.listTables(tableDeviceId).map((t) => ({ runtimeOptions: t.runtimeOptions, entries: t.entries, newestMeasuredAt: t.newestMeasuredAt }));
    if (params.deviceId === 'host') return { ...hostDevice(this.hostTableId()), fingerprint: hostFingerprint(), tables, tableDeviceId };
    const listing = await this.listDevices();
    const summary = listing.devices.find((d) => d.id === params.deviceId);
    if (!summary) throw new NotFoundError(`no device "${params.deviceId}": it is neither attached nor in the workspace`);
    const record = store.getDevice(params.deviceId);
    return { ...summary, fingerprint: { ...(record?.fingerprint ?? {}) }, tables, tableDeviceId };
  }

  /** The id this computer's latency tables are stored under (host-<fingerprint>), once one was measured. */
  hostTableId(): string | undefined {
    return this.ctx.latencyStore().listDevices().find((d) => isThisHost(d.id, d.fingerprint))?.id;
  }

  async deviceSetup(params: ValidParamsOf<'deviceSetup'>, job: JobContext): Promise<DeviceDetails> {
    if (params.deviceId === 'host') return this.deviceInfo({ deviceId: 'host' });
    const runner = new BenchmarkRunner(this.ctx.deviceBridge());
    const status = await runner.checkTool(params.deviceId);
    if (status.installed && status.executable && !params.force) {
      job.emit({ kind: 'log', level: 'info', message: `benchmark_model is already installed on ${params.deviceId} (${status.path})` });
    } else {
      const localPath = params.toolPath ?? this.ctx.options.benchmarkToolPath ?? process.env.NETADAPT_BENCHMARK_TOOL;
      if (localPath === undefined || localPath === '') {
        throw new UserError(`benchmark_model is not installed on ${params.deviceId}; give the path of the binary to push (toolPath)`, [TOOL_DOWNLOAD_HINT]);
      }
      job.emit({ kind: 'progress', phase: 'installing benchmark_model', done: 0, total: 1 });
      const sha256 = await runner.installTool(params.deviceId, resolve(localPath));
      job.emit({ kind: 'progress', phase: 'installing benchmark_model', done: 1, total: 1 });
      job.emit({ kind: 'log', level: 'info', message: `installed benchmark_model on ${params.deviceId} (sha256 ${sha256.slice(0, 12)})` });
    }
    return this.deviceInfo({ deviceId: params.deviceId });
  }

  async watchDevices(_params: ValidParamsOf<'watchDevices'>, job: JobContext): Promise<null> {
    const bridge = this.ctx.deviceBridge();
    await new Promise<void>((resolvePromise, reject) => {
      let stop: (() => void) | undefined;
      const finish = (error?: Error) => {
        job.signal.removeEventListener('abort', onAbort);
        stop?.();
        if (error) reject(error);
        else resolvePromise();
      };
      const onAbort = () => finish();
      job.signal.addEventListener('abort', onAbort, { once: true });
      bridge
        .trackDevices(
          (event) => {
            void this.describeAttached(event.device).then((device) =>
              job.emit({ kind: 'device', change: event.type, device: event.type === 'removed' ? { ...device, state: 'offline' } : device }),
            );
          },
          (error) => finish(error),
        )
        .then(
          (stopTracking) => {
            stop = stopTracking;
            if (job.signal.aborted) finish();
          },
          (error: unknown) => finish(new UserError(`cannot watch for phones: ${adbProblem(error)}`)),
        );
    });
    return null;
  }

  private async describeAttached(device: AttachedDevice, storedFingerprintJson?: string): Promise<DeviceSummary> {
    let description = '';
    if (device.state === 'device' || device.state === 'emulator') {
      try {
        const props = await this.ctx.deviceBridge().getProperties(device.serial);
        description = [props['ro.product.model'], props['ro.product.cpu.abi'], props['ro.build.version.release'] && `Android ${props['ro.build.version.release']}`]
          .filter((part) => part !== undefined && part !== '')
          .join(' · ');
      } catch {
        // The device may have gone away between listing and asking; it still shows, without details.
      }
    }
    const ready = device.state === 'device' || device.state === 'emulator';
    const probe = ready ? await this.probeAttached(device.serial) : { fingerprintHash: '', benchmarkTool: 'unknown' as const };
    const delegates = ready && probe.benchmarkTool === 'ready' && probe.fingerprintHash ? await this.delegateSupport.of(this.ctx.deviceBridge(), device.serial, probe.fingerprintHash) : undefined;
    return {
      ...(delegates ? { delegates: delegates.delegates, delegateProblems: delegates.problems } : {}),
      id: device.serial,
      label: device.serial,
      kind: 'android',
      state: ready ? 'ready' : device.state === 'unauthorized' ? 'unauthorized' : 'offline',
      description: probe.problem ? [description, probe.problem].filter((p) => p !== '').join(' · ') : description,
      fingerprintHash: probe.fingerprintHash || (storedFingerprintJson ? shortHash(storedFingerprintJson) : ''),
      benchmarkTool: probe.benchmarkTool,
    };
  }

  /** Fingerprint and benchmark tool status of a ready phone; a failure becomes a status text, never an error. */
  private async probeAttached(serial: string): Promise<{ fingerprintHash: string; benchmarkTool: BenchmarkToolStatus; problem?: string }> {
    const problems: string[] = [];
    let fingerprintHash = '';
    let benchmarkTool: BenchmarkToolStatus = 'unknown';
    try {
      fingerprintHash = shortHash(canonicalJson(await readDeviceFingerprint(this.ctx.deviceBridge(), serial)));
    } catch (error) {
      problems.push(`fingerprint unreadable: ${errorText(error)}`);
    }
    try {
      const status = await new BenchmarkRunner(this.ctx.deviceBridge()).checkTool(serial);
      benchmarkTool = status.installed && status.executable ? 'ready' : 'missing';
    } catch (error) {
      problems.push(`benchmark tool status unknown: ${errorText(error)}`);
    }
    return { fingerprintHash, benchmarkTool, ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
  }
}

/** Why adb cannot list phones, in one sentence (adb's own server log lines are not for this screen). */
export function adbProblem(error: unknown): string {
  const first = errorText(error).split('\n').map((line) => line.trim()).find((line) => line !== '' && !line.startsWith('*')) ?? 'adb did not answer';
  const short = first.length > 200 ? `${first.slice(0, 197)}…` : first;
  return /ENOENT|not found/i.test(short)
    ? `adb is not installed or not on PATH (${short}); install Android platform-tools to use phones`
    : `the adb server did not answer (${short})`;
}

/** A stored device that is this computer: the host profiler's id (host-…) with this hostname. */
function isThisHost(id: string, fingerprint: Readonly<Record<string, unknown>>): boolean {
  return id === 'host' || (id.startsWith('host-') && fingerprint['hostname'] === hostname());
}

function hostFingerprint(): Record<string, unknown> {
  const cpuList = cpus();
  return { kind: 'host', hostname: hostname(), platform: platform(), arch: cpuArch(), cpu: cpuList[0]?.model ?? 'unknown', cores: cpuList.length };
}

/** This computer; its fingerprint hash is the one its latency tables are stored under (host-<hash>) once there is one. */
function hostDevice(tableId?: string): DeviceSummary {
  const fingerprint = hostFingerprint();
  return {
    id: 'host',
    label: `This computer (${String(fingerprint.hostname)})`,
    kind: 'host',
    state: 'ready',
    description: `${String(fingerprint.cpu)} · ${String(fingerprint.cores)} cores · ${String(fingerprint.platform)}/${String(fingerprint.arch)}`,
    fingerprintHash: tableId?.replace(/^host-/, '') ?? shortHash(JSON.stringify(fingerprint)),
    benchmarkTool: 'not-needed',
    delegates: [...HOST_CAPABILITIES.delegates],
    delegateProblems: ['cpu, gpu, nnapi: the host runtime (LiteRT wasm) has XNNPACK only; measure them on a phone'],
  };
}

function describeFingerprint(fingerprint: Readonly<Record<string, unknown>>): string {
  const pick = (...keys: string[]) => keys.map((k) => fingerprint[k]).find((v) => typeof v === 'string' || typeof v === 'number');
  return [pick('model', 'ro.product.model', 'cpuModel'), pick('soc', 'hardware', 'ro.hardware'), pick('abi', 'ro.product.cpu.abi', 'arch')]
    .filter((v) => v !== undefined)
    .map(String)
    .join(' · ');
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
