/**
 * Outgoing frame queue of one connection. Frames queued during one event-loop turn leave in a
 * single `socket.write` (small frames copied into one buffer) or, when payloads are large, in
 * one corked batch that Node turns into a `writev` without copying the payloads.
 * @module
 */

import type { Duplex } from "node:stream";
import { maskInPlace, maskRange } from "../protocol/websocket/frame-serializer.js";

/** Called once the frame has been handed to the operating system, or with why it was not. */
export type WriteCallback = (error?: Error | null) => void;

/** One frame in the queue. A slot without a header is reserved: its bytes are not known yet. */
export interface WriteSlot {
  /** Frame header (with the mask key at its end when `mask`), or null while reserved. */
  header: Uint8Array | null;
  /** Payload bytes, unmasked. */
  payload: Uint8Array;
  /** Mask the payload with the last 4 header bytes when writing it. */
  mask: boolean;
  /** The payload belongs to the queue and may be masked in place instead of copied. */
  owned: boolean;
  /** Bytes this slot adds to `bufferedAmount` (application payload size). */
  size: number;
  callback: WriteCallback | undefined;
}

/** Total queued size at or below which every frame is copied into one buffer. */
const COALESCE_LIMIT = 64 * 1024;
/** Payloads at least this large are written as their own chunk (no copy) in a corked batch. */
const LARGE_PAYLOAD = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** The frame queue; `onFlushed` runs after each batch is written (the owner checks drain). */
export class WriteQueue {
  private readonly socket: Duplex;
  private readonly onFlushed: () => void;
  private slots: WriteSlot[] = [];
  private scheduled = false;
  private ending = false;
  private ended = false;
  private closedError: Error | null = null;
  /** Payload bytes in the queue (including reserved slots), not yet given to the socket. */
  queuedBytes = 0;
  private readonly flushNow = (): void => this.flush();

  constructor(socket: Duplex, onFlushed: () => void) {
    this.socket = socket;
    this.onFlushed = onFlushed;
  }

  /** Queues a complete frame; it leaves with the others of this event-loop turn. */
  push(
    header: Uint8Array,
    payload: Uint8Array,
    mask: boolean,
    owned: boolean,
    size: number,
    callback: WriteCallback | undefined,
  ): void {
    if (this.closedError !== null || this.ending) {
      this.reject(callback, this.closedError ?? new Error("WebSocket is closing"));
      return;
    }
    this.slots.push({ header, payload, mask, owned, size, callback });
    this.queuedBytes += size;
    this.schedule();
  }

  /**
   * Keeps a place in the queue for a frame whose bytes come later (compression); frames queued
   * after it wait. Returns null when the queue no longer accepts frames (callback already told).
   */
  reserve(size: number, callback: WriteCallback | undefined): WriteSlot | null {
    if (this.closedError !== null || this.ending) {
      this.reject(callback, this.closedError ?? new Error("WebSocket is closing"));
      return null;
    }
    const slot: WriteSlot = {
      header: null,
      payload: EMPTY,
      mask: false,
      owned: true,
      size,
      callback,
    };
    this.slots.push(slot);
    this.queuedBytes += size;
    return slot;
  }

  /** Supplies the bytes of a reserved slot. */
  fill(slot: WriteSlot, header: Uint8Array, payload: Uint8Array, mask: boolean): void {
    slot.header = header;
    slot.payload = payload;
    slot.mask = mask;
    if (this.slots[0] === slot || this.closedError !== null) this.schedule();
  }

  /** Drops a reserved slot whose bytes will never come; its callback gets `error`. */
  cancel(slot: WriteSlot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index === -1) return;
    this.slots.splice(index, 1);
    this.queuedBytes -= slot.size;
    this.reject(slot.callback, error);
    if (index === 0) this.schedule();
  }

  /** Ends the socket (FIN) once every queued frame has been written. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    this.flush();
  }

  /** Fails every queued frame: the socket is gone. Later frames are refused with `error`. */
  destroy(error: Error): void {
    if (this.closedError === null) this.closedError = error;
    const slots = this.slots;
    this.slots = [];
    this.queuedBytes = 0;
    for (const slot of slots) this.reject(slot.callback, error);
  }

  /** Writes every ready frame at the head of the queue now. */
  flush(): void {
    this.scheduled = false;
    const slots = this.slots;
    if (this.closedError !== null) {
      this.destroy(this.closedError);
      return;
    }
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      this.destroy(new Error("The socket is no longer writable"));
      return;
    }
    let count = 0;
    let total = 0;
    while (count < slots.length && slots[count].header !== null) {
      const slot = slots[count];
      total += slot.header!.length + slot.payload.length;
      count++;
    }
    if (count > 0) {
      const batch = count === slots.length ? slots : slots.slice(0, count);
      this.slots = count === slots.length ? [] : slots.slice(count);
      for (let i = 0; i < count; i++) this.queuedBytes -= batch[i].size;
      const done = this.completion(batch);
      if (total <= COALESCE_LIMIT) socket.write(concatFrames(batch, 0, count, total), done);
      else writeCorked(socket, batch, done);
    }
    if (this.ending && !this.ended && this.slots.length === 0) {
      this.ended = true;
      socket.end();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flushNow);
  }

  private completion(batch: WriteSlot[]): (error?: Error | null) => void {
    const onFlushed = this.onFlushed;
    return (error) => {
      for (const slot of batch) if (slot.callback !== undefined) slot.callback(error ?? null);
      onFlushed();
    };
  }

  private reject(callback: WriteCallback | undefined, error: Error): void {
    if (callback !== undefined) process.nextTick(callback, error);
  }
}

/** Copies frames [from, to) into one new buffer, masking client payloads on the way. */
function concatFrames(slots: WriteSlot[], from: number, to: number, total: number): Buffer {
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = from; i < to; i++) {
    const { header, payload } = slots[i];
    out.set(header!, offset);
    offset += header!.length;
    if (payload.length > 0) {
      out.set(payload, offset);
      if (slots[i].mask) maskRange(out, offset, offset + payload.length, maskKeyOf(header!), 0);
      offset += payload.length;
    }
  }
  return out;
}

/**
 * Writes a batch with large payloads: runs of small frames are still copied together, large
 * payloads go as their own chunks, all corked so the socket sends them with one writev.
 */
function writeCorked(
  socket: Duplex,
  slots: WriteSlot[],
  done: (error?: Error | null) => void,
): void {
  const chunks: Uint8Array[] = [];
  let runStart = 0;
  let runBytes = 0;
  for (let i = 0; i < slots.length; i++) {
    const { header, payload } = slots[i];
    // A prepared frame arrives whole in `header`, so both parts decide whether it is large.
    if (payload.length < LARGE_PAYLOAD && header!.length < LARGE_PAYLOAD) {
      runBytes += header!.length + payload.length;
      continue;
    }
    if (i > runStart) chunks.push(concatFrames(slots, runStart, i, runBytes));
    chunks.push(header!);
    if (payload.length > 0) chunks.push(slots[i].mask ? maskedPayload(slots[i]) : payload);
    runStart = i + 1;
    runBytes = 0;
  }
  if (slots.length > runStart) chunks.push(concatFrames(slots, runStart, slots.length, runBytes));
  socket.cork();
  const last = chunks.length - 1;
  // Write callbacks run in order, so the last one means the whole batch is written.
  for (let i = 0; i < last; i++) socket.write(chunks[i]);
  socket.write(chunks[last], done);
  socket.uncork();
}

function maskedPayload(slot: WriteSlot): Uint8Array {
  const key = maskKeyOf(slot.header!);
  if (slot.owned) {
    maskInPlace(slot.payload, key);
    return slot.payload;
  }
  const copy = Buffer.allocUnsafe(slot.payload.length);
  copy.set(slot.payload);
  maskInPlace(copy, key);
  return copy;
}

/** The mask key is the last 4 bytes of a masked frame header (RFC 6455 section 5.2). */
function maskKeyOf(header: Uint8Array): Uint8Array {
  return header.subarray(header.length - 4);
}
