/**
 * Super-network checkpoints: a directory with `manifest.json` (network spec, tensor table, training state, config)
 * and one binary file of float32 tensors. Written crash-safely: the binary goes to a fresh file name, is fsynced, then
 * the manifest is written to a temp file, fsynced and renamed over the old one (atomic on POSIX); old binaries are
 * deleted only after that. A kill -9 at any moment leaves either the previous or the new checkpoint, never a mix.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkSpec } from '../arch/index.ts';
import { FileFormatError, UserError } from '../errors.ts';
import { translateFileError } from '../fs-errors.ts';
import type { ParamInfo } from './weights.ts';

export const CHECKPOINT_FORMAT = 'netadapt-supernet-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MANIFEST = 'manifest.json';

export interface TensorEntry {
  /** `param/<name>`, `ema/<name>`, `opt.<slot>/<name>`. */
  key: string;
  shape: number[];
  /** Offset in float32 elements into the binary file. */
  offset: number;
  length: number;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  network: NetworkSpec;
  weightsFile: string;
  sha256: string;
  tensors: TensorEntry[];
  /** Trainer state and config (JSON; owned by train.ts). */
  state: unknown;
}

export interface CheckpointContents {
  network: NetworkSpec;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  state: unknown;
  manifest: CheckpointManifest;
}

export function checkpointExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

/** Writes and fsyncs `file`; a failed write (a full disk) removes the partial file so it frees what it took. */
function writeFileDurably(file: string, chunks: readonly Uint8Array[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) written += fs.writeSync(fd, chunk, written, chunk.byteLength - written);
    }
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw error;
  }
  fs.closeSync(fd);
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the renames are still ordered.
  }
}

type CheckpointTensors = ReadonlyArray<{ key: string; shape: number[]; data: Float32Array }>;

/** Writes a checkpoint into `dir`; OS errors (full disk, read-only folder) name the folder and what is kept. */
export function saveCheckpoint(dir: string, network: NetworkSpec, tensors: CheckpointTensors, state: unknown): string {
  try {
    return writeCheckpoint(dir, network, tensors, state);
  } catch (error) {
    throw translateFileError(error, {
      path: dir,
      what: 'the checkpoint folder',
      action: 'write',
      details: [
        'the checkpoint saved before this one (if any) is kept: its manifest is replaced only after new weights are written',
        'fix the problem and run the same command again to resume from it',
      ],
    });
  }
}

function writeCheckpoint(dir: string, network: NetworkSpec, tensors: CheckpointTensors, state: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  const entries: TensorEntry[] = [];
  let offset = 0;
  const hash = createHash('sha256');
  const chunks: Uint8Array[] = [];
  for (const t of tensors) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    chunks.push(bytes);
    hash.update(bytes);
    entries.push({ key: t.key, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const stamp = `${Date.now().toString(36)}-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const weightsFile = `weights-${stamp}.bin`;
  writeFileDurably(path.join(dir, weightsFile), chunks);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    network,
    weightsFile,
    sha256: hash.digest('hex'),
    tensors: entries,
    state,
  };
  const tmp = path.join(dir, `${MANIFEST}.tmp-${stamp}`);
  writeFileDurably(tmp, [Buffer.from(JSON.stringify(manifest))]);
  fs.renameSync(tmp, path.join(dir, MANIFEST));
  fsyncDir(dir);
  for (const name of fs.readdirSync(dir)) {
    const stale = (name.startsWith('weights-') && name.endsWith('.bin') && name !== weightsFile) || name.startsWith(`${MANIFEST}.tmp-`);
    if (stale) fs.rmSync(path.join(dir, name), { force: true });
  }
  return path.join(dir, MANIFEST);
}

/** The manifest alone (network, training state; no tensors read): for listing and checking checkpoints cheaply. */
export function readCheckpointManifest(dir: string): CheckpointManifest {
  const manifestPath = path.join(dir, MANIFEST);
  if (!fs.existsSync(manifestPath)) {
    throw new FileFormatError(`no super-network checkpoint in ${dir} (missing ${MANIFEST})`);
  }
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  } catch (err) {
    throw new FileFormatError(`checkpoint manifest ${manifestPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT || typeof manifest.weightsFile !== 'string' || !Array.isArray(manifest.tensors)) {
    throw new FileFormatError(`${manifestPath} is not a NetAdapt super-network checkpoint`);
  }
  if (manifest.version > CHECKPOINT_VERSION) {
    throw new FileFormatError(`checkpoint ${dir} has format version ${manifest.version}; this build reads up to ${CHECKPOINT_VERSION}`);
  }
  return manifest;
}

export function loadCheckpoint(dir: string): CheckpointContents {
  const manifest = readCheckpointManifest(dir);
  const binPath = path.join(dir, path.basename(manifest.weightsFile));
  if (!fs.existsSync(binPath)) throw new FileFormatError(`checkpoint ${dir} is incomplete: ${manifest.weightsFile} is missing`);
  const buffer = fs.readFileSync(binPath);
  const digest = createHash('sha256').update(buffer).digest('hex');
  if (digest !== manifest.sha256) {
    throw new FileFormatError(`checkpoint ${dir} is corrupt: ${manifest.weightsFile} does not match its checksum`);
  }
  const total = manifest.tensors.reduce((a, t) => Math.max(a, t.offset + t.length), 0);
  if (buffer.byteLength !== total * 4) {
    throw new FileFormatError(`checkpoint ${dir} is corrupt: ${manifest.weightsFile} has ${buffer.byteLength} bytes, expected ${total * 4}`);
  }
  const all = new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const entry of manifest.tensors) {
    tensors.set(entry.key, { shape: entry.shape, data: all.subarray(entry.offset, entry.offset + entry.length) });
  }
  return { network: manifest.network, tensors, state: manifest.state, manifest };
}

/**
 * Checks that the `group` tensors of a checkpoint are exactly the parameters of `layout` (names and shapes); throws a
 * UserError naming the first offending layer.
 */
export function checkTensorsMatch(
  layout: readonly ParamInfo[],
  tensors: CheckpointContents['tensors'],
  group: string,
  source: string,
): void {
  const expected = new Set<string>();
  for (const info of layout) {
    const key = `${group}/${info.name}`;
    expected.add(key);
    const found = tensors.get(key);
    if (!found) {
      throw new UserError(`checkpoint ${source} does not match the network: layer "${info.layer}" has no "${info.name}" in the checkpoint`, [
        'the checkpoint was written for a different network; use the network it was trained with or start a new run',
      ]);
    }
    if (found.shape.length !== info.shape.length || found.shape.some((d, i) => d !== info.shape[i])) {
      throw new UserError(
        `checkpoint ${source} does not match the network: layer "${info.layer}" parameter "${info.name}" has shape [${found.shape.join(', ')}] in the checkpoint but [${info.shape.join(', ')}] in the network`,
      );
    }
  }
  for (const key of tensors.keys()) {
    if (key.startsWith(`${group}/`) && !expected.has(key)) {
      const name = key.slice(group.length + 1);
      throw new UserError(`checkpoint ${source} does not match the network: it has "${name}", which the network does not have (layer "${name.split('.').slice(0, -1).join('.')}")`);
    }
  }
}
