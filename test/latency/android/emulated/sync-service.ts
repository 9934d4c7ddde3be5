/**
 * The `sync:` service of adbd (AOSP adb/SYNC.TXT): requests are a 4-byte id plus a 4-byte little-endian
 * length (and that many bytes); STAT, LIST, SEND (+ DATA…/DONE), RECV and QUIT are implemented.
 */
import { normalizePath, S_IFDIR, S_IFREG } from './memory-fs.ts';
import type { MemoryFs } from './memory-fs.ts';

const SYNC_DATA_MAX = 64 * 1024;
const MAX_PATH_LENGTH = 1024;

export class SyncService {
  private buffered: Buffer = Buffer.alloc(0);
  private upload: { path: string; perm: number; chunks: Buffer[] } | undefined;

  constructor(
    private readonly fs: MemoryFs,
    private readonly write: (data: Buffer) => void,
    private readonly close: () => void,
    /** Called with e.g. "SEND /data/local/tmp/x,33188" for every request except DATA/DONE. */
    private readonly log: (request: string) => void = () => undefined,
  ) {}

  /** Feed bytes the host wrote to the stream. */
  receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 8) {
      const id = this.buffered.subarray(0, 4).toString('latin1');
      const length = this.buffered.readUInt32LE(4);
      // DONE carries the mtime in its length field, not a payload.
      const payloadLength = id === 'DONE' || id === 'QUIT' ? 0 : length;
      if (id !== 'DATA' && payloadLength > MAX_PATH_LENGTH) return this.fail(`path too long (${length})`);
      if (id === 'DATA' && payloadLength > SYNC_DATA_MAX) return this.fail(`data chunk too big (${length})`);
      if (this.buffered.length < 8 + payloadLength) return;
      // A view, not a copy: packets are buffers of their own (PacketDecoder copies them out of the socket data).
      const payload = this.buffered.subarray(8, 8 + payloadLength);
      this.buffered = this.buffered.subarray(8 + payloadLength);
      this.handle(id, length, payload);
    }
  }

  private handle(id: string, length: number, payload: Buffer): void {
    if (this.upload && id !== 'DATA' && id !== 'DONE') return this.fail(`unexpected ${id} during SEND`);
    if (id !== 'DATA' && id !== 'DONE') this.log(`${id} ${payload.toString('utf8')}`.trim());
    switch (id) {
      case 'STAT':
        return this.stat(payload.toString('utf8'));
      case 'LIST':
        return this.list(payload.toString('utf8'));
      case 'SEND':
        return this.startUpload(payload.toString('utf8'));
      case 'DATA':
        if (!this.upload) return this.fail('DATA without SEND');
        this.upload.chunks.push(payload);
        return;
      case 'DONE':
        return this.finishUpload(length);
      case 'RECV':
        return this.download(payload.toString('utf8'));
      case 'QUIT':
        return this.close();
      default:
        return this.fail(`unknown sync request ${JSON.stringify(id)}`);
    }
  }

  private stat(path: string): void {
    const node = this.fs.stat(normalizePath(path));
    const reply = Buffer.alloc(16);
    reply.write('STAT', 0, 'latin1');
    if (node) {
      reply.writeUInt32LE((node.kind === 'dir' ? S_IFDIR : S_IFREG) | node.perm, 4);
      reply.writeUInt32LE(node.kind === 'dir' ? 4096 : node.data.length, 8);
      reply.writeUInt32LE(node.mtimeSec, 12);
    }
    this.write(reply);
  }

  private list(path: string): void {
    const directory = normalizePath(path);
    const node = this.fs.stat(directory);
    const names = node?.kind === 'dir' ? ['.', '..', ...this.fs.list(directory)] : [];
    // adbd builds the whole listing before it reaches the transport; one write keeps it one WRTE.
    const parts: Buffer[] = [];
    for (const name of names) {
      const child = name === '.' || name === '..' ? node : this.fs.stat(`${directory}/${name}`);
      const nameBytes = Buffer.from(name, 'utf8');
      const entry = Buffer.alloc(20 + nameBytes.length);
      entry.write('DENT', 0, 'latin1');
      entry.writeUInt32LE(child ? (child.kind === 'dir' ? S_IFDIR : S_IFREG) | child.perm : 0, 4);
      entry.writeUInt32LE(child?.kind === 'file' ? child.data.length : 4096, 8);
      entry.writeUInt32LE(child?.mtimeSec ?? 0, 12);
      entry.writeUInt32LE(nameBytes.length, 16);
      nameBytes.copy(entry, 20);
      parts.push(entry);
    }
    const done = Buffer.alloc(20);
    done.write('DONE', 0, 'latin1');
    parts.push(done);
    this.write(Buffer.concat(parts));
  }

  private startUpload(spec: string): void {
    const comma = spec.lastIndexOf(',');
    const path = comma === -1 ? spec : spec.slice(0, comma);
    const mode = comma === -1 ? 0o644 : Number(spec.slice(comma + 1));
    if (!path.startsWith('/') || !Number.isInteger(mode)) return this.fail(`bad SEND request ${JSON.stringify(spec)}`);
    this.upload = { path: normalizePath(path), perm: mode & 0o7777, chunks: [] };
  }

  private finishUpload(mtimeSec: number): void {
    const upload = this.upload;
    this.upload = undefined;
    if (!upload) return this.fail('DONE without SEND');
    try {
      // adbd creates missing parent directories of the target.
      const parent = upload.path.slice(0, upload.path.lastIndexOf('/')) || '/';
      this.fs.mkdir(parent, { parents: true });
      this.fs.writeFile(upload.path, Buffer.concat(upload.chunks), upload.perm, mtimeSec);
    } catch (error) {
      return this.fail(`couldn't create file: ${(error as Error).message}`);
    }
    const okay = Buffer.alloc(8);
    okay.write('OKAY', 0, 'latin1');
    this.write(okay);
  }

  private download(path: string): void {
    const node = this.fs.stat(normalizePath(path));
    if (node?.kind !== 'file') return this.fail(`open failed: No such file or directory`);
    for (let offset = 0; offset < node.data.length; offset += SYNC_DATA_MAX) {
      const chunk = node.data.subarray(offset, offset + SYNC_DATA_MAX);
      const header = Buffer.alloc(8);
      header.write('DATA', 0, 'latin1');
      header.writeUInt32LE(chunk.length, 4);
      this.write(Buffer.concat([header, chunk]));
    }
    const done = Buffer.alloc(8);
    done.write('DONE', 0, 'latin1');
    this.write(done);
  }

  private fail(message: string): void {
    const text = Buffer.from(message, 'utf8');
    const header = Buffer.alloc(8);
    header.write('FAIL', 0, 'latin1');
    header.writeUInt32LE(text.length, 4);
    this.write(Buffer.concat([header, text]));
    this.buffered = Buffer.alloc(0);
    this.upload = undefined;
  }
}
