import { ValidationError } from '../../../core/errors.ts';

/**
 * Quote one argument for the device's POSIX shell: wrap in single quotes, where nothing is special,
 * and spell an embedded `'` as `'\''`. Every argument that goes into a shell command passes through here.
 */
export function shellQuote(argument: string): string {
  if (argument.includes('\0')) throw new ValidationError('a shell argument cannot contain a NUL byte');
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** adb serials: USB serial numbers, `host:port` for TCP devices, `emulator-5554`. */
const SERIAL_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function validateSerial(serial: string): string {
  if (!SERIAL_PATTERN.test(serial)) {
    throw new ValidationError(`not a valid adb device serial: ${JSON.stringify(serial)}`, [
      'serials contain only letters, digits and . _ : - (see `netadapt device list`)',
    ]);
  }
  return serial;
}

/** Remote paths: absolute, printable, no shell metacharacters or whitespace, no `..` components. */
const REMOTE_PATH_PATTERN = /^\/[A-Za-z0-9._\-+@/=,]*$/;

export function validateRemotePath(path: string): string {
  if (!REMOTE_PATH_PATTERN.test(path) || path.length > 1024 || path.split('/').includes('..')) {
    throw new ValidationError(`not an acceptable path on the device: ${JSON.stringify(path)}`, [
      'device paths must be absolute and use only letters, digits and . _ - + @ = , /',
    ]);
  }
  return path;
}
