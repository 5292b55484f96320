/**
 * Incoming side of one connection: feeds socket bytes to the {@link FrameParser}, inflates
 * compressed messages, and hands messages and control frames to the connection strictly in
 * arrival order, even when an uncompressed message arrives while an earlier compressed one is
 * still inflating, or while the application has paused delivery.
 * @module
 */

import { isUtf8 } from "node:buffer";
import { CloseCode } from "../protocol/websocket/close-codes.js";
import type { Role } from "../protocol/websocket/constants.js";
import { FrameParser } from "../protocol/websocket/frame-parser.js";
import type { PerMessageDeflate } from "./permessage-deflate.js";

/** What the receiver hands to the connection, in arrival order. */
export interface ReceiverHandlers {
  message(data: Buffer, isBinary: boolean): void;
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  /** A valid close frame; `code` undefined when its payload was empty. */
  close(code: number | undefined, reason: string): void;
  /** The peer broke the protocol: answer with `closeCode` and fail the connection. */
  error(closeCode: number, message: string): void;
  /** Whether the socket should be flowing (false while delivery is paused or backlogged). */
  flow(flowing: boolean): void;
}

enum Kind {
  Message = 0,
  Ping = 1,
  Pong = 2,
  Close = 3,
  Error = 4,
}

/** An event waiting for its turn (or for its inflation to finish). */
interface QueuedEvent {
  kind: Kind;
  isBinary: boolean;
  /** Message or control payload; for a message being inflated, the inflated pieces so far. */
  data: Buffer | null;
  pieces: Buffer[] | null;
  /** Message: all its frames are inflated. */
  done: boolean;
  code: number | undefined;
  text: string;
}

/** Undelivered events at which the socket is paused so inflation cannot pile up. */
const HIGH_WATER = 16;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The receiving pipeline of one connection. */
export class MessageReceiver {
  private readonly parser: FrameParser;
  private readonly deflate: PerMessageDeflate | null;
  private readonly handlers: ReceiverHandlers;
  private readonly queue: QueuedEvent[] = [];
  /** The compressed message whose frames are being inflated, if one is open. */
  private inflating: QueuedEvent | null = null;
  private paused = false;
  private flowing = true;
  private stopped = false;
  private delivering = false;
  private idleCallback: (() => void) | null = null;

  constructor(
    role: Role,
    maxPayload: number,
    deflate: PerMessageDeflate | null,
    handlers: ReceiverHandlers,
  ) {
    this.deflate = deflate;
    this.handlers = handlers;
    this.parser = new FrameParser(
      { role, maxPayload, permessageDeflate: deflate !== null },
      {
        message: (isBinary, payload) => {
          if (this.stopped) return;
          if (this.queue.length === 0 && !this.paused) {
            this.handlers.message(toBuffer(payload), isBinary);
          } else {
            this.enqueue(Kind.Message, isBinary, toBuffer(payload), undefined, "");
          }
        },
        compressedFrame: (isBinary, payload, fin) => this.inflateFrame(isBinary, payload, fin),
        ping: (payload) => this.control(Kind.Ping, payload),
        pong: (payload) => this.control(Kind.Pong, payload),
        close: (code, reason) => this.terminal(Kind.Close, code, reason),
        error: (closeCode, message) => this.terminal(Kind.Error, closeCode, message),
      },
    );
  }

  /** Parses bytes from the socket. */
  push(chunk: Uint8Array): void {
    if (!this.stopped) this.parser.push(chunk);
  }

  /** Holds back delivery (and pauses the socket) until {@link resume}. */
  pause(): void {
    this.paused = true;
    this.updateFlow();
  }

  /** Delivers what was held back, then lets the socket flow again. */
  resume(): void {
    this.paused = false;
    this.deliver();
    this.updateFlow();
  }

  /** Whether delivery is paused by the application. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Whether nothing is waiting to be delivered or inflated. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Calls `callback` once nothing is waiting (now, if nothing is). */
  whenIdle(callback: () => void): void {
    if (this.queue.length === 0) callback();
    else this.idleCallback = callback;
  }

  /** Stops parsing and drops everything undelivered (the connection is being torn down). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.parser.stop();
    this.queue.length = 0;
    this.inflating = null;
    this.updateFlow();
    this.notifyIdle();
  }

  /** Stops parsing but still delivers what was already received (a close frame arrived). */
  finishInput(): void {
    this.parser.stop();
  }

  private control(kind: Kind, payload: Uint8Array): void {
    if (this.stopped) return;
    if (this.queue.length === 0 && !this.paused) {
      if (kind === Kind.Ping) this.handlers.ping(toBuffer(payload));
      else this.handlers.pong(toBuffer(payload));
      return;
    }
    this.enqueue(kind, false, toBuffer(payload), undefined, "");
  }

  private terminal(kind: Kind, code: number | undefined, text: string): void {
    if (this.stopped) return;
    if (this.queue.length === 0 && !this.paused) {
      this.dispatchTerminal(kind, code, text);
      return;
    }
    this.enqueue(kind, false, null, code, text);
  }

  private dispatchTerminal(kind: Kind, code: number | undefined, text: string): void {
    if (kind === Kind.Close) this.handlers.close(code, text);
    else this.handlers.error(code ?? CloseCode.ProtocolError, text);
  }

  private inflateFrame(isBinary: boolean, payload: Uint8Array, fin: boolean): void {
    if (this.stopped) return;
    let event = this.inflating;
    if (event === null) {
      event = this.enqueue(Kind.Message, isBinary, null, undefined, "");
      event.pieces = [];
      event.done = false;
      this.inflating = event;
    }
    if (fin) this.inflating = null;
    const target = event;
    this.deflate!.decompress(payload, fin, (error, result) => {
      if (this.stopped || target.kind !== Kind.Message) return;
      if (error !== null || result === undefined) {
        target.kind = Kind.Error;
        target.code = error?.closeCode ?? CloseCode.InvalidPayload;
        target.text = error?.message ?? "Decompression failed";
        target.pieces = null;
        target.done = true;
        // Nothing after a failed message can be delivered: stop reading more.
        this.parser.stop();
      } else {
        if (result.length > 0) target.pieces!.push(result);
        if (fin) this.completeInflated(target);
      }
      if (target.done && this.queue[0] === target) this.deliver();
    });
  }

  private completeInflated(event: QueuedEvent): void {
    const pieces = event.pieces!;
    const data =
      pieces.length === 1
        ? pieces[0]
        : pieces.length === 0
          ? Buffer.alloc(0)
          : Buffer.concat(pieces);
    event.pieces = null;
    event.done = true;
    if (!event.isBinary && !isUtf8(data)) {
      event.kind = Kind.Error;
      event.code = CloseCode.InvalidPayload;
      event.text = "Invalid UTF-8 in a text message";
      return;
    }
    event.data = data;
  }

  private enqueue(
    kind: Kind,
    isBinary: boolean,
    data: Buffer | null,
    code: number | undefined,
    text: string,
  ): QueuedEvent {
    const event: QueuedEvent = { kind, isBinary, data, pieces: null, done: true, code, text };
    this.queue.push(event);
    if (this.queue.length === HIGH_WATER) this.updateFlow();
    return event;
  }

  /** Delivers queued events from the head while they are complete and delivery is on. */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      const queue = this.queue;
      while (queue.length > 0 && !this.paused && !this.stopped && queue[0].done) {
        const event = queue.shift()!;
        switch (event.kind) {
          case Kind.Message:
            this.handlers.message(event.data!, event.isBinary);
            break;
          case Kind.Ping:
            this.handlers.ping(event.data!);
            break;
          case Kind.Pong:
            this.handlers.pong(event.data!);
            break;
          default:
            // Nothing can follow a close frame or a protocol error.
            queue.length = 0;
            this.dispatchTerminal(event.kind, event.code, event.text);
        }
      }
    } finally {
      this.delivering = false;
    }
    this.updateFlow();
    if (this.queue.length === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    const callback = this.idleCallback;
    if (callback === null) return;
    this.idleCallback = null;
    callback();
  }

  private updateFlow(): void {
    // Once stopped the socket keeps flowing (bytes are ignored) so its end is still seen.
    const flowing = this.stopped || (!this.paused && this.queue.length < HIGH_WATER);
    if (flowing === this.flowing) return;
    this.flowing = flowing;
    this.handlers.flow(flowing);
  }
}
