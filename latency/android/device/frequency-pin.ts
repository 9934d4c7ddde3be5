/**
 * Optional frequency pinning on rooted phones: the measured cores run the `userspace` governor at one fixed
 * frequency (their highest, by default), so dynamic frequency scaling cannot move a measurement. Needs adbd running
 * as root (`adb root` on a userdebug or eng build). The fingerprint records the pinned frequency, so pinned and
 * unpinned tables are never mixed; `restore()` puts the previous governors back.
 */
import { UserError } from '../../../core/errors.ts';
import type { DeviceBridge } from './bridge.ts';

export interface FrequencyPin {
  khz: number;
  restore(): Promise<void>;
}

const CPU_DIR = '/sys/devices/system/cpu';

export async function pinFrequency(bridge: DeviceBridge, serial: string, cores: readonly number[], requestedKHz?: number): Promise<FrequencyPin> {
  const { stdout: uid } = await bridge.shell(serial, 'id -u', { timeoutMs: 15_000 });
  if (uid.trim() !== '0') {
    throw new UserError(`frequency pinning needs a rooted phone: the shell on ${serial} runs as uid ${uid.trim() || '?'}, not root`, [
      'on a userdebug or eng build run `adb root` first; otherwise measure without --pin-frequency',
    ]);
  }
  const dir = (core: number): string => `${CPU_DIR}/cpu${core}/cpufreq`;
  const first = cores[0] ?? 0;
  const { stdout: state } = await bridge.shell(
    serial,
    `cat ${dir(first)}/scaling_available_frequencies; ${cores.map((core) => `cat ${dir(core)}/scaling_governor`).join('; ')}`,
    { timeoutMs: 15_000 },
  );
  const [available = '', ...governors] = state.trim().split('\n').map((line) => line.trim());
  const frequencies = available.split(/\s+/).map(Number).filter((f) => Number.isInteger(f) && f > 0);
  if (frequencies.length === 0) throw new UserError(`core ${first} of ${serial} lists no available frequencies; it cannot be pinned`);
  const khz = requestedKHz ?? Math.max(...frequencies);
  if (!frequencies.includes(khz)) throw new UserError(`core ${first} of ${serial} cannot run at ${khz} kHz; it offers ${frequencies.join(', ')} kHz`);
  const writes = cores.flatMap((core) => [`echo userspace > ${dir(core)}/scaling_governor`, `echo ${khz} > ${dir(core)}/scaling_setspeed`]);
  const checks = cores.flatMap((core) => [`cat ${dir(core)}/scaling_governor`, `cat ${dir(core)}/scaling_setspeed`]);
  const { stdout: readBack } = await bridge.shell(serial, `${writes.join('; ')}; ${checks.join('; ')}`, { timeoutMs: 15_000 });
  const expected = cores.flatMap(() => ['userspace', String(khz)]);
  const got = readBack.trim().split('\n').map((line) => line.trim()).slice(-expected.length);
  if (got.join(',') !== expected.join(',')) {
    throw new UserError(`the kernel of ${serial} refused the userspace governor at ${khz} kHz (read back: ${got.join(', ')})`);
  }
  return {
    khz,
    restore: async () => {
      // Governor names come from the device: only plain names go back into a command.
      const back = cores.map((core, i) => `echo ${/^[a-z0-9_]+$/.test(governors[i] ?? '') ? governors[i] : 'schedutil'} > ${dir(core)}/scaling_governor`);
      await bridge.shell(serial, back.join('; '), { timeoutMs: 15_000 });
    },
  };
}
