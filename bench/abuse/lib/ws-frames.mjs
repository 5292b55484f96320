// Raw WebSocket frames for the abusers and the well-behaved probe: a masked client-frame encoder
// that can leave FIN unset (fragments), and an incremental reader of server frames that keeps at
// most `keep` bytes of each message (the rest is only counted) and every close frame's code and
// reason. Neither WebSocket implementation under test is used on the client side.
import { randomFillSync } from "node:crypto";

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** One masked client frame; `fin` false makes a fragment. */
export function maskedFrame(opcode, payload, fin = true) {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const length = data.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + extra + 4 + length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (extra === 0) frame[1] = 0x80 | length;
  else if (extra === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const keyAt = 2 + extra;
  randomFillSync(frame, keyAt, 4);
  const at = keyAt + 4;
  for (let i = 0; i < length; i++) frame[at + i] = data[i] ^ frame[keyAt + (i & 3)];
  return frame;
}

/**
 * `count` one-byte frames making one message: the first with `opcode`, the others
 * continuations, FIN only on the last. All share one mask key (any key is valid), so the whole
 * stream is built with a handful of copies.
 */
export function oneByteFragments(count, opcode = OP_BINARY) {
  const frameSize = 2 + 4 + 1;
  const out = Buffer.allocUnsafe(count * frameSize);
  const key = Buffer.alloc(4);
  randomFillSync(key);
  for (let i = 0; i < count; i++) {
    const at = i * frameSize;
    out[at] = (i === count - 1 ? 0x80 : 0) | (i === 0 ? opcode : OP_CONTINUATION);
    out[at + 1] = 0x80 | 1;
    key.copy(out, at + 2);
    out[at + 6] = 0x61 ^ key[0]; // "a"
  }
  return out;
}

/** A close frame's payload as { code, reason }; code 1005 when it has none. */
export function parseClosePayload(payload) {
  if (payload.length < 2) return { code: 1005, reason: "" };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString("utf8") };
}

/**
 * Incremental reader of unmasked server frames.
 * `onMessage(opcode, length, head)`: a complete data message, `head` its first `keep` bytes.
 * `onControl(opcode, payload)`: close, ping and pong frames with their payload.
 */
export class FrameReader {
  constructor({ onMessage, onControl, keep = 256 }) {
    this.onMessage = onMessage;
    this.onControl = onControl;
    this.keep = keep;
    this.header = Buffer.alloc(14);
    this.headerHave = 0;
    this.inPayload = false;
    this.remaining = 0;
    this.opcode = 0;
    this.fin = false;
    this.messageOpcode = 0;
    this.messageLength = 0;
    this.messageHead = [];
    this.messageHeadLength = 0;
    this.control = [];
    this.bytes = 0;
  }

  push(chunk) {
    this.bytes += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.inPayload) {
        const take = Math.min(this.remaining, chunk.length - pos);
        this.payloadBytes(chunk.subarray(pos, pos + take));
        pos += take;
        this.remaining -= take;
        if (this.remaining === 0) this.frameDone();
        continue;
      }
      this.header[this.headerHave++] = chunk[pos++];
      if (this.headerHave < 2) continue;
      const len7 = this.header[1] & 0x7f;
      const masked = (this.header[1] & 0x80) !== 0;
      const need = 2 + (len7 < 126 ? 0 : len7 === 126 ? 2 : 8) + (masked ? 4 : 0);
      if (this.headerHave < need) continue;
      this.headerHave = 0;
      this.fin = (this.header[0] & 0x80) !== 0;
      this.opcode = this.header[0] & 0x0f;
      this.remaining =
        len7 < 126
          ? len7
          : len7 === 126
            ? this.header.readUInt16BE(2)
            : Number(this.header.readBigUInt64BE(2));
      if (this.opcode === OP_TEXT || this.opcode === OP_BINARY) {
        this.messageOpcode = this.opcode;
        this.messageLength = 0;
        this.messageHead = [];
        this.messageHeadLength = 0;
      }
      this.control = [];
      if (this.remaining === 0) this.frameDone();
      else this.inPayload = true;
    }
  }

  payloadBytes(bytes) {
    if (this.opcode >= 0x8) {
      this.control.push(Buffer.from(bytes));
      return;
    }
    this.messageLength += bytes.length;
    if (this.messageHeadLength < this.keep) {
      const part = bytes.subarray(0, this.keep - this.messageHeadLength);
      this.messageHead.push(Buffer.from(part));
      this.messageHeadLength += part.length;
    }
  }

  frameDone() {
    this.inPayload = false;
    if (this.opcode >= 0x8) {
      this.onControl?.(this.opcode, Buffer.concat(this.control));
      return;
    }
    if (this.fin) {
      this.onMessage?.(this.messageOpcode, this.messageLength, Buffer.concat(this.messageHead));
    }
  }
}
