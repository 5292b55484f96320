// Client-side frame encoding for the load generator. Every frame is encoded once, before the
// measurement, so the load loop only hands ready bytes to the socket: the client's per-message
// cost stays tiny and identical whatever server is on the other end.
import { randomFillSync } from "node:crypto";
import { constants, deflateRawSync } from "node:zlib";

export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;

/**
 * A deterministic, JSON-like ASCII payload of exactly `size` bytes. Chat-ish text compresses
 * like real traffic (a few times, not a thousand times), so the deflate runs do real work.
 * Another `seed` (a nonzero 32-bit integer) gives other lines of the same kind.
 */
export function makePayload(size, seed = 0x2545f491) {
  const words = ["hello", "world", "message", "status", "online", "typing", "room", "lobby"];
  const parts = [];
  let length = 0;
  for (let seq = 0; length < size; seq++) {
    // xorshift32: fixed sequence, so every run and every server sees the same bytes.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const word = words[(seed >>> 0) % words.length];
    const line = `{"seq":${seq},"user":"u${(seed >>> 8) % 997}","type":"${word}","text":"${word} ${words[(seed >>> 4) % words.length]}"}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join("").slice(0, size), "latin1");
}

/**
 * Compresses one message on its own (fresh deflate context, sync flush, 00 00 ff ff tail
 * removed, RFC 7692 section 7.2.1). Such a message is valid for a receiver with or without
 * context takeover, because it references nothing from earlier messages; that is what lets
 * one pre-compressed frame be sent over and over.
 */
export function compressMessage(payload, windowBits) {
  const out = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
  const n = out.length;
  if (
    n >= 4 &&
    out[n - 4] === 0 &&
    out[n - 3] === 0 &&
    out[n - 2] === 0xff &&
    out[n - 1] === 0xff
  ) {
    return out.subarray(0, n - 4);
  }
  return out;
}

/** One masked client frame (FIN set) with a random mask key; `rsv1` marks a compressed message. */
export function encodeMaskedFrame(opcode, payload, rsv1 = false) {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + 4);
  header[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (lengthBytes === 0) {
    header[1] = 0x80 | length;
  } else if (lengthBytes === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const key = header.subarray(2 + lengthBytes);
  randomFillSync(key);
  const frame = Buffer.alloc(header.length + length);
  header.copy(frame, 0);
  for (let i = 0; i < length; i++) frame[header.length + i] = payload[i] ^ key[i & 3];
  return frame;
}

/**
 * `count` copies of `frame` back to back, plus a view per batch length: `views[k]` is the
 * first k frames, so answering k echoes costs one write and no allocation.
 */
export function makeFrameBatches(frame, count) {
  const all = Buffer.alloc(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(all, i * frame.length);
  const views = [];
  for (let k = 0; k <= count; k++) views.push(all.subarray(0, k * frame.length));
  return views;
}
