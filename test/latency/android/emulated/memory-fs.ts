/** The emulated device's tiny in-memory filesystem (absolute paths, no symlinks). */
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;

export interface FsNode {
  kind: 'file' | 'dir';
  /** Permission bits only (e.g. 0o755). */
  perm: number;
  data: Buffer;
  mtimeSec: number;
}

export class FsError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'EEXIST' | 'ENOTEMPTY',
    readonly path: string,
  ) {
    super(`${path}: ${describeCode(code)}`);
  }
}

function describeCode(code: FsError['code']): string {
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EISDIR':
      return 'Is a directory';
    case 'EEXIST':
      return 'File exists';
    case 'ENOTEMPTY':
      return 'Directory not empty';
  }
}

export function normalizePath(path: string, cwd = '/'): string {
  const absolute = path.startsWith('/') ? path : `${cwd}/${path}`;
  const parts: string[] = [];
  for (const part of absolute.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class MemoryFs {
  private readonly nodes = new Map<string, FsNode>();

  constructor() {
    this.nodes.set('/', { kind: 'dir', perm: 0o755, data: Buffer.alloc(0), mtimeSec: nowSec() });
  }

  stat(path: string): FsNode | undefined {
    return this.nodes.get(normalizePath(path));
  }

  readFile(path: string): Buffer {
    const node = this.nodes.get(normalizePath(path));
    if (!node) throw new FsError('ENOENT', path);
    if (node.kind === 'dir') throw new FsError('EISDIR', path);
    return node.data;
  }

  writeFile(path: string, data: Uint8Array | string, perm = 0o644, mtimeSec = nowSec()): void {
    const normalized = normalizePath(path);
    const parent = this.nodes.get(parentOf(normalized));
    if (!parent) throw new FsError('ENOENT', path);
    if (parent.kind !== 'dir') throw new FsError('ENOTDIR', path);
    const existing = this.nodes.get(normalized);
    if (existing?.kind === 'dir') throw new FsError('EISDIR', path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    this.nodes.set(normalized, { kind: 'file', perm: perm & 0o7777, data: bytes, mtimeSec });
  }

  mkdir(path: string, { parents = false } = {}): void {
    const normalized = normalizePath(path);
    const existing = this.nodes.get(normalized);
    if (existing) {
      if (parents && existing.kind === 'dir') return;
      throw new FsError(existing.kind === 'dir' ? 'EEXIST' : 'ENOTDIR', path);
    }
    const parent = parentOf(normalized);
    if (!this.nodes.has(parent)) {
      if (!parents) throw new FsError('ENOENT', path);
      this.mkdir(parent, { parents: true });
    }
    const parentNode = this.nodes.get(parent);
    if (parentNode?.kind !== 'dir') throw new FsError('ENOTDIR', path);
    this.nodes.set(normalized, { kind: 'dir', perm: 0o755, data: Buffer.alloc(0), mtimeSec: nowSec() });
  }

  chmod(path: string, perm: number): void {
    const node = this.nodes.get(normalizePath(path));
    if (!node) throw new FsError('ENOENT', path);
    node.perm = perm & 0o7777;
  }

  /** Names directly inside a directory, sorted. */
  list(path: string): string[] {
    const normalized = normalizePath(path);
    const node = this.nodes.get(normalized);
    if (!node) throw new FsError('ENOENT', path);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', path);
    const prefix = normalized === '/' ? '/' : `${normalized}/`;
    const names: string[] = [];
    for (const key of this.nodes.keys()) {
      if (key !== normalized && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) {
        names.push(key.slice(prefix.length));
      }
    }
    return names.sort();
  }

  remove(path: string, { recursive = false } = {}): void {
    const normalized = normalizePath(path);
    const node = this.nodes.get(normalized);
    if (!node || normalized === '/') throw new FsError('ENOENT', path);
    if (node.kind === 'dir') {
      const children = this.list(normalized);
      if (children.length > 0 && !recursive) throw new FsError('ENOTEMPTY', path);
      for (const child of children) this.remove(`${normalized}/${child}`, { recursive: true });
    }
    this.nodes.delete(normalized);
  }

  rename(from: string, to: string): void {
    const source = normalizePath(from);
    const node = this.nodes.get(source);
    if (!node) throw new FsError('ENOENT', from);
    if (node.kind === 'dir') throw new FsError('EISDIR', from);
    this.writeFile(to, node.data, node.perm, node.mtimeSec);
    this.nodes.delete(source);
  }

  /** Expand a glob pattern (`*`, `?`, `[...]` within path segments) to the sorted existing paths. */
  glob(pattern: string): string[] {
    const absolute = pattern.startsWith('/');
    const segments = pattern.split('/').filter((s) => s !== '');
    let candidates = [absolute ? '/' : ''];
    for (const segment of segments) {
      const next: string[] = [];
      for (const base of candidates) {
        const dir = base === '' ? '/' : base;
        if (!hasGlobChars(segment)) {
          const path = dir === '/' ? `/${segment}` : `${dir}/${segment}`;
          if (this.nodes.has(path)) next.push(path);
          continue;
        }
        const node = this.nodes.get(dir);
        if (node?.kind !== 'dir') continue;
        const regex = globSegmentToRegex(segment);
        for (const name of this.list(dir)) {
          if (name.startsWith('.') && !segment.startsWith('.')) continue;
          if (regex.test(name)) next.push(dir === '/' ? `/${name}` : `${dir}/${name}`);
        }
      }
      candidates = next;
    }
    return candidates.sort(comparePathsNaturally);
  }
}

/** The shell sorts glob results by byte order. */
function comparePathsNaturally(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function hasGlobChars(text: string): boolean {
  return /[*?[]/.test(text);
}

function globSegmentToRegex(segment: string): RegExp {
  let source = '^';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] as string;
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`${source}$`);
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}
