// A tiny incremental reader for server-to-client frames (unmasked). It never copies or keeps
// payload bytes: it only walks headers and skips payloads, counting complete data messages.
// The optional `onPayload` hook lets the latency probe check echoed bytes; load connections
// leave it out. Masked frames are read too (their 4-byte key skipped, payload left masked): a
// plain TCP echo server sends the client's own frames back.

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;

/** Header bytes of a frame from its second byte: length field and, if masked, the key. */
function headerLength(byte1, len7) {
  return (len7 < 126 ? 2 : len7 === 126 ? 4 : 10) + ((byte1 & 0x80) !== 0 ? 4 : 0);
}

export class FrameCounter {
  /**
   * @param {(opcode: number, rsv1: boolean, length: number) => void} onMessage called at the
   *   end of each final data frame (opcode of the message's first frame, its total length).
   * @param {(opcode: number) => void} onControl called for close/ping/pong frames.
   * @param {((chunk: Buffer, start: number, end: number) => void) | undefined} onPayload
   */
  constructor(onMessage, onControl, onPayload) {
    this.onMessage = onMessage;
    this.onControl = onControl;
    this.onPayload = onPayload;
    this.state = STATE_HEADER;
    this.header = Buffer.alloc(14);
    this.headerHave = 0;
    this.remaining = 0;
    this.fin = false;
    this.opcode = 0;
    this.messageOpcode = 0;
    this.messageRsv1 = false;
    this.messageLength = 0;
  }

  /** Feeds one chunk; returns the number of complete data messages it finished. */
  push(chunk) {
    let messages = 0;
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.state === STATE_PAYLOAD) {
        const take = Math.min(this.remaining, end - pos);
        if (this.onPayload !== undefined && take > 0) this.onPayload(chunk, pos, pos + take);
        pos += take;
        this.remaining -= take;
        if (this.remaining === 0) messages += this.frameDone();
        continue;
      }
      // Header: fast path when the whole short header is in this chunk, byte-wise otherwise.
      if (this.headerHave === 0 && end - pos >= 2) {
        const len7 = chunk[pos + 1] & 0x7f;
        const need = headerLength(chunk[pos + 1], len7);
        if (end - pos >= need) {
          this.startFrame(chunk, pos, len7);
          pos += need;
          if (this.remaining === 0) messages += this.frameDone();
          else this.state = STATE_PAYLOAD;
          continue;
        }
      }
      this.header[this.headerHave++] = chunk[pos++];
      if (this.headerHave >= 2) {
        const len7 = this.header[1] & 0x7f;
        const need = headerLength(this.header[1], len7);
        if (this.headerHave === need) {
          this.startFrame(this.header, 0, len7);
          this.headerHave = 0;
          if (this.remaining === 0) messages += this.frameDone();
          else this.state = STATE_PAYLOAD;
        }
      }
    }
    return messages;
  }

  startFrame(bytes, at, len7) {
    const b0 = bytes[at];
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    if (len7 < 126) this.remaining = len7;
    else if (len7 === 126) this.remaining = bytes.readUInt16BE(at + 2);
    else this.remaining = Number(bytes.readBigUInt64BE(at + 2));
    if (this.opcode === 0x1 || this.opcode === 0x2) {
      this.messageOpcode = this.opcode;
      this.messageRsv1 = (b0 & 0x40) !== 0;
      this.messageLength = 0;
    }
    if (this.opcode < 0x8) this.messageLength += this.remaining;
  }

  frameDone() {
    this.state = STATE_HEADER;
    if (this.opcode >= 0x8) {
      this.onControl(this.opcode);
      return 0;
    }
    if (!this.fin) return 0;
    this.onMessage(this.messageOpcode, this.messageRsv1, this.messageLength);
    return 1;
  }
}
