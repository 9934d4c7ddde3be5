/**
 * The one translation of operating-system errors (errno codes from node:fs, node:net) into UserErrors that name the
 * file or port and say what to do. Callers translate where the error happens, because only there is it known which
 * file was meant and what the user was doing with it; anything that is not an OS error passes through unchanged.
 */
import { mkdirSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileFormatError, UserError } from './errors.ts';

/** What was being done with which file, for the message: "cannot write the model file /x/m.tflite: …". */
export interface FileContext {
  /** Absolute or user-given path of the file or folder. */
  readonly path: string;
  /** What the file is to the user: "the workspace", "the output folder", "the checkpoint folder". */
  readonly what: string;
  /** Reading (a missing file is the problem) or writing (a missing folder is created by the caller). */
  readonly action: 'read' | 'write';
  /** Appended to the message as detail lines (e.g. what was saved before the error, how to resume). */
  readonly details?: readonly string[];
}

/** An OS error of a file or socket operation (it carries an errno code like ENOSPC). */
export class SystemResourceError extends UserError {
  readonly code: string;
  constructor(code: string, message: string, details: readonly string[] = []) {
    super(message, details);
    this.code = code;
  }
}

/** A file could not be read (missing, no permission, a folder): a FileFormatError carrying the errno code. */
export class FileAccessError extends FileFormatError {
  readonly code: string;
  constructor(code: string, message: string, details: readonly string[] = []) {
    super(message, details);
    this.code = code;
  }
}

const FILE_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EISDIR', 'ENOTDIR', 'EMFILE', 'ENFILE', 'EIO', 'ENAMETOOLONG', 'EEXIST', 'EBUSY', 'ETXTBSY']);

export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** Bytes free for unprivileged users on the file system holding `path` (its nearest existing folder), if known. */
export function freeBytes(path: string): number | undefined {
  for (let at = path; ; at = dirname(at)) {
    try {
      const stats = statfsSync(at);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch {
      if (dirname(at) === at) return undefined;
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${bytes} bytes`;
}

/** The message for an errno code on a file; undefined for codes that are not about files. */
function fileMessage(code: string, context: FileContext): string | undefined {
  const { path, what } = context;
  const verb = context.action === 'read' ? 'read' : 'write';
  switch (code) {
    case 'ENOENT':
      return context.action === 'read'
        ? `${what} ${path} does not exist; check the path`
        : `cannot write ${what} ${path}: a folder on the way does not exist; check the path`;
    case 'EACCES':
    case 'EPERM':
      return `cannot ${verb} ${what} ${path}: permission denied; fix its permissions or choose another location`;
    case 'EROFS':
      return `cannot write ${what} ${path}: it is on a read-only file system; choose a folder on a writable disk (or copy it there)`;
    case 'ENOSPC':
    case 'EDQUOT': {
      const free = freeBytes(path);
      return `cannot write ${what} ${path}: the disk is full${code === 'EDQUOT' ? ' (disk quota exceeded)' : ''}${free === undefined ? '' : ` (${formatBytes(free)} free)`}; free some space and run the command again`;
    }
    case 'EISDIR':
      return `cannot ${verb} ${what} ${path}: it is a folder, not a file`;
    case 'ENOTDIR':
      return `cannot ${verb} ${what} ${path}: a part of the path is a file, not a folder`;
    case 'EEXIST':
      return `cannot write ${what} ${path}: a file is in the way of a folder of that path`;
    case 'EMFILE':
    case 'ENFILE':
      return `cannot ${verb} ${what} ${path}: too many open files; close other programs or raise the limit (ulimit -n)`;
    case 'ENAMETOOLONG':
      return `cannot ${verb} ${what}: the path is too long (${path.length} characters)`;
    case 'EIO':
      return `cannot ${verb} ${what} ${path}: input/output error (the disk may be failing or removed)`;
    case 'EBUSY':
    case 'ETXTBSY':
      return `cannot ${verb} ${what} ${path}: it is in use by another program`;
    default:
      return undefined;
  }
}

/** A UserError for an OS error of a file operation; other errors (and UserErrors) are returned unchanged. */
export function translateFileError(error: unknown, context: FileContext): unknown {
  if (error instanceof UserError) return error;
  const code = errnoCode(error);
  if (code === undefined || !FILE_CODES.has(code)) return error;
  const message = fileMessage(code, context) as string;
  const Kind = context.action === 'read' && code !== 'ENOSPC' && code !== 'EDQUOT' ? FileAccessError : SystemResourceError;
  return new Kind(code, message, context.details ?? []);
}

/** Runs `operation`, translating its OS errors (sync). */
export function withFileErrors<T>(context: FileContext, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw translateFileError(error, context);
  }
}

/** Runs `operation`, translating its OS errors (async). */
export async function withFileErrorsAsync<T>(context: FileContext, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateFileError(error, context);
  }
}

/**
 * Writes a file next to its final name and renames it there, so a crash or a full disk never leaves half a file;
 * creates missing folders; OS errors come out translated (naming the file as `what`).
 */
export function writeFileAtomically(path: string, data: string | Uint8Array, what: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  withFileErrors({ path, what, action: 'write' }, () => {
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(temporary, data);
      renameSync(temporary, path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  });
}

/** What a server's listen error means for the user: a busy port suggests another one. */
export function translateListenError(error: unknown, port: number, host: string, option = '--port'): unknown {
  if (error instanceof UserError) return error;
  const code = errnoCode(error);
  switch (code) {
    case 'EADDRINUSE':
      return new SystemResourceError(
        code,
        `port ${port} on ${host} is already in use (another netadapt ui, or another program); choose another port, e.g. ${option} ${port < 65535 ? port + 1 : 8080}, or ${option} 0 for a free one`,
      );
    case 'EACCES':
    case 'EPERM':
      return new SystemResourceError(code, `port ${port} on ${host} needs administrator rights; choose a port above 1023, e.g. ${option} 8080, or ${option} 0 for a free one`);
    case 'EADDRNOTAVAIL':
      return new SystemResourceError(code, `cannot listen on ${host}:${port}: the address is not available on this computer`);
    default:
      return error;
  }
}
