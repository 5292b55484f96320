/**
 * The client's outgoing packet queue: packets wait here while the transport cannot take them
 * (before the handshake, during an upgrade, while a polling POST is in flight), in order, with
 * their optional "written" callbacks, under a size bound.
 * @module
 */

import type { EnginePacket } from "../../protocol/engine/index.js";
import { utf8Length } from "../../protocol/utf8-length.js";

/** Packets taken from the buffer to be written together, with their callbacks. */
export interface SendBatch {
  packets: EnginePacket[];
  /** Index-aligned with `packets`; null when no packet of the batch has one. */
  callbacks: ((() => void) | undefined)[] | null;
}

/** The queue. Sizes are UTF-16 code units for text and bytes for binary (cheap to know). */
export class SendBuffer {
  #packets: EnginePacket[] = [];
  #callbacks: ((() => void) | undefined)[] | null = null;
  #amount = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Packets waiting. */
  get length(): number {
    return this.#packets.length;
  }

  /** Their summed size. */
  get amount(): number {
    return this.#amount;
  }

  /** Queues a packet; false (and nothing queued) when it would take the buffer past its bound. */
  push(packet: EnginePacket, callback?: () => void): boolean {
    const size = packetSize(packet);
    if (this.#amount + size > this.#limit && this.#packets.length > 0) return false;
    this.#amount += size;
    const index = this.#packets.push(packet) - 1;
    if (callback !== undefined) {
      this.#callbacks ??= [];
      this.#callbacks[index] = callback;
    }
    return true;
  }

  /**
   * Takes the longest prefix whose HTTP long-polling payload fits in `maxPayload` bytes (at least
   * one packet, which then goes alone even when larger: the server decides about it), or
   * everything when `maxPayload` is undefined.
   */
  take(maxPayload?: number): SendBatch {
    const count = maxPayload === undefined ? this.#packets.length : this.#fittingCount(maxPayload);
    if (count === this.#packets.length) {
      const batch: SendBatch = { packets: this.#packets, callbacks: this.#callbacks };
      this.#packets = [];
      this.#callbacks = null;
      this.#amount = 0;
      return batch;
    }
    const packets = this.#packets.splice(0, count);
    let callbacks: SendBatch["callbacks"] = null;
    if (this.#callbacks !== null) {
      callbacks = this.#callbacks.splice(0, count);
      if (this.#callbacks.length === 0) this.#callbacks = null;
    }
    for (let i = 0; i < packets.length; i++) this.#amount -= packetSize(packets[i]);
    return { packets, callbacks };
  }

  /** Drops everything (the connection closed). */
  clear(): void {
    this.#packets = [];
    this.#callbacks = null;
    this.#amount = 0;
  }

  #fittingCount(maxPayload: number): number {
    const packets = this.#packets;
    let bytes = 0;
    for (let i = 0; i < packets.length; i++) {
      // Record separator before every packet but the first.
      bytes += encodedPayloadBytes(packets[i]) + (i > 0 ? 1 : 0);
      if (i > 0 && bytes > maxPayload) return i;
    }
    return packets.length;
  }
}

/** The size a packet counts for against the buffer's bound. */
function packetSize(packet: EnginePacket): number {
  const data = packet.data;
  if (data === undefined) return 1;
  return 1 + (typeof data === "string" ? data.length : data.byteLength);
}

/** Bytes of a packet in a polling payload: its type digit and UTF-8 data, or "b" and base64. */
function encodedPayloadBytes(packet: EnginePacket): number {
  const data = packet.data;
  if (data === undefined) return 1;
  if (typeof data !== "string") return 1 + Math.ceil(data.byteLength / 3) * 4;
  return 1 + utf8Length(data);
}
