/**
 * Reads one legacy `shell:` session: decodes its output, hands complete lines to the caller as they arrive, and
 * ends with the exit status printed by the marker DeviceBridge.shell appends. A time limit (counted from the
 * open, so a phone that never answers it is caught too) or an abort signal closes the session early.
 */
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { DeviceDisconnectedError, DeviceTimeoutError, ShellAbortedError } from './errors.ts';

export interface ShellResult {
  /** stdout and stderr, merged as the device's legacy shell service delivers them. */
  stdout: string;
  exitCode: number;
}

export interface ShellSessionOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  onOutputLine?: (line: string) => void;
}

export class ShellSessionReader {
  private output = '';
  private pendingLine = '';
  private stream: Duplex | undefined;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private resolve: (result: ShellResult) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;
  private onSettled: () => void = () => undefined;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly serial: string,
    private readonly marker: string,
    private readonly options: ShellSessionOptions,
  ) {}

  abortError(reason: unknown): ShellAbortedError {
    const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
    return new ShellAbortedError(`command on ${this.serial} was stopped: ${why}`, this.output, reason);
  }

  /** Waits for the session to open (within the time limit) and for its end. */
  run(opening: Promise<Duplex>): Promise<ShellResult> {
    const { timeoutMs, signal } = this.options;
    return new Promise<ShellResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (timeoutMs !== undefined) {
        this.timer = setTimeout(
          () => this.finish(new DeviceTimeoutError(`command on ${this.serial} did not finish within ${timeoutMs} ms`, this.output)),
          timeoutMs,
        );
      }
      const onAbort = (): void => this.finish(this.abortError(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.onSettled = () => signal?.removeEventListener('abort', onAbort);
      opening.then(
        (stream) => this.attach(stream),
        (error: unknown) => this.finish(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  private attach(stream: Duplex): void {
    this.stream = stream;
    // The session opened after the caller gave up on it: close it at once.
    if (this.settled) {
      stream.destroy();
      return;
    }
    stream.on('data', (chunk: Buffer) => {
      const text = this.decoder.write(chunk);
      this.output += text;
      this.emitLines(text, false);
    });
    stream.on('end', () => {
      const rest = this.decoder.end();
      this.output += rest;
      this.emitLines(rest, true);
      this.finish();
    });
    stream.on('error', (error: Error) => {
      this.finish(new DeviceDisconnectedError(`connection to ${this.serial} failed: ${error.message}`, this.output));
    });
  }

  private emitLines(text: string, final: boolean): void {
    const onLine = this.options.onOutputLine;
    if (!onLine) return;
    this.pendingLine += text;
    const lines = this.pendingLine.split('\n');
    this.pendingLine = final ? '' : (lines.pop() ?? '');
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      if (!line.startsWith(this.marker) && !(final && line === '')) onLine(line);
    }
  }

  private finish(error?: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.onSettled();
    if (error) {
      this.stream?.destroy();
      this.reject(error);
      return;
    }
    const result = splitExitMarker(this.output, this.marker);
    if (result) this.resolve(result);
    else {
      this.reject(
        new DeviceDisconnectedError(`device ${this.serial} disconnected while running a command (no exit status received)`, this.output, [
          'check the USB cable and `adb devices`, then run again; completed work is kept',
        ]),
      );
    }
  }
}

/** Split `…output<marker><status>__\n` into output and status; undefined when the marker is missing. */
export function splitExitMarker(output: string, marker: string): ShellResult | undefined {
  const index = output.lastIndexOf(marker);
  if (index === -1) return undefined;
  const status = /^(\d{1,3})__\r?\n?$/.exec(output.slice(index + marker.length));
  if (!status) return undefined;
  return { stdout: output.slice(0, index), exitCode: Number(status[1]) };
}
