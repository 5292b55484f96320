/**
 * A WebSocket frame codec written for tests only, independent of `src/protocol` on purpose: the
 * tests must not share a bug with the code they check. It can build frames no correct endpoint
 * would send (any opcode, RSV bits, unmasked client frames, lying length fields).
 */
import { randomBytes } from "node:crypto";

/** Opcodes of RFC 6455 section 5.2. */
export const Op = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** What to put in one frame. Every field has a sane default so cases name only what they bend. */
export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** FIN bit (default true). */
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number: 4 is RSV1, 2 is RSV2, 1 is RSV3 (default 0). */
  rsv?: number;
  /** true: a random key; a 4-byte key: that key; false: unmasked. */
  mask?: boolean | Uint8Array;
  /** The length written in the header when it should lie about the payload that follows. */
  declaredLength?: bigint;
  /** Forces the 16-bit or 64-bit length form even for short payloads. */
  lengthForm?: "7" | "16" | "64";
}

/** Bytes of a string, a Buffer or a Uint8Array, without copying Buffers. */
export function toBytes(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === "string") return Buffer.from(data, "utf8");
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Encodes one frame, header and (masked) payload, into a new buffer. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const length = spec.declaredLength ?? BigInt(payload.length);
  const form = spec.lengthForm ?? (length < 126n ? "7" : length < 65536n ? "16" : "64");
  const maskKey =
    spec.mask === true ? randomBytes(4) : spec.mask instanceof Uint8Array ? spec.mask : null;
  const lengthBytes = form === "7" ? 0 : form === "16" ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (maskKey ? 4 : 0));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0xf);
  const maskBit = maskKey ? 0x80 : 0;
  if (form === "7") {
    header[1] = maskBit | Number(length);
  } else if (form === "16") {
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!maskKey) return Buffer.concat([header, payload]);
  header.set(maskKey, 2 + lengthBytes);
  const masked = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ maskKey[i & 3];
  return Buffer.concat([header, masked]);
}

/** A close frame payload: 2-byte code then the reason (string or raw, possibly invalid, bytes). */
export function closePayload(code?: number, reason?: string | Uint8Array): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, toBytes(reason)]);
}

/** One frame as read off the wire, unmasked. */
export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** The code and reason of a close frame payload; code undefined when the payload is empty. */
export function parseClose(payload: Buffer): { code: number | undefined; reason: Buffer } {
  if (payload.length < 2) return { code: undefined, reason: Buffer.alloc(0) };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2) };
}

/**
 * Incremental frame reader: push any split of the stream, get whole frames. It checks only what it
 * needs to stay in sync (length form); judging the frames is the caller's job. Frames declaring
 * more than `maxFrameLength` bytes stop it with an error instead of buffering without bound.
 */
export class FrameReader {
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  /** Set when the stream can't be read as frames any more; no frames follow. */
  error: string | undefined;

  constructor(
    private readonly onFrame: (frame: ParsedFrame) => void,
    private readonly maxFrameLength = 64 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    if (this.error) return;
    this.buffered.push(chunk);
    this.bufferedLength += chunk.length;
    // Bounded: every pass either consumes a whole frame or returns.
    while (!this.error) {
      const frame = this.readOne();
      if (!frame) return;
      this.onFrame(frame);
    }
  }

  /** Bytes received that are not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.bufferedLength;
  }

  private peek(count: number): Buffer | null {
    if (this.bufferedLength < count) return null;
    if (this.buffered[0].length < count) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0];
  }

  private take(count: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedLength = rest.length;
    return taken;
  }

  private readOne(): ParsedFrame | null {
    const start = this.peek(2);
    if (!start) return null;
    const masked = (start[1] & 0x80) !== 0;
    const short = start[1] & 0x7f;
    const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
    const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
    const header = this.peek(headerLength);
    if (!header) return null;
    let length: number;
    if (short === 126) length = header.readUInt16BE(2);
    else if (short === 127) {
      const big = header.readBigUInt64BE(2);
      if (big > BigInt(this.maxFrameLength)) {
        this.error = `frame declares ${big} bytes, more than this reader accepts`;
        return null;
      }
      length = Number(big);
    } else length = short;
    if (length > this.maxFrameLength) {
      this.error = `frame declares ${length} bytes, more than this reader accepts`;
      return null;
    }
    if (this.bufferedLength < headerLength + length) return null;
    const bytes = this.take(headerLength + length);
    const payload = Buffer.from(bytes.subarray(headerLength));
    if (masked) {
      const key = bytes.subarray(2 + lengthBytes, 2 + lengthBytes + 4);
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    }
    return {
      fin: (bytes[0] & 0x80) !== 0,
      rsv: (bytes[0] >> 4) & 7,
      opcode: bytes[0] & 0xf,
      masked,
      payload,
    };
  }
}
