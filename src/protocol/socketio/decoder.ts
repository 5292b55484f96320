/**
 * Socket.IO protocol revision 5 decoder: feed it the data of each Engine.IO message of one
 * connection, in order; it returns complete packets, reassembling binary packets from their text
 * and the binary parts that follow.
 */

import { MAX_DEPTH } from "./attachment-extraction.js";
import {
  fillPlaceholders,
  findPlaceholders,
  type PlaceholderSlot,
} from "./attachment-reconstruction.js";
import { parsePacketText } from "./packet-parser.js";
import {
  type AckPacket,
  type EventPacket,
  type SocketPacket,
  SocketPacketType,
} from "./packet-types.js";

/** Decoder limits. */
export interface DecoderOptions {
  /**
   * Most binary attachments one packet may announce (default 10, the reference parser's). A packet
   * announcing more is refused as soon as its text arrives.
   */
  maxAttachments?: number;
  /**
   * Deepest nesting of arrays and objects accepted in packet data, the packet's own data array
   * counting as one level (default and maximum: the encoder's limit, 1000, so whatever arrives can
   * be sent back). A server that wraps received data before sending it on wants less.
   */
  maxDepth?: number;
}

/**
 * Result of {@link Decoder.add}: a complete packet; `packet: null` while binary parts of a packet
 * are still expected; or why the input breaks the protocol (the connection should be closed).
 */
export type SocketDecodeResult =
  | { ok: true; packet: SocketPacket | null }
  | { ok: false; reason: string };

/** The default limit on attachments per packet. */
export const DEFAULT_MAX_ATTACHMENTS = 10;

const NO_SLOTS: readonly PlaceholderSlot[] = Object.freeze([]);
/** Never pushed to: a binary packet's text replaces it with an array of its own. */
const NO_PARTS: Uint8Array[] = [];

const AWAITING: SocketDecodeResult = Object.freeze({ ok: true, packet: null });

/**
 * Stateful decoder for one connection. Never throws. After an error the partial packet (if any) is
 * dropped and the decoder starts afresh, though the peer should be disconnected anyway.
 *
 * Decoded binary values are the Uint8Array instances passed to {@link Decoder.add} (an ArrayBuffer
 * is wrapped in a Uint8Array view), not copies.
 */
export class Decoder {
  readonly #maxAttachments: number;
  readonly #maxDepth: number;
  #pending: EventPacket | AckPacket | null = null;
  // Shared empty arrays while no binary packet is being reassembled: a decoder per connection
  // holds nothing of its own until one arrives.
  #slots: readonly PlaceholderSlot[] = NO_SLOTS;
  #parts: Uint8Array[] = NO_PARTS;
  #expected = 0;

  /** @throws RangeError for a `maxAttachments` or `maxDepth` out of range (a programming error). */
  constructor(options: DecoderOptions = {}) {
    const max = options.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
    if (typeof max !== "number" || Number.isNaN(max) || max < 0) {
      throw new RangeError(`maxAttachments must be a non-negative number, got ${String(max)}`);
    }
    this.#maxAttachments = max;
    const depth = options.maxDepth ?? MAX_DEPTH;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
      throw new RangeError(
        `maxDepth must be an integer from 1 to ${MAX_DEPTH}, got ${String(depth)}`,
      );
    }
    this.#maxDepth = depth;
  }

  /** Binary parts still expected by the packet being reassembled (0 when none is). */
  get pendingAttachments(): number {
    return this.#expected - this.#parts.length;
  }

  /**
   * Feeds the data of one Engine.IO message: text starts a packet, bytes are the next attachment
   * of the packet being reassembled.
   */
  add(data: string | Uint8Array | ArrayBuffer): SocketDecodeResult {
    if (typeof data === "string") return this.#addText(data);
    if (data instanceof Uint8Array || data instanceof ArrayBuffer) return this.#addPart(data);
    return { ok: false, reason: "data is neither text nor binary" };
  }

  /** Drops any partially received binary packet. */
  reset(): void {
    this.#pending = null;
    this.#slots = NO_SLOTS;
    this.#parts = NO_PARTS;
    this.#expected = 0;
  }

  #addText(text: string): SocketDecodeResult {
    if (this.#pending !== null) {
      this.reset();
      return { ok: false, reason: "text packet while binary attachments were expected" };
    }
    const result = parsePacketText(text, this.#maxAttachments, this.#maxDepth);
    if (!result.ok) return result;
    const { type, nsp, id, data, attachments } = result.parsed;
    if (type === SocketPacketType.BinaryEvent || type === SocketPacketType.BinaryAck) {
      const slots = findPlaceholders(data, attachments);
      if (typeof slots === "string") return { ok: false, reason: slots };
      this.#pending = (
        type === SocketPacketType.BinaryEvent
          ? { type: SocketPacketType.Event, nsp, data, id }
          : { type: SocketPacketType.Ack, nsp, data, id }
      ) as EventPacket | AckPacket;
      this.#slots = slots;
      this.#parts = [];
      this.#expected = attachments;
      return AWAITING;
    }
    // parsePacketText checked the data and id against the type, so the shape matches SocketPacket.
    return { ok: true, packet: { type, nsp, data, id } as SocketPacket };
  }

  #addPart(part: Uint8Array | ArrayBuffer): SocketDecodeResult {
    const pending = this.#pending;
    if (pending === null) {
      return { ok: false, reason: "binary data while no binary packet was expected" };
    }
    this.#parts.push(part instanceof Uint8Array ? part : new Uint8Array(part));
    if (this.#parts.length < this.#expected) return AWAITING;
    fillPlaceholders(this.#slots, this.#parts);
    this.reset();
    return { ok: true, packet: pending };
  }
}
