import { UserError } from '../../../core/errors.ts';

/**
 * The device went away during an operation (cable pulled, adb server restarted, phone rebooted).
 * `partialOutput` holds whatever the device printed before the connection dropped.
 */
export class DeviceDisconnectedError extends UserError {
  constructor(
    message: string,
    readonly partialOutput = '',
    details: readonly string[] = [],
  ) {
    super(message, details);
  }
}

/** A shell command ran longer than its time limit; the session was closed. */
export class DeviceTimeoutError extends UserError {
  constructor(
    message: string,
    readonly partialOutput = '',
  ) {
    super(message);
  }
}

/** No device with that serial is attached (or it is offline/unauthorized). */
export class DeviceNotFoundError extends UserError {}

/** The adb server cannot be reached or started. */
export class AdbUnavailableError extends UserError {}

/** The device refused an operation (push failed, path unreadable, …). */
export class DeviceCommandError extends UserError {}

/** A shell session closed on purpose by its caller (e.g. a benchmark over its time limit). */
export class ShellAbortedError extends UserError {
  constructor(
    message: string,
    readonly partialOutput = '',
    readonly reason?: unknown,
  ) {
    super(message);
  }
}

/**
 * The phone stopped answering without closing the connection (frozen, or stopped in a debugger): nothing arrived
 * within the time limit and a trivial command got no answer either.
 */
export class DeviceFrozenError extends DeviceDisconnectedError {}
