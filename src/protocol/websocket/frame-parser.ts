/**
 * Incremental, validating frame parser (RFC 6455 sections 5 and 8.1, RFC 7692 RSV1 use).
 *
 * Bytes can arrive split anywhere, down to one byte per `push`; the events are the same for every
 * split. A frame that lies whole inside one chunk is unmasked in place and handed on as a
 * `subarray` of that chunk (no copy); a message spread over several chunks or frames is collected
 * in a {@link ByteAccumulator} (small pieces copied into blocks, large ones kept as views) and
 * copied once, into a buffer of the exact total size, when it completes. So a fragment costs the
 * bytes it carries, and no object stays alive per fragment until the message ends.
 * @module
 */

import { ByteAccumulator } from "./byte-accumulator.js";
import { CloseCode, parseClosePayload } from "./close-codes.js";
import { MAX_CONTROL_PAYLOAD, Opcode, type Role } from "./constants.js";
import { maskRangeWithKey } from "./frame-serializer.js";
import { Utf8Validator } from "./utf8.js";

/** How a {@link FrameParser} validates its input. */
export interface FrameParserOptions {
  /** "server": every frame must be masked; "client": no frame may be. */
  role: Role;
  /**
   * Largest message in bytes, its fragments summed (compressed size for compressed messages);
   * 0 means no limit. Checked on each frame header, before any payload is buffered.
   */
  maxPayload: number;
  /** Whether permessage-deflate was negotiated: RSV1 is then allowed on a message's first frame. */
  permessageDeflate: boolean;
  /**
   * Most frames one data message may have (its first frame and continuations); 0 or absent means
   * no limit. Checked on each frame header: the frame past the limit fails with 1008.
   */
  maxFragments?: number;
  /**
   * Optional strict whole-buffer UTF-8 check (Node's `buffer.isUtf8`) that speeds up validation
   * of large text pieces; the parser still validates incrementally and fails as early.
   */
  isUtf8?: (bytes: Uint8Array) => boolean;
  /**
   * Deliver text messages and close reasons without checking that they are UTF-8 (ws's opt-in
   * `skipUTF8Validation`, for peers trusted to send valid text). Default false.
   */
  skipUtf8Validation?: boolean;
}

/** What a {@link FrameParser} reports. Payloads may be views into the pushed chunks. */
export interface FrameParserEvents {
  /** A complete uncompressed data message; text already UTF-8 validated (incrementally). */
  message(isBinary: boolean, payload: Uint8Array): void;
  /** One frame of a compressed (RSV1) message, unmasked, in order. The edge inflates, caps, validates UTF-8. */
  compressedFrame(isBinary: boolean, payload: Uint8Array, fin: boolean): void;
  /** A ping frame's payload (at most 125 bytes). */
  ping(payload: Uint8Array): void;
  /** A pong frame's payload (at most 125 bytes). */
  pong(payload: Uint8Array): void;
  /** A valid close frame; `code` undefined for an empty payload. After it the parser ignores all input. */
  close(code: number | undefined, reason: string): void;
  /** A protocol violation: the close code to answer with (1002, 1007, 1008, 1009) and a message. Parser then ignores all input. */
  error(closeCode: number, message: string): void;
}

const TWO_POW_32 = 0x100000000;
/** High 32 bits of Number.MAX_SAFE_INTEGER: longer lengths cannot be counted exactly. */
const MAX_SAFE_HIGH = 0x1fffff;

/** Header size announced by the second header byte: 2, plus 2 or 8 length bytes, plus 4 key bytes. */
function headerSizeOf(b1: number): number {
  const length7 = b1 & 0x7f;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Turns a byte stream into validated WebSocket events. Every protocol violation is reported once
 * through `error` with the close code to send, after which input is ignored; nothing throws.
 * Not re-entrant: callbacks must not call {@link push} on the same parser. An exception thrown by
 * a callback propagates out of {@link push} and stops the parser.
 */
export class FrameParser {
  readonly #events: FrameParserEvents;
  readonly #requireMask: boolean;
  readonly #maxPayload: number;
  readonly #maxFragments: number;
  readonly #permessageDeflate: boolean;
  #stopped = false;

  /** Whether the next byte belongs to a frame header (else to a payload). */
  #inHeader = true;
  /**
   * A header split across chunks is gathered here (made when one is, dropped once complete:
   * most connections never need it, and an idle one holds nothing).
   */
  #header: Uint8Array | null = null;
  #headerFilled = 0;
  #headerSize = 0;

  // The frame being read.
  #fin = false;
  #rsv1 = false;
  #opcode = 0;
  #masked = false;
  /** The frame's masking key, its four bytes big-endian in one number. */
  #maskKey = 0;
  #frameLength = 0;
  #frameReceived = 0;
  /** Payload of a control frame spread over chunks (at most 125 bytes). */
  #control: Uint8Array | null = null;

  // The data message being read.
  /** Opcode of the open message (Text or Binary), 0 when none is open. */
  #messageOpcode = 0;
  #messageCompressed = false;
  /** Payload bytes announced so far by the message's frame headers. */
  #messageLength = 0;
  /** Frames of the open message so far. */
  #messageFrames = 0;
  #validateText = false;
  /** Made at the first uncompressed text message. */
  #utf8: Utf8Validator | null = null;
  readonly #isUtf8: ((bytes: Uint8Array) => boolean) | undefined;
  readonly #skipUtf8Validation: boolean;
  /**
   * Unmasked payload bytes not yet handed on: the message's (compressed: the frame's) so far.
   * Made the first time a message does not arrive whole in one chunk.
   */
  #gathered: ByteAccumulator | null = null;

  /** Creates a parser for one connection. */
  constructor(options: FrameParserOptions, events: FrameParserEvents) {
    this.#events = events;
    this.#requireMask = options.role === "server";
    this.#maxPayload = Math.max(options.maxPayload, 0);
    this.#maxFragments = Math.max(options.maxFragments ?? 0, 0);
    this.#permessageDeflate = options.permessageDeflate;
    this.#isUtf8 = options.isUtf8;
    this.#skipUtf8Validation = options.skipUtf8Validation ?? false;
  }

  /**
   * Parses the next bytes of the stream. Any split of the stream, down to one byte per call, gives
   * the same events. May unmask `chunk` in place and keep views into it until the message it
   * belongs to is complete, so the caller must not reuse the chunk's memory.
   */
  push(chunk: Uint8Array): void {
    const end = chunk.length;
    let pos = 0;
    try {
      while (pos < end && !this.#stopped) {
        pos = this.#inHeader
          ? this.#readHeader(chunk, pos, end)
          : this.#readPayload(chunk, pos, end);
      }
    } catch (error) {
      // Only a callback can throw. The rest of the chunk is unread, so the stream position is
      // lost: stop rather than misparse what follows, and let the caller see the exception.
      this.stop();
      throw error;
    }
  }

  /**
   * Whether the parser is between messages: no header, frame or fragmented message under way,
   * so a fresh parser would read what comes next the same way.
   */
  get atRest(): boolean {
    return (
      !this.#stopped && this.#inHeader && this.#headerFilled === 0 && this.#messageOpcode === 0
    );
  }

  /** Stops parsing for good (after close/error, or when the edge fails the connection). */
  stop(): void {
    this.#stopped = true;
    this.#release();
  }

  #readHeader(chunk: Uint8Array, pos: number, end: number): number {
    if (this.#headerFilled === 0 && end - pos >= 2) {
      // Common case: the header starts in this chunk, and usually ends in it too.
      const b1 = chunk[pos + 1];
      if (!this.#checkFirstBytes(chunk[pos], b1)) return end;
      const size = headerSizeOf(b1);
      if (end - pos >= size) {
        const length = this.#readLengthAndKey(chunk, pos + 2, b1);
        return length < 0 ? end : this.#startFrame(chunk, pos + size, length);
      }
      const header = new Uint8Array(14);
      header.set(chunk.subarray(pos, end));
      this.#header = header;
      this.#headerFilled = end - pos;
      this.#headerSize = size;
      return end;
    }
    if (this.#header === null) this.#header = new Uint8Array(14);
    const header = this.#header;
    while (pos < end) {
      header[this.#headerFilled++] = chunk[pos++];
      if (this.#headerFilled === 2) {
        if (!this.#checkFirstBytes(header[0], header[1])) return end;
        this.#headerSize = headerSizeOf(header[1]);
      }
      if (this.#headerFilled >= 2 && this.#headerFilled === this.#headerSize) {
        this.#headerFilled = 0;
        this.#header = null;
        const length = this.#readLengthAndKey(header, 2, header[1]);
        return length < 0 ? end : this.#startFrame(chunk, pos, length);
      }
    }
    return pos;
  }

  /** Validates the first two header bytes against the connection state; false after `fail`. */
  #checkFirstBytes(b0: number, b1: number): boolean {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    this.#fin = fin;
    this.#rsv1 = rsv1;
    this.#opcode = opcode;
    this.#masked = (b1 & 0x80) !== 0;
    if ((b0 & 0x30) !== 0)
      return this.#fail(CloseCode.ProtocolError, "RSV2 and RSV3 must be clear");
    if (opcode >= Opcode.Close) {
      if (opcode > Opcode.Pong)
        return this.#fail(CloseCode.ProtocolError, `unknown opcode ${opcode}`);
      if (!fin) return this.#fail(CloseCode.ProtocolError, "control frames must not be fragmented");
      if (rsv1) return this.#fail(CloseCode.ProtocolError, "RSV1 must be clear on control frames");
    } else if (opcode === Opcode.Continuation) {
      if (this.#messageOpcode === 0) {
        return this.#fail(
          CloseCode.ProtocolError,
          "continuation frame without a message to continue",
        );
      }
      if (rsv1)
        return this.#fail(CloseCode.ProtocolError, "RSV1 must be clear on continuation frames");
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.#messageOpcode !== 0) {
        return this.#fail(
          CloseCode.ProtocolError,
          "new data frame while a fragmented message is open",
        );
      }
      if (rsv1 && !this.#permessageDeflate) {
        return this.#fail(CloseCode.ProtocolError, "RSV1 must be clear without permessage-deflate");
      }
    } else {
      return this.#fail(CloseCode.ProtocolError, `unknown opcode ${opcode}`);
    }
    if (this.#masked !== this.#requireMask) {
      return this.#fail(
        CloseCode.ProtocolError,
        this.#requireMask
          ? "frames from a client must be masked"
          : "frames from a server must not be masked",
      );
    }
    return true;
  }

  /**
   * Reads the payload length (and masking key) of a complete header at `buf[offset..]`.
   * Non-minimal length encodings are accepted: RFC 6455 5.2 binds senders to the minimal form
   * but gives receivers no rule to fail on it. Returns -1 after `fail`.
   */
  #readLengthAndKey(buf: Uint8Array, offset: number, b1: number): number {
    let length = b1 & 0x7f;
    if (length === 126) {
      length = (buf[offset] << 8) | buf[offset + 1];
      offset += 2;
    } else if (length === 127) {
      const high =
        ((buf[offset] << 24) |
          (buf[offset + 1] << 16) |
          (buf[offset + 2] << 8) |
          buf[offset + 3]) >>>
        0;
      if (high > 0x7fffffff) {
        this.#fail(
          CloseCode.ProtocolError,
          "64-bit payload length with the most significant bit set",
        );
        return -1;
      }
      if (high > MAX_SAFE_HIGH) {
        this.#fail(CloseCode.MessageTooBig, "payload length above 2^53 - 1");
        return -1;
      }
      const low =
        ((buf[offset + 4] << 24) |
          (buf[offset + 5] << 16) |
          (buf[offset + 6] << 8) |
          buf[offset + 7]) >>>
        0;
      length = high * TWO_POW_32 + low;
      offset += 8;
    }
    if (this.#masked) {
      this.#maskKey =
        ((buf[offset] << 24) |
          (buf[offset + 1] << 16) |
          (buf[offset + 2] << 8) |
          buf[offset + 3]) >>>
        0;
    }
    return length;
  }

  /** Applies the length rules and enters the payload; `pos` is the first payload byte in `chunk`. */
  #startFrame(chunk: Uint8Array, pos: number, length: number): number {
    this.#frameLength = length;
    this.#frameReceived = 0;
    if (this.#opcode >= Opcode.Close) {
      if (length > MAX_CONTROL_PAYLOAD) {
        this.#fail(CloseCode.ProtocolError, "control frame payload longer than 125 bytes");
        return pos;
      }
      if (length === 0) this.#endControl(chunk.subarray(pos, pos));
      else this.#inHeader = false;
      return pos;
    }
    if (this.#opcode !== Opcode.Continuation) {
      this.#messageOpcode = this.#opcode;
      this.#messageCompressed = this.#rsv1;
      this.#messageLength = 0;
      this.#messageFrames = 1;
      this.#validateText = this.#opcode === Opcode.Text && !this.#rsv1 && !this.#skipUtf8Validation;
      if (this.#validateText) {
        if (this.#utf8 === null) this.#utf8 = new Utf8Validator(this.#isUtf8);
        else this.#utf8.reset();
      }
    } else if (++this.#messageFrames > this.#maxFragments && this.#maxFragments > 0) {
      this.#fail(CloseCode.PolicyViolation, "too many fragments in one message");
      return pos;
    }
    const total = this.#messageLength + length;
    if ((this.#maxPayload > 0 && total > this.#maxPayload) || total > Number.MAX_SAFE_INTEGER) {
      this.#fail(CloseCode.MessageTooBig, "message larger than maxPayload");
      return pos;
    }
    this.#messageLength = total;
    if (length === 0) this.#endDataFrame(chunk, pos, pos);
    else this.#inHeader = false;
    return pos;
  }

  #readPayload(chunk: Uint8Array, pos: number, end: number): number {
    const remaining = this.#frameLength - this.#frameReceived;
    const stop = end - pos < remaining ? end : pos + remaining;
    const count = stop - pos;
    if (this.#masked) maskRangeWithKey(chunk, pos, stop, this.#maskKey, this.#frameReceived & 3);

    if (this.#opcode >= Opcode.Close) {
      if (this.#frameReceived === 0 && count === remaining) {
        this.#inHeader = true;
        this.#endControl(chunk.subarray(pos, stop));
        return stop;
      }
      if (this.#control === null) this.#control = new Uint8Array(this.#frameLength);
      this.#control.set(chunk.subarray(pos, stop), this.#frameReceived);
      this.#frameReceived += count;
      if (this.#frameReceived === this.#frameLength) {
        const payload = this.#control;
        this.#control = null;
        this.#inHeader = true;
        this.#endControl(payload);
      }
      return stop;
    }

    // Validate as the bytes arrive so invalid text fails without waiting for the frame's end.
    if (this.#validateText && !this.#utf8!.feed(chunk, pos, stop)) {
      this.#fail(CloseCode.InvalidPayload, "invalid UTF-8 in text message");
      return end;
    }
    this.#frameReceived += count;
    if (this.#frameReceived < this.#frameLength) {
      this.#gatherer().append(chunk, pos, stop);
      return stop;
    }
    this.#inHeader = true;
    this.#endDataFrame(chunk, pos, stop);
    return stop;
  }

  /** A data frame is complete; `chunk[from..to)` is its final (or only) piece. */
  #endDataFrame(chunk: Uint8Array, from: number, to: number): void {
    const isBinary = this.#messageOpcode === Opcode.Binary;
    if (this.#messageCompressed) {
      // Compressed messages go on frame by frame: the edge inflates them as they come.
      const payload = this.#collect(chunk, from, to);
      if (payload === null) return;
      if (this.#fin) this.#messageOpcode = 0;
      this.#events.compressedFrame(isBinary, payload, this.#fin);
      return;
    }
    if (!this.#fin) {
      this.#gatherer().append(chunk, from, to);
      return;
    }
    if (this.#validateText && !this.#utf8!.finish()) {
      this.#fail(CloseCode.InvalidPayload, "invalid UTF-8 in text message: truncated sequence");
      return;
    }
    const payload = this.#collect(chunk, from, to);
    if (payload === null) return;
    this.#messageOpcode = 0;
    this.#events.message(isBinary, payload);
  }

  /**
   * The gathered bytes plus `chunk[from..to)`, as one buffer: a view of `chunk` when nothing was
   * gathered before (no copy), else one copy of the exact size.
   */
  #collect(chunk: Uint8Array, from: number, to: number): Uint8Array | null {
    const gathered = this.#gathered;
    if (gathered === null || gathered.length === 0) {
      return from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
    }
    gathered.append(chunk, from, to);
    try {
      return gathered.take();
    } catch {
      // Only reachable without a maxPayload: the message cannot be held in memory.
      this.#fail(CloseCode.MessageTooBig, "message too large to buffer");
      return null;
    }
  }

  #endControl(payload: Uint8Array): void {
    const opcode = this.#opcode;
    if (opcode === Opcode.Ping) {
      this.#events.ping(payload);
    } else if (opcode === Opcode.Pong) {
      this.#events.pong(payload);
    } else {
      const result = parseClosePayload(payload, this.#skipUtf8Validation);
      if (!result.ok) {
        this.#fail(result.closeCode, result.message);
        return;
      }
      this.#stopped = true;
      this.#release();
      this.#events.close(result.code, result.reason);
    }
  }

  /** Reports a violation once and stops; returns false for use in checks. */
  #fail(closeCode: number, message: string): false {
    if (this.#stopped) return false;
    this.#stopped = true;
    this.#release();
    this.#events.error(closeCode, message);
    return false;
  }

  #gatherer(): ByteAccumulator {
    if (this.#gathered === null) this.#gathered = new ByteAccumulator();
    return this.#gathered;
  }

  #release(): void {
    this.#gathered?.clear();
    this.#control = null;
    this.#header = null;
  }
}
