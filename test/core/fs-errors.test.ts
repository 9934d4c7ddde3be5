import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFormatError, UserError } from '../../core/errors.ts';
import { FileAccessError, SystemResourceError, translateFileError, translateListenError, writeFileAtomically } from '../../core/fs-errors.ts';

const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });

describe('translateFileError', () => {
  const write = { path: '/data/out/m.tflite', what: 'the model file', action: 'write' as const };
  it.each([
    ['EROFS', /cannot write the model file \/data\/out\/m\.tflite: it is on a read-only file system; choose a folder on a writable disk/],
    ['EACCES', /permission denied; fix its permissions or choose another location/],
    ['ENOSPC', /the disk is full.*free some space and run the command again/],
    ['EDQUOT', /disk quota exceeded/],
    ['ENOTDIR', /a part of the path is a file, not a folder/],
    ['EISDIR', /it is a folder, not a file/],
    ['EMFILE', /too many open files/],
  ])('%s on write', (code, message) => {
    const error = translateFileError(errno(code), write) as SystemResourceError;
    expect(error).toBeInstanceOf(SystemResourceError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('reading: a missing file is a FileFormatError naming it; other errors pass through', () => {
    const read = translateFileError(errno('ENOENT'), { path: '/x/net.json', what: 'the network file', action: 'read' });
    expect(read).toBeInstanceOf(FileAccessError);
    expect(read).toBeInstanceOf(FileFormatError);
    expect((read as Error).message).toBe('the network file /x/net.json does not exist; check the path');
    const bug = new RangeError('Invalid typed array length');
    expect(translateFileError(bug, write)).toBe(bug);
    const user = new UserError('already clear');
    expect(translateFileError(user, write)).toBe(user);
  });

  it('keeps detail lines (what was saved, how to resume)', () => {
    const error = translateFileError(errno('ENOSPC'), { ...write, details: ['the previous checkpoint is kept'] }) as UserError;
    expect(error.details).toEqual(['the previous checkpoint is kept']);
  });
});

describe('translateListenError', () => {
  it('a busy port suggests the next one and --port 0; a privileged one suggests a port above 1023', () => {
    expect((translateListenError(errno('EADDRINUSE'), 8080, '127.0.0.1') as Error).message).toBe(
      'port 8080 on 127.0.0.1 is already in use (another netadapt ui, or another program); choose another port, e.g. --port 8081, or --port 0 for a free one',
    );
    expect((translateListenError(errno('EACCES'), 80, '127.0.0.1') as Error).message).toMatch(/port 80 on 127\.0\.0\.1 needs administrator rights; choose a port above 1023/);
  });
});

describe('writeFileAtomically', () => {
  it('creates missing folders and leaves no temporary file when the write fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-errors-'));
    writeFileAtomically(join(dir, 'a', 'b', 'f.txt'), 'hello', 'the file');
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    expect(() => writeFileAtomically(join(blocker, 'f.txt'), 'x', 'the report file')).toThrow(/cannot write the report file .*file\/f\.txt/);
  });
});
