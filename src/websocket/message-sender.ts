/**
 * Turns messages into frames for one connection: opcodes across fragments, the per-message
 * compression decision, mask keys, and the order of sends when a Blob or a compression job makes
 * some of them wait. Frames go to the {@link WriteQueue}, which coalesces the writes.
 * @module
 */

import { noop } from "../protocol/noop.js";
import { Opcode } from "../protocol/websocket/constants.js";
import { MaskKeyPool } from "../protocol/websocket/frame-serializer.js";
import type { PerMessageDeflate } from "./permessage-deflate.js";
import { type WriteCallback, WriteQueue, type WriteSlot } from "./write-queue.js";

/** One process-wide source of mask keys: keys come from batched crypto-strength randomness. */
let maskKeys: MaskKeyPool | null = null;

function nextMaskKey(): Uint8Array {
  if (maskKeys === null) maskKeys = new MaskKeyPool();
  return maskKeys.next();
}

/**
 * ws's `generateMask`: fills the 4 bytes of a frame's mask key (a zero key in a benchmark, a
 * recorded one in a test). The key is still applied to the payload, whatever it is.
 */
export type GenerateMask = (mask: Buffer) => void;

/** Bit flags of one data frame (flags rather than an options object: no allocation per send). */
export const FrameFlags = {
  /** Binary (opcode 2) rather than text (opcode 1); ignored for continuation frames. */
  Binary: 1,
  /** Last frame of the message. */
  Fin: 2,
  /** Compress when permessage-deflate is in use and the message reaches the threshold. */
  Compress: 4,
  /** Mask the frame (client role). */
  Mask: 8,
} as const;

/** An operation kept in order behind a Blob being read. */
interface PendingOperation {
  run: (() => void) | null;
}

/** Frame builder of one connection. */
export class MessageSender {
  readonly #queue: WriteQueue;
  readonly #deflate: PerMessageDeflate | null;
  /** A fragmented message is open: next data frames are continuations. */
  #inMessage = false;
  /** The open message is compressed (decided on its first frame). */
  #messageCompressed = false;
  /** Operations waiting behind a Blob read, in send order; null when nothing waits. */
  #backlog: PendingOperation[] | null = null;
  #destroyedError: Error | null = null;
  /** The automatic pong still waiting in the queue, if any (see {@link sendAutoPong}). */
  #pendingPong: WriteSlot | null = null;
  /** Bytes of sends waiting behind a Blob read (part of `bufferedAmount`). */
  backlogBytes = 0;
  /**
   * Pings answered automatically whose pong has not been written yet, those answered by an
   * earlier pong taking the new payload included (what ws's `maxPendingAutoPongs` bounds).
   */
  unwrittenAutoPongs = 0;
  /** Per queued automatic pong, in queue order: how many pings it answers. Made at the first ping. */
  #autoPongAnswers: number[] | null = null;
  #autoPongWritten: WriteCallback | undefined = undefined;
  readonly #generateMask: GenerateMask | null;

  constructor(
    queue: WriteQueue,
    deflate: PerMessageDeflate | null,
    generateMask: GenerateMask | null = null,
  ) {
    this.#queue = queue;
    this.#deflate = deflate;
    this.#generateMask = generateMask;
  }

  /** A fresh mask key: the application's `generateMask`, else the shared random pool. */
  #maskKey(): Uint8Array {
    const generate = this.#generateMask;
    if (generate === null) return nextMaskKey();
    // Its own buffer: the key stays with its frame until the frame is written.
    const key = Buffer.alloc(4);
    generate(key);
    return key;
  }

  /** Sends one data frame of `payload`. `owned`: the sender may mask the bytes in place. */
  sendData(
    payload: Uint8Array,
    owned: boolean,
    flags: number,
    callback: WriteCallback | undefined,
  ): void {
    if (this.#backlog !== null) {
      this.#defer(payload.length, () =>
        this.#sendDataNow(payload, payload.length, owned, flags, callback),
      );
      return;
    }
    this.#sendDataNow(payload, payload.length, owned, flags, callback);
  }

  /**
   * Sends one data frame whose payload is `text` (`length`: its UTF-8 byte length). The text is
   * encoded when the frame leaves the queue, straight into the outgoing buffer, unless the
   * message is compressed (zlib needs the bytes now).
   */
  sendText(text: string, length: number, flags: number, callback: WriteCallback | undefined): void {
    if (this.#backlog !== null) {
      this.#defer(length, () => this.#sendDataNow(text, length, true, flags, callback));
      return;
    }
    this.#sendDataNow(text, length, true, flags, callback);
  }

  /** Sends a Blob as one data frame once its bytes are read; later sends keep their place. */
  sendBlob(blob: Blob, flags: number, callback: WriteCallback | undefined): void {
    this.#afterBlobRead(blob, callback, (bytes) => {
      this.#sendDataNow(bytes, bytes.length, true, flags, callback);
    });
  }

  /**
   * Sends a ping or pong whose payload is a Blob (at most 125 bytes, checked by the caller) once
   * its bytes are read, as ws does; later sends keep their place.
   */
  sendControlBlob(
    opcode: number,
    blob: Blob,
    mask: boolean,
    callback: WriteCallback | undefined,
  ): void {
    this.#afterBlobRead(blob, callback, (bytes) => {
      this.#sendControlNow(opcode, bytes, mask, callback);
    });
  }

  /**
   * Reads `blob` and then runs `send` with its bytes, in call order with every other send: the
   * sends made meanwhile wait behind it (counted in `backlogBytes`). A read that fails, or a
   * sender destroyed meanwhile, gives `callback` the error instead.
   */
  #afterBlobRead(
    blob: Blob,
    callback: WriteCallback | undefined,
    send: (bytes: Uint8Array) => void,
  ): void {
    if (this.#destroyedError !== null) {
      process.nextTick(callback ?? noop, this.#destroyedError);
      return;
    }
    const operation: PendingOperation = { run: null };
    if (this.#backlog === null) this.#backlog = [];
    this.#backlog.push(operation);
    const size = blob.size;
    this.backlogBytes += size;
    blob.arrayBuffer().then(
      (buffer) => {
        if (this.#destroyedError !== null) {
          if (callback !== undefined) callback(this.#destroyedError);
          return;
        }
        operation.run = () => {
          this.backlogBytes -= size;
          send(new Uint8Array(buffer));
        };
        this.#runBacklog();
      },
      (error: unknown) => {
        if (this.#destroyedError !== null) {
          if (callback !== undefined) callback(this.#destroyedError);
          return;
        }
        operation.run = () => {
          this.backlogBytes -= size;
          const reason = error instanceof Error ? error : new Error("Could not read the Blob");
          if (callback !== undefined) process.nextTick(callback, reason);
        };
        this.#runBacklog();
      },
    );
  }

  /** Sends a ping, pong or close frame (payload at most 125 bytes, checked by the caller). */
  sendControl(
    opcode: number,
    payload: Uint8Array,
    mask: boolean,
    callback: WriteCallback | undefined,
  ): void {
    if (this.#backlog !== null) {
      this.#defer(0, () => this.#sendControlNow(opcode, payload, mask, callback));
      return;
    }
    this.#sendControlNow(opcode, payload, mask, callback);
  }

  /**
   * Answers a ping. While the socket is past its high-water mark (the peer is not reading) and
   * an earlier answer still waits in the queue, that one is given the new payload instead of
   * queueing another frame: RFC 6455 section 5.5.3 allows answering only the most recent ping,
   * and a peer that floods pings without reading must not grow the queue by one pong per ping.
   * A peer that reads gets every pong (Autobahn 2.10 and 2.11 expect them).
   */
  sendAutoPong(payload: Uint8Array, mask: boolean): void {
    this.unwrittenAutoPongs++;
    let answers = this.#autoPongAnswers;
    if (answers === null) {
      const made: number[] = [];
      answers = made;
      this.#autoPongAnswers = made;
      this.#autoPongWritten = () => {
        this.unwrittenAutoPongs -= made.shift() ?? 0;
      };
    }
    const pending = this.#pendingPong;
    if (pending !== null && WriteQueue.isQueued(pending) && this.#queue.blocked) {
      // The mask key (client role) is applied when the frame is copied out; any fresh key works.
      pending.payload = payload;
      pending.length = payload.length;
      answers[answers.length - 1]++;
      return;
    }
    answers.push(1);
    const written = this.#autoPongWritten;
    if (this.#backlog !== null) {
      this.#defer(0, () => this.#sendControlNow(Opcode.Pong, payload, mask, written));
      return;
    }
    this.#pendingPong = this.#queue.push(
      Opcode.Pong,
      true,
      false,
      mask ? this.#maskKey() : null,
      payload,
      false,
      0,
      written,
    );
  }

  /** Sends a complete, already encoded frame (a prepared broadcast message). */
  sendEncoded(frame: Uint8Array, size: number, callback: WriteCallback | undefined): void {
    if (this.#backlog !== null) {
      this.#defer(size, () => this.#queue.pushEncoded(frame, size, callback));
      return;
    }
    this.#queue.pushEncoded(frame, size, callback);
  }

  /** Whether no message, deferred operation or failure is under way (its queue aside). */
  get atRest(): boolean {
    return (
      !this.#inMessage &&
      this.unwrittenAutoPongs === 0 &&
      this.#backlog === null &&
      this.backlogBytes === 0 &&
      this.#destroyedError === null
    );
  }

  /** Whether a fragmented message is open (a complete message cannot be sent in between). */
  get fragmenting(): boolean {
    return this.#inMessage;
  }

  /** Ends the socket after everything sent so far has been written. */
  end(): void {
    if (this.#backlog !== null) {
      this.#defer(0, () => this.#queue.end());
      return;
    }
    this.#queue.end();
  }

  /** Drops everything still waiting; callbacks get `error`. */
  destroy(error: Error): void {
    if (this.#destroyedError !== null) return;
    this.#destroyedError = error;
    const backlog = this.#backlog;
    this.#backlog = null;
    this.backlogBytes = 0;
    this.#queue.destroy(error);
    // Deferred sends still run so their callbacks learn the error (the queue refuses them);
    // a Blob still being read reports the error when the read ends.
    if (backlog !== null) for (const operation of backlog) operation.run?.();
    this.backlogBytes = 0;
  }

  /** `payload` is bytes, or text of `length` UTF-8 bytes. */
  #sendDataNow(
    payload: Uint8Array | string,
    length: number,
    owned: boolean,
    flags: number,
    callback: WriteCallback | undefined,
  ): void {
    const fin = (flags & FrameFlags.Fin) !== 0;
    const mask = (flags & FrameFlags.Mask) !== 0;
    let opcode: number;
    let compress: boolean;
    let rsv1: boolean;
    if (!this.#inMessage) {
      opcode = (flags & FrameFlags.Binary) !== 0 ? Opcode.Binary : Opcode.Text;
      compress =
        this.#deflate !== null &&
        (flags & FrameFlags.Compress) !== 0 &&
        length >= this.#deflate.threshold;
      this.#messageCompressed = compress;
      rsv1 = compress;
    } else {
      // The whole message follows the decision made on its first frame.
      opcode = Opcode.Continuation;
      compress = this.#messageCompressed;
      rsv1 = false;
    }
    this.#inMessage = !fin;
    if (!compress) {
      // The header is written by the queue straight into the outgoing buffer.
      const key = mask ? this.#maskKey() : null;
      if (typeof payload === "string")
        this.#queue.pushText(opcode, fin, key, payload, length, callback);
      else this.#queue.push(opcode, fin, false, key, payload, owned, length, callback);
      return;
    }
    const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
    // Small frames are compressed now (no thread-pool round trip, no reserved slot).
    const compressed = this.#deflate!.compressNow(bytes, fin);
    if (compressed !== null) {
      this.#queue.push(
        opcode,
        fin,
        rsv1,
        mask ? nextMaskKey() : null,
        compressed,
        true,
        length,
        callback,
      );
      return;
    }
    const slot = this.#queue.reserve(length, callback);
    if (slot === null) return;
    this.#deflate!.compress(bytes, fin, (error, result) => {
      if (error !== null || result === undefined) {
        this.#queue.cancel(slot, error ?? new Error("Compression failed"));
        return;
      }
      this.#queue.fill(slot, opcode, fin, rsv1, mask ? this.#maskKey() : null, result);
    });
  }

  #sendControlNow(
    opcode: number,
    payload: Uint8Array,
    mask: boolean,
    callback: WriteCallback | undefined,
  ): void {
    const key = mask ? this.#maskKey() : null;
    // Control frames are not application data: bufferedAmount counts only what send() queued.
    this.#queue.push(opcode, true, false, key, payload, false, 0, callback);
  }

  #defer(size: number, run: () => void): void {
    this.backlogBytes += size;
    this.#backlog!.push({
      run: () => {
        this.backlogBytes -= size;
        run();
      },
    });
  }

  #runBacklog(): void {
    const backlog = this.#backlog;
    if (backlog === null) return;
    let index = 0;
    while (index < backlog.length && backlog[index].run !== null) {
      const operation = backlog[index++];
      operation.run!();
      // A run may have destroyed the sender, which drops the backlog.
      if (this.#backlog !== backlog) return;
    }
    backlog.splice(0, index);
    if (backlog.length === 0) this.#backlog = null;
  }
}
