/**
 * The adbd transport message format (AOSP adb/protocol.txt): a 24-byte little-endian header
 * (command, arg0, arg1, data_length, data_check, magic = command ^ 0xffffffff) followed by the payload.
 * adb calls the check field "data_crc32" but fills it with the unsigned sum of the payload bytes; since
 * protocol version 0x01000001 the receiver no longer verifies it (and the adb 29 host was observed to accept
 * a wrong sum even at 0x01000000). We still send the correct sum and verify non-zero sums we receive.
 */
export const HEADER_LENGTH = 24;

export const A_CNXN = commandId('CNXN');
export const A_AUTH = commandId('AUTH');
export const A_OPEN = commandId('OPEN');
export const A_OKAY = commandId('OKAY');
export const A_WRTE = commandId('WRTE');
export const A_CLSE = commandId('CLSE');
export const A_SYNC = commandId('SYNC');

/** Version without payload checksum verification (adb ≥ 7.0 hosts send it). */
export const A_VERSION_SKIP_CHECKSUM = 0x01000001;
export const A_VERSION_MIN = 0x01000000;

export interface AdbPacket {
  command: number;
  arg0: number;
  arg1: number;
  payload: Buffer;
}

export function commandId(name: string): number {
  if (name.length !== 4) throw new Error(`adb command ids have 4 letters: ${name}`);
  return Buffer.from(name, 'latin1').readUInt32LE(0);
}

export function commandName(command: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(command >>> 0, 0);
  return b.toString('latin1');
}

export function payloadChecksum(payload: Uint8Array): number {
  let sum = 0;
  for (const byte of payload) sum = (sum + byte) >>> 0;
  return sum;
}

export function encodePacket(packet: AdbPacket): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32LE(packet.command >>> 0, 0);
  header.writeUInt32LE(packet.arg0 >>> 0, 4);
  header.writeUInt32LE(packet.arg1 >>> 0, 8);
  header.writeUInt32LE(packet.payload.length, 12);
  header.writeUInt32LE(payloadChecksum(packet.payload), 16);
  header.writeUInt32LE((packet.command ^ 0xffffffff) >>> 0, 20);
  return Buffer.concat([header, packet.payload]);
}

export class AdbProtocolError extends Error {}

/** Incremental decoder: feed socket chunks, get whole packets out. */
export class PacketDecoder {
  // Received bytes not yet decoded, kept as a list so a large packet arriving in many socket chunks is
  // copied once (when complete), not once per chunk.
  private chunks: Buffer[] = [];
  private bufferedLength = 0;

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): AdbPacket[] {
    this.chunks.push(chunk);
    this.bufferedLength += chunk.length;
    const packets: AdbPacket[] = [];
    while (this.bufferedLength >= HEADER_LENGTH) {
      const header = this.peek(HEADER_LENGTH);
      const command = header.readUInt32LE(0);
      const magic = header.readUInt32LE(20);
      if (((command ^ 0xffffffff) >>> 0) !== magic) {
        throw new AdbProtocolError(`bad magic for command 0x${command.toString(16)}`);
      }
      const length = header.readUInt32LE(12);
      if (length > this.maxPayload) throw new AdbProtocolError(`payload of ${length} bytes exceeds ${this.maxPayload}`);
      if (this.bufferedLength < HEADER_LENGTH + length) break;
      const whole = this.take(HEADER_LENGTH + length);
      const payload = whole.subarray(HEADER_LENGTH);
      const check = header.readUInt32LE(16);
      if (check !== 0 && check !== payloadChecksum(payload)) {
        throw new AdbProtocolError(`payload checksum mismatch for ${commandName(command)}`);
      }
      packets.push({ command, arg0: header.readUInt32LE(4), arg1: header.readUInt32LE(8), payload });
    }
    return packets;
  }

  /** The first `length` buffered bytes (merging chunks only as far as needed). */
  private peek(length: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= length) return first;
    const merged = Buffer.concat(this.chunks);
    this.chunks = [merged];
    return merged;
  }

  /** Remove and return the first `length` buffered bytes as a buffer of its own. */
  private take(length: number): Buffer {
    const merged = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const taken = Buffer.from(merged.subarray(0, length));
    const rest = merged.subarray(length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bufferedLength = rest.length;
    return taken;
  }
}
