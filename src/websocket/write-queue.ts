/**
 * Outgoing frame queue of one connection. Frames queued during one event-loop turn leave in a
 * single `socket.write` (small frames copied into one buffer, headers written straight into it)
 * or, when payloads are large, in one corked batch that Node turns into a `writev` without
 * copying the payloads.
 *
 * Connections with frames waiting are flushed together from one `process.nextTick` per turn for
 * the whole process, so a broadcast to many sockets costs one tick, not one per socket.
 *
 * A socket that cannot keep up (its own buffer is past its high-water mark) is given nothing
 * more until it emits `drain`: frames wait here as references to their payloads (text as the
 * string, encoded only when it leaves), and are copied only when they leave, at most
 * {@link FLUSH_BUDGET} bytes per write in buffers of at most 64 KiB, recycled once written. So a
 * peer that does not read costs the queue one small object per frame, never a copy per frame
 * parked in Node's Writable buffer. That matters beyond the bytes themselves: the old copy per
 * frame per turn left glibc's heap so fragmented that the process kept gigabytes after they were
 * freed (docs/design/websocket.md, "Why the RSS did not come back").
 * @module
 */

import { Socket } from "node:net";
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
/** Handed to the socket (or dropped): no longer in the queue. */
const GONE = 3;
/**
 * Like FRAME, but the payload is `text`, encoded as UTF-8 straight into the outgoing buffer when
 * the frame leaves: a string waiting in the queue costs no buffer of its own.
 */
const STRING = 4;

/** One frame in the queue. */
export class WriteSlot {
  /** FRAME, STRING, ENCODED, RESERVED, or GONE once it left the queue. */
  state: number;
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  /** Client frames: the key to mask the payload with while copying it out; null for servers. */
  maskKey: Uint8Array | null;
  /** Payload bytes, unmasked (or the whole frame when ENCODED; empty when STRING). */
  payload: Uint8Array;
  /** STRING: the payload as text; null otherwise. */
  text: string | null;
  /** Payload length in bytes (of `payload`, or of `text` encoded as UTF-8). */
  length: number;
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
    this.text = null;
    this.length = payload.length;
    this.owned = owned;
    this.size = size;
    this.callback = callback;
  }
}

/**
 * Total size at or below which a batch is copied into one buffer; also the largest buffer any
 * run of small frames is copied into. Below glibc's 128 KiB mmap threshold on purpose: freeing
 * an mmapped buffer raises that threshold to its size, and later allocations up to it then land
 * in the heap, which glibc returns to the system only from its top.
 */
const COALESCE_LIMIT = 64 * 1024;
/** Payloads at least this large are written as their own chunk (no copy) in a corked batch. */
const LARGE_PAYLOAD = 16 * 1024;
/**
 * Most bytes copied for one write (the first frame goes whatever its size). Large payloads that
 * go out as the caller's buffer are not copies and do not count. With Node's 16 KiB socket
 * high-water mark one such write puts the socket past its mark, so the rest waits for `drain`
 * in this queue. 256 KiB keeps a fast reader's throughput (the kernel usually takes it at once,
 * and `drain` follows in the same turn) while bounding what a connection that stopped reading
 * holds in copies.
 */
export const FLUSH_BUDGET = 256 * 1024;
/** A slot array grown past this by a burst is dropped once empty rather than kept. */
const KEPT_SLOT_CAPACITY = 1024;

const EMPTY = new Uint8Array(0);
/** Fills written positions of the slot array so it keeps no payload or callback alive. */
const VACANT = new WriteSlot(FRAME, 0, true, false, null, EMPTY, false, 0, undefined);

/** Told after each batch is written (the owner checks drain). */
export interface FlushListener {
  flushed(): void;
}

/** The frame queue; `owner.flushed()` runs after each batch is written. */
export class WriteQueue {
  readonly #socket: Duplex;
  readonly #owner: FlushListener;
  /**
   * Whether copies come from the recycled pool (see {@link takeCopy}): only for a `net.Socket`,
   * whose write callback means the kernel (or TLS) has consumed the bytes. Any other Duplex may
   * keep the chunk after calling back (an in-memory pair pushes it to its other side).
   */
  #recycling: boolean;
  /**
   * Pool buffers of each batch handed to the socket and not yet written, in write order (write
   * callbacks come in that order): one entry per batch, null when it used none.
   */
  #inFlight: (Buffer | Buffer[] | null)[] = [];
  #inFlightHead = 0;
  /**
   * Queued slots are `slots[head..tail)`; the array is reused from turn to turn. Taking frames
   * from the head only moves `head`, so a flush costs what it writes, not what stays queued.
   */
  #slots: WriteSlot[] = [];
  #head = 0;
  #tail = 0;
  #scheduled = false;
  /** A flush found the socket past its high-water mark: the next one runs on its `drain`. */
  #waitingForDrain = false;
  /** The socket's `drain` listener, made the first time the socket is found full. */
  #drainListener: (() => void) | null = null;
  #ending = false;
  #ended = false;
  #closedError: Error | null = null;
  /** Payload bytes in the queue (including reserved slots), not yet given to the socket. */
  queuedBytes = 0;

  /**
   * Whether nothing is queued, scheduled, awaited or in flight and the queue is open: a fresh
   * queue would carry on the same way.
   */
  get atRest(): boolean {
    return (
      this.#head === this.#tail &&
      this.queuedBytes === 0 &&
      !this.#scheduled &&
      !this.#waitingForDrain &&
      !this.#ending &&
      !this.#ended &&
      this.#closedError === null &&
      this.#inFlightHead === this.#inFlight.length
    );
  }

  constructor(socket: Duplex, owner: FlushListener) {
    this.#socket = socket;
    this.#owner = owner;
    this.#recycling = socket instanceof Socket;
  }

  /** Frames (data and control) waiting in the queue, not yet handed to the socket. */
  get length(): number {
    return this.#tail - this.#head;
  }

  /** Whether the socket is past its high-water mark: what is queued now waits for `drain`. */
  get blocked(): boolean {
    return this.#waitingForDrain || this.#socket.writableNeedDrain;
  }

  /** Whether `slot` still waits in the queue (neither handed to the socket nor dropped). */
  static isQueued(slot: WriteSlot): boolean {
    return slot.state !== GONE;
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
  ): WriteSlot | null {
    if (this.#closedError !== null || this.#ending) {
      this.#reject(callback, this.#closedError ?? new Error("WebSocket is closing"));
      return null;
    }
    const slot = new WriteSlot(FRAME, opcode, fin, rsv1, maskKey, payload, owned, size, callback);
    this.#slots[this.#tail++] = slot;
    this.queuedBytes += size;
    this.#schedule();
    return slot;
  }

  /**
   * Queues a frame whose payload is `text` (`length`: its UTF-8 byte length), encoded into the
   * outgoing buffer when the batch leaves; otherwise as {@link push}.
   */
  pushText(
    opcode: number,
    fin: boolean,
    maskKey: Uint8Array | null,
    text: string,
    length: number,
    callback: WriteCallback | undefined,
  ): void {
    if (this.#closedError !== null || this.#ending) {
      this.#reject(callback, this.#closedError ?? new Error("WebSocket is closing"));
      return;
    }
    const slot = new WriteSlot(STRING, opcode, fin, false, maskKey, EMPTY, true, length, callback);
    slot.text = text;
    slot.length = length;
    this.#slots[this.#tail++] = slot;
    this.queuedBytes += length;
    this.#schedule();
  }

  /** Queues a complete, already encoded frame (written as it is, never modified). */
  pushEncoded(frame: Uint8Array, size: number, callback: WriteCallback | undefined): void {
    if (this.#closedError !== null || this.#ending) {
      this.#reject(callback, this.#closedError ?? new Error("WebSocket is closing"));
      return;
    }
    this.#slots[this.#tail++] = new WriteSlot(
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
    this.#schedule();
  }

  /**
   * Keeps a place in the queue for a frame whose bytes come later (compression); frames queued
   * after it wait. Returns null when the queue no longer accepts frames (callback already told).
   */
  reserve(size: number, callback: WriteCallback | undefined): WriteSlot | null {
    if (this.#closedError !== null || this.#ending) {
      this.#reject(callback, this.#closedError ?? new Error("WebSocket is closing"));
      return null;
    }
    const slot = new WriteSlot(RESERVED, 0, true, false, null, EMPTY, true, size, callback);
    this.#slots[this.#tail++] = slot;
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
    // A slot dropped by destroy() or discard() is not queued any more: its bytes go nowhere.
    if (slot.state !== RESERVED) return;
    slot.state = FRAME;
    slot.opcode = opcode;
    slot.fin = fin;
    slot.rsv1 = rsv1;
    slot.maskKey = maskKey;
    slot.payload = payload;
    slot.length = payload.length;
    // Only the head of the queue unblocks anything.
    if (this.#head < this.#tail && this.#slots[this.#head] === slot) this.#schedule();
  }

  /** Drops a reserved slot whose bytes will never come; its callback gets `error`. */
  cancel(slot: WriteSlot, error: Error): void {
    // Rare (a compression failure): the search and the splice may cost the queue's length.
    const index = this.#indexOf(slot);
    if (index === -1) return;
    this.#slots.splice(index, 1);
    this.#tail--;
    slot.state = GONE;
    this.queuedBytes -= slot.size;
    this.#reject(slot.callback, error);
    if (index === this.#head) this.#schedule();
  }

  /** Ends the socket (FIN) once every queued frame has been written. */
  end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.flush();
  }

  /** Fails every queued frame: the socket is gone. Later frames are refused with `error`. */
  destroy(error: Error): void {
    if (this.#closedError === null) this.#closedError = error;
    if (this.#drainListener !== null) this.#socket.off("drain", this.#drainListener);
    this.discard(error);
  }

  /**
   * Drops every frame not yet handed to the socket (their callbacks get `error`) and goes on
   * accepting frames: used when the connection is failed because its peer does not read, so
   * that the close frame is the next thing the peer gets and the memory is freed now.
   */
  discard(error: Error): void {
    const slots = this.#slots;
    const head = this.#head;
    const tail = this.#tail;
    // A fresh array: reserved slots still held by the sender are no longer in the queue.
    this.#slots = [];
    this.#head = 0;
    this.#tail = 0;
    this.queuedBytes = 0;
    for (let i = head; i < tail; i++) {
      const slot = slots[i];
      slot.state = GONE;
      this.#reject(slot.callback, error);
    }
  }

  /**
   * Writes the ready frames at the head of the queue now, in batches of at most
   * {@link FLUSH_BUDGET} bytes, as long as the socket is below its high-water mark; what is left
   * goes on the socket's next `drain`.
   */
  flush(): void {
    this.#scheduled = false;
    if (this.#closedError !== null) {
      this.destroy(this.#closedError);
      return;
    }
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) {
      // A flush that finds nothing to write (the one scheduled by a close frame this queue
      // already wrote and ended on) has no one to tell: no Error made for every closed socket.
      if (this.#head !== this.#tail) this.destroy(new Error("The socket is no longer writable"));
      return;
    }
    while (this.#head < this.#tail && this.#slots[this.#head].state !== RESERVED) {
      if (socket.destroyed || socket.writableEnded) {
        // A write of this flush failed synchronously.
        this.destroy(new Error("The socket is no longer writable"));
        return;
      }
      if (socket.writableNeedDrain) {
        // The socket holds enough: handing it more would only park copies in its buffer.
        // Listened to only while waiting: an idle connection has no listener of its own here.
        if (!this.#waitingForDrain) {
          if (this.#drainListener === null) this.#drainListener = () => this.#onSocketDrain();
          socket.once("drain", this.#drainListener);
        }
        this.#waitingForDrain = true;
        return;
      }
      this.#writeBatch(socket);
    }
    if (this.#ending && !this.#ended && this.#head === this.#tail) {
      this.#ended = true;
      socket.end();
    }
  }

  /** Writes one batch from the head: ready frames up to the copy budget (at least one frame). */
  #writeBatch(socket: Duplex): void {
    const slots = this.#slots;
    const head = this.#head;
    const tail = this.#tail;
    let end = head;
    let total = 0;
    let copied = 0;
    let written = 0;
    let withCallback = false;
    while (end < tail) {
      const slot = slots[end];
      if (slot.state === RESERVED) break;
      const bytes = frameBytes(slot);
      const copies = copiedBytes(slot, bytes);
      if (end > head && copied + copies > FLUSH_BUDGET) break;
      copied += copies;
      total += bytes;
      written += slot.size;
      if (slot.callback !== undefined) withCallback = true;
      end++;
    }
    // Without callbacks to call, the write callback is a function made once per queue.
    const done = withCallback ? this.#completion(slots, head, end) : this.#written;
    const recycling = this.#recycling;
    let chunk: Buffer | null = null;
    let chunks: Uint8Array[] | null = null;
    if (total <= COALESCE_LIMIT) {
      const whole = recycling ? takeCopy(total) : null;
      chunk = whole === null ? Buffer.allocUnsafe(total) : whole.subarray(0, total);
      copyFrames(chunk, slots, head, end, null);
      if (recycling) this.#inFlight.push(whole);
    } else {
      const held: Buffer[] | null = recycling ? [] : null;
      chunks = largeBatchChunks(slots, head, end, held);
      if (held !== null) this.#inFlight.push(held.length === 0 ? null : held);
    }
    // Out of the queue before the socket sees the bytes: whatever the socket does
    // synchronously (a stand-in Duplex may end or flush us again) finds a consistent queue.
    this.queuedBytes -= written;
    this.#remove(end);
    if (chunk !== null) socket.write(chunk, done);
    else writeCorked(socket, chunks!, done);
  }

  /**
   * The write callback of every batch (through {@link completion} when frames have callbacks):
   * gives the batch's pool buffers back, then lets the owner check for drain.
   */
  readonly #written = (error?: Error | null): void => {
    if (this.#recycling) {
      const inFlight = this.#inFlight;
      const entry = inFlight[this.#inFlightHead];
      inFlight[this.#inFlightHead++] = null;
      if (this.#inFlightHead === inFlight.length) {
        this.#inFlight = inFlight.length > KEPT_SLOT_CAPACITY ? [] : inFlight;
        this.#inFlight.length = 0;
        this.#inFlightHead = 0;
      }
      if (error) {
        // The socket failed: the bytes may still be referenced by a write being torn down, so
        // nothing of this queue goes back to the pool any more (the buffers are left to GC).
        this.#recycling = false;
        this.#inFlight = [];
        this.#inFlightHead = 0;
      } else if (entry !== null && entry !== undefined) {
        giveBack(entry);
      }
    }
    this.#owner.flushed();
  };

  #onSocketDrain(): void {
    if (!this.#waitingForDrain) return;
    this.#waitingForDrain = false;
    // A flush already scheduled for this turn will find the socket ready.
    if (!this.#scheduled) this.flush();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    scheduleFlush(this);
  }

  /**
   * Takes the slots before `end` out of the queue: O(frames taken), whatever stays queued. The
   * array is reused for the next turn; a long-lived backlog is compacted now and then (amortized
   * O(1) per frame).
   */
  #remove(end: number): void {
    const slots = this.#slots;
    for (let i = this.#head; i < end; i++) {
      slots[i].state = GONE;
      slots[i] = VACANT;
    }
    const tail = this.#tail;
    if (end === tail) {
      this.#head = 0;
      this.#tail = 0;
      if (slots.length > KEPT_SLOT_CAPACITY) this.#slots = [];
      return;
    }
    this.#head = end;
    // Compact once the dead prefix is as long as what remains: each slot moves O(1) times.
    if (end >= KEPT_SLOT_CAPACITY && end >= tail - end) {
      slots.copyWithin(0, end, tail);
      clearSlots(slots, tail - end, tail);
      this.#head = 0;
      this.#tail = tail - end;
    }
  }

  #indexOf(slot: WriteSlot): number {
    for (let i = this.#head; i < this.#tail; i++) if (this.#slots[i] === slot) return i;
    return -1;
  }

  #completion(slots: WriteSlot[], from: number, to: number): WriteCallback {
    const callbacks: WriteCallback[] = [];
    for (let i = from; i < to; i++) {
      const callback = slots[i].callback;
      if (callback !== undefined) callbacks.push(callback);
    }
    const written = this.#written;
    return (error) => {
      for (const callback of callbacks) callback(error ?? null);
      written(error);
    };
  }

  #reject(callback: WriteCallback | undefined, error: Error): void {
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

/**
 * Bytes of a ready slot (`bytes` on the wire) that a batch copies: all of a small frame, only
 * the header of a large payload written as it is (a client's payload it may not mask in place
 * is copied too). Approximate for batches at or below COALESCE_LIMIT, which copy everything.
 */
function copiedBytes(slot: WriteSlot, bytes: number): number {
  const length = slot.length;
  if (length < LARGE_PAYLOAD || slot.state === STRING) return bytes;
  if (slot.state === ENCODED) return 0;
  return slot.maskKey !== null && !slot.owned ? bytes : bytes - length;
}

/** Bytes a ready slot puts on the wire. */
function frameBytes(slot: WriteSlot): number {
  const length = slot.length;
  if (slot.state === ENCODED) return length;
  return frameHeaderSize(length, slot.maskKey !== null) + length;
}

function clearSlots(slots: WriteSlot[], from: number, to: number): void {
  for (let i = from; i < to; i++) slots[i] = VACANT;
}

// ---- copy buffers, recycled ------------------------------------------------------------------

/**
 * Size classes of the recycled copy buffers. Copies below 4 KiB come from Node's own Buffer pool;
 * the largest class holds a full COALESCE_LIMIT run plus the header that may end it.
 */
const COPY_CLASSES = [8 * 1024, 16 * 1024, 32 * 1024, COALESCE_LIMIT + 64];
const POOLED_MIN = 4 * 1024;
/** Free buffers kept per class: at most 16 * (8 + 16 + 32 + 64) KiB, under 2 MiB, process-wide. */
const POOL_KEEP = 64;
const copyPool: Buffer[][] = COPY_CLASSES.map(() => []);

/**
 * A whole pool buffer that can hold `size` bytes, or null when `size` is not pooled. Reusing
 * copy buffers once their write completed is what keeps a busy process from making one fresh
 * malloc'd buffer per write: those die young but are freed only when V8 collects them, tens of
 * MB later, and glibc keeps the heap they grew (it only returns memory from the top of its heap).
 */
function takeCopy(size: number): Buffer | null {
  if (size < POOLED_MIN) return null;
  for (let c = 0; c < COPY_CLASSES.length; c++) {
    if (size <= COPY_CLASSES[c])
      return copyPool[c].pop() ?? Buffer.allocUnsafeSlow(COPY_CLASSES[c]);
  }
  return null;
}

/** Returns pool buffers whose write has completed. */
function giveBack(entry: Buffer | Buffer[]): void {
  if (Array.isArray(entry)) {
    for (const whole of entry) giveBack(whole);
    return;
  }
  const c = COPY_CLASSES.indexOf(entry.length);
  if (c !== -1 && copyPool[c].length < POOL_KEEP) copyPool[c].push(entry);
}

/** A buffer for a copy of `size` bytes: from the pool when `held` (which records it), else new. */
function copyBuffer(size: number, held: Buffer[] | null): Buffer {
  const whole = held === null ? null : takeCopy(size);
  if (whole === null) return Buffer.allocUnsafe(size);
  held!.push(whole);
  return whole.subarray(0, size);
}

/**
 * Copies frames [from, to) into `out`, writing their headers in place and masking client
 * payloads on the way. With `headerOnly`, its header ends the buffer (its payload is written as
 * a chunk of its own).
 */
function copyFrames(
  out: Buffer,
  slots: WriteSlot[],
  from: number,
  to: number,
  headerOnly: WriteSlot | null,
): Buffer {
  let offset = 0;
  for (let i = from; i < to; i++) {
    const slot = slots[i];
    const length = slot.length;
    if (slot.state === ENCODED) {
      out.set(slot.payload, offset);
    } else {
      const key = slot.maskKey;
      offset = writeFrameHeader(out, offset, slot.opcode, length, slot.fin, slot.rsv1, key);
      if (length === 0) continue;
      if (slot.state === STRING) writeText(out, offset, slot.text!, length);
      else out.set(slot.payload, offset);
      if (key !== null) maskRange(out, offset, offset + length, key, 0);
    }
    offset += length;
  }
  if (headerOnly !== null) {
    const { opcode, length, fin, rsv1, maskKey } = headerOnly;
    writeFrameHeader(out, offset, opcode, length, fin, rsv1, maskKey);
  }
  return out;
}

/** Writes `text`, `length` bytes in UTF-8, into `out` at `offset`. */
function writeText(out: Buffer, offset: number, text: string, length: number): void {
  // Only ASCII is as long in UTF-8 as in UTF-16 code units: Latin-1 copies it byte for byte,
  // without the UTF-8 encoder's work per character.
  out.write(text, offset, length, length === text.length ? "latin1" : "utf8");
}

/**
 * The chunks of a batch with large payloads: runs of small frames are still copied together
 * (with the header of the large frame that ends the run, and at most {@link COALESCE_LIMIT}
 * bytes per copy), large payloads are chunks of their own. `held` (null: no pool) collects the
 * pool buffers used.
 */
function largeBatchChunks(
  slots: WriteSlot[],
  from: number,
  to: number,
  held: Buffer[] | null,
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const run = (start: number, end: number, bytes: number, headerOnly: WriteSlot | null): Buffer =>
    copyFrames(copyBuffer(bytes, held), slots, start, end, headerOnly);
  let runStart = from;
  let runBytes = 0;
  for (let i = from; i < to; i++) {
    const slot = slots[i];
    const payload = slot.payload;
    // Text is encoded into the copy whatever its size: that is its only conversion.
    if (slot.length < LARGE_PAYLOAD || slot.state === STRING) {
      const bytes = frameBytes(slot);
      if (runBytes > 0 && runBytes + bytes > COALESCE_LIMIT) {
        chunks.push(run(runStart, i, runBytes, null));
        runStart = i;
        runBytes = 0;
      }
      runBytes += bytes;
      continue;
    }
    if (slot.state === ENCODED) {
      if (runBytes > 0) chunks.push(run(runStart, i, runBytes, null));
      chunks.push(payload);
    } else {
      const header = frameHeaderSize(payload.length, slot.maskKey !== null);
      chunks.push(run(runStart, i, runBytes + header, slot));
      chunks.push(slot.maskKey !== null ? maskedPayload(slot, slot.maskKey) : payload);
    }
    runStart = i + 1;
    runBytes = 0;
  }
  if (runBytes > 0) chunks.push(run(runStart, to, runBytes, null));
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
