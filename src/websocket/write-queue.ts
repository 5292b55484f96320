/**
 * Outgoing frame queue of one connection. Frames queued during one event-loop turn leave in a
 * single `socket.write` (small frames copied into one buffer, headers written straight into it)
 * or, when payloads are large, in one corked batch that Node turns into a `writev` without
 * copying the payloads.
 *
 * Connections with frames waiting are flushed together from one `process.nextTick` per turn for
 * the whole process, so a broadcast to many sockets costs one tick, not one per socket.
 * @module
 */

import type { Duplex } from "node:stream";
import {
  frameHeaderSize,
  maskInPlace,
  maskRange,
  writeFrameHeader,
} from "../protocol/websocket/frame-serializer.js";

/** Called once the frame has been handed to the operating system, or with why it was not. */
export type WriteCallback = (error?: Error | null) => void;

/** The header is written at flush time from the slot's fields. */
const FRAME = 0;
/** `payload` is a complete frame, header included (a prepared broadcast message). */
const ENCODED = 1;
/** Reserved: the bytes are not known yet (compression); frames queued after it wait. */
const RESERVED = 2;

/** One frame in the queue. */
export class WriteSlot {
  /** FRAME, ENCODED or RESERVED. */
  state: number;
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  /** Client frames: the key to mask the payload with while copying it out; null for servers. */
  maskKey: Uint8Array | null;
  /** Payload bytes, unmasked (or the whole frame when ENCODED). */
  payload: Uint8Array;
  /** The payload belongs to the queue and may be masked in place instead of copied. */
  owned: boolean;
  /** Bytes this slot adds to `bufferedAmount` (application payload size). */
  size: number;
  callback: WriteCallback | undefined;

  constructor(
    state: number,
    opcode: number,
    fin: boolean,
    rsv1: boolean,
    maskKey: Uint8Array | null,
    payload: Uint8Array,
    owned: boolean,
    size: number,
    callback: WriteCallback | undefined,
  ) {
    this.state = state;
    this.opcode = opcode;
    this.fin = fin;
    this.rsv1 = rsv1;
    this.maskKey = maskKey;
    this.payload = payload;
    this.owned = owned;
    this.size = size;
    this.callback = callback;
  }
}

/** Total queued size at or below which every frame is copied into one buffer. */
const COALESCE_LIMIT = 64 * 1024;
/** Payloads at least this large are written as their own chunk (no copy) in a corked batch. */
const LARGE_PAYLOAD = 16 * 1024;
/** A slot array grown past this by a burst is dropped once empty rather than kept. */
const KEPT_SLOT_CAPACITY = 1024;

const EMPTY = new Uint8Array(0);
/** Fills written positions of the slot array so it keeps no payload or callback alive. */
const VACANT = new WriteSlot(FRAME, 0, true, false, null, EMPTY, false, 0, undefined);

/** The frame queue; `onFlushed` runs after each batch is written (the owner checks drain). */
export class WriteQueue {
  private readonly socket: Duplex;
  private readonly onFlushed: () => void;
  /** Queued slots are `slots[0..count)`; the array is reused from turn to turn. */
  private slots: WriteSlot[] = [];
  private count = 0;
  private scheduled = false;
  private ending = false;
  private ended = false;
  private closedError: Error | null = null;
  /** Payload bytes in the queue (including reserved slots), not yet given to the socket. */
  queuedBytes = 0;

  constructor(socket: Duplex, onFlushed: () => void) {
    this.socket = socket;
    this.onFlushed = onFlushed;
  }

  /**
   * Queues a frame whose header is written when the batch leaves; it leaves with the others of
   * this event-loop turn. `maskKey` (client frames) masks a copy unless `owned`.
   */
  push(
    opcode: number,
    fin: boolean,
    rsv1: boolean,
    maskKey: Uint8Array | null,
    payload: Uint8Array,
    owned: boolean,
    size: number,
    callback: WriteCallback | undefined,
  ): void {
    if (this.closedError !== null || this.ending) {
      this.reject(callback, this.closedError ?? new Error("WebSocket is closing"));
      return;
    }
    this.slots[this.count++] = new WriteSlot(
      FRAME,
      opcode,
      fin,
      rsv1,
      maskKey,
      payload,
      owned,
      size,
      callback,
    );
    this.queuedBytes += size;
    this.schedule();
  }

  /** Queues a complete, already encoded frame (written as it is, never modified). */
  pushEncoded(frame: Uint8Array, size: number, callback: WriteCallback | undefined): void {
    if (this.closedError !== null || this.ending) {
      this.reject(callback, this.closedError ?? new Error("WebSocket is closing"));
      return;
    }
    this.slots[this.count++] = new WriteSlot(
      ENCODED,
      0,
      true,
      false,
      null,
      frame,
      false,
      size,
      callback,
    );
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
    const slot = new WriteSlot(RESERVED, 0, true, false, null, EMPTY, true, size, callback);
    this.slots[this.count++] = slot;
    this.queuedBytes += size;
    return slot;
  }

  /** Supplies the bytes of a reserved slot (the payload is the queue's: it may be masked in place). */
  fill(
    slot: WriteSlot,
    opcode: number,
    fin: boolean,
    rsv1: boolean,
    maskKey: Uint8Array | null,
    payload: Uint8Array,
  ): void {
    slot.state = FRAME;
    slot.opcode = opcode;
    slot.fin = fin;
    slot.rsv1 = rsv1;
    slot.maskKey = maskKey;
    slot.payload = payload;
    // Only the head of the queue unblocks anything; a slot dropped by destroy() is not queued.
    if (this.count > 0 && this.slots[0] === slot) this.schedule();
  }

  /** Drops a reserved slot whose bytes will never come; its callback gets `error`. */
  cancel(slot: WriteSlot, error: Error): void {
    const index = this.indexOf(slot);
    if (index === -1) return;
    this.slots.splice(index, 1);
    this.count--;
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
    const count = this.count;
    // A fresh array: reserved slots still held by the sender are no longer in the queue.
    this.slots = [];
    this.count = 0;
    this.queuedBytes = 0;
    for (let i = 0; i < count; i++) this.reject(slots[i].callback, error);
  }

  /** Writes every ready frame at the head of the queue now. */
  flush(): void {
    this.scheduled = false;
    if (this.closedError !== null) {
      this.destroy(this.closedError);
      return;
    }
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      this.destroy(new Error("The socket is no longer writable"));
      return;
    }
    const slots = this.slots;
    const count = this.count;
    let ready = 0;
    let total = 0;
    let written = 0;
    let withCallback = false;
    while (ready < count) {
      const slot = slots[ready];
      if (slot.state === RESERVED) break;
      total += frameBytes(slot);
      written += slot.size;
      if (slot.callback !== undefined) withCallback = true;
      ready++;
    }
    if (ready > 0) {
      // Without callbacks to call, the owner's drain check is the write callback: no closure.
      const done = withCallback ? this.completion(slots, ready) : this.onFlushed;
      const chunks = total <= COALESCE_LIMIT ? null : largeBatchChunks(slots, ready);
      const chunk = chunks === null ? copyFrames(slots, 0, ready, total, null) : null;
      // Out of the queue before the socket sees the bytes: whatever the socket does
      // synchronously (a stand-in Duplex may end or flush us again) finds a consistent queue.
      this.queuedBytes -= written;
      this.remove(ready);
      if (chunk !== null) socket.write(chunk, done);
      else writeCorked(socket, chunks!, done);
    }
    if (this.ending && !this.ended && this.count === 0) {
      this.ended = true;
      socket.end();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    scheduleFlush(this);
  }

  /** Takes the first `written` slots out of the queue, keeping the array for the next turn. */
  private remove(written: number): void {
    const slots = this.slots;
    const count = this.count;
    this.count = count - written;
    if (written === count && slots.length > KEPT_SLOT_CAPACITY) {
      this.slots = [];
      return;
    }
    if (written < count) slots.copyWithin(0, written, count);
    clearSlots(slots, count - written, count);
  }

  private indexOf(slot: WriteSlot): number {
    for (let i = 0; i < this.count; i++) if (this.slots[i] === slot) return i;
    return -1;
  }

  private completion(slots: WriteSlot[], count: number): WriteCallback {
    const callbacks: WriteCallback[] = [];
    for (let i = 0; i < count; i++) {
      const callback = slots[i].callback;
      if (callback !== undefined) callbacks.push(callback);
    }
    const onFlushed = this.onFlushed;
    return (error) => {
      for (const callback of callbacks) callback(error ?? null);
      onFlushed();
    };
  }

  private reject(callback: WriteCallback | undefined, error: Error): void {
    if (callback !== undefined) process.nextTick(callback, error);
  }
}

// ---- one flush tick per turn for the whole process ---------------------------------------------

/** Queues with frames waiting, in the order they asked; `dueQueues[0..dueCount)`. */
const dueQueues: (WriteQueue | null)[] = [];
let dueCount = 0;
let flushTickPending = false;

function scheduleFlush(queue: WriteQueue): void {
  dueQueues[dueCount++] = queue;
  if (flushTickPending) return;
  flushTickPending = true;
  process.nextTick(flushDueQueues);
}

function flushDueQueues(): void {
  let failed = false;
  let failure: unknown;
  // A queue that asks again while this runs is appended and flushed by this same loop.
  for (let i = 0; i < dueCount; i++) {
    const queue = dueQueues[i]!;
    dueQueues[i] = null;
    try {
      queue.flush();
    } catch (error) {
      // A throwing socket must not leave the other connections unflushed; the first error is
      // rethrown once they are done, as it would have been from its own tick.
      if (!failed) {
        failed = true;
        failure = error;
      }
    }
  }
  dueCount = 0;
  flushTickPending = false;
  if (dueQueues.length > KEPT_SLOT_CAPACITY) dueQueues.length = 0;
  if (failed) throw failure;
}

// ---- building the bytes ------------------------------------------------------------------------

/** Bytes a ready slot puts on the wire. */
function frameBytes(slot: WriteSlot): number {
  const length = slot.payload.length;
  if (slot.state === ENCODED) return length;
  return frameHeaderSize(length, slot.maskKey !== null) + length;
}

function clearSlots(slots: WriteSlot[], from: number, to: number): void {
  for (let i = from; i < to; i++) slots[i] = VACANT;
}

/**
 * Copies frames [from, to) into one new buffer of `total` bytes, writing their headers in place
 * and masking client payloads on the way. With `headerOnly`, its header ends the buffer (its
 * payload is written as a chunk of its own).
 */
function copyFrames(
  slots: WriteSlot[],
  from: number,
  to: number,
  total: number,
  headerOnly: WriteSlot | null,
): Buffer {
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = from; i < to; i++) {
    const slot = slots[i];
    const payload = slot.payload;
    const length = payload.length;
    if (slot.state === FRAME) {
      const key = slot.maskKey;
      offset = writeFrameHeader(out, offset, slot.opcode, length, slot.fin, slot.rsv1, key);
      if (length === 0) continue;
      out.set(payload, offset);
      if (key !== null) maskRange(out, offset, offset + length, key, 0);
    } else {
      out.set(payload, offset);
    }
    offset += length;
  }
  if (headerOnly !== null) {
    const { opcode, payload, fin, rsv1, maskKey } = headerOnly;
    writeFrameHeader(out, offset, opcode, payload.length, fin, rsv1, maskKey);
  }
  return out;
}

/**
 * The chunks of a batch with large payloads: runs of small frames are still copied together
 * (with the header of the large frame that ends the run), large payloads are chunks of their own.
 */
function largeBatchChunks(slots: WriteSlot[], count: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let runStart = 0;
  let runBytes = 0;
  for (let i = 0; i < count; i++) {
    const slot = slots[i];
    const payload = slot.payload;
    if (payload.length < LARGE_PAYLOAD) {
      runBytes += frameBytes(slot);
      continue;
    }
    if (slot.state === ENCODED) {
      if (runBytes > 0) chunks.push(copyFrames(slots, runStart, i, runBytes, null));
      chunks.push(payload);
    } else {
      const header = frameHeaderSize(payload.length, slot.maskKey !== null);
      chunks.push(copyFrames(slots, runStart, i, runBytes + header, slot));
      chunks.push(slot.maskKey !== null ? maskedPayload(slot, slot.maskKey) : payload);
    }
    runStart = i + 1;
    runBytes = 0;
  }
  if (runBytes > 0) chunks.push(copyFrames(slots, runStart, count, runBytes, null));
  return chunks;
}

/** Writes chunks corked, so the socket sends them with one writev. */
function writeCorked(socket: Duplex, chunks: Uint8Array[], done: WriteCallback): void {
  socket.cork();
  const last = chunks.length - 1;
  // Write callbacks run in order, so the last one means the whole batch is written.
  for (let i = 0; i < last; i++) socket.write(chunks[i]);
  socket.write(chunks[last], done);
  socket.uncork();
}

function maskedPayload(slot: WriteSlot, key: Uint8Array): Uint8Array {
  if (slot.owned) {
    maskInPlace(slot.payload, key);
    return slot.payload;
  }
  const copy = Buffer.allocUnsafe(slot.payload.length);
  copy.set(slot.payload);
  maskInPlace(copy, key);
  return copy;
}
