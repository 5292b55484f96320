/**
 * Incoming side of one connection: feeds socket bytes to the {@link FrameParser}, inflates
 * compressed messages, and hands messages and control frames to the connection strictly in
 * arrival order, even when an uncompressed message arrives while an earlier compressed one is
 * still inflating, or while the application has paused delivery. A message arrives with its last
 * frame, compressed or not: a control frame between the fragments of a message comes before it
 * (RFC 6455 5.4), so a ping inside a compressed message that is still arriving is answered at
 * once, and a protocol error there fails the connection at once.
 *
 * Everything it holds is bounded: undelivered events (the socket is paused at {@link HIGH_WATER}),
 * inflate jobs in flight (paused at {@link MAX_PENDING_INFLATES}), and the inflated bytes of a
 * message, gathered without an object per frame.
 * @module
 */

import { isUtf8 } from "node:buffer";
import { ByteAccumulator } from "../protocol/websocket/byte-accumulator.js";
import { CloseCode } from "../protocol/websocket/close-codes.js";
import type { Role } from "../protocol/websocket/constants.js";
import { FrameParser, type FrameParserEvents } from "../protocol/websocket/frame-parser.js";
import type { PerMessageDeflate } from "./permessage-deflate.js";

/** What the receiver hands to the connection, in arrival order. */
export interface ReceiverHandlers {
  message(data: Buffer, isBinary: boolean): void;
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  /** A valid close frame; `code` undefined when its payload was empty. */
  closeFrameReceived(code: number | undefined, reason: string): void;
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
  /** Message or control payload (a message being inflated: set once it is complete). */
  data: Buffer | null;
  /** A message being inflated: the bytes inflated from its frames so far. */
  inflated: ByteAccumulator | null;
  /** Message: all its frames are inflated. */
  done: boolean;
  code: number | undefined;
  text: string;
}

/** Undelivered events at which the socket is paused so inflation cannot pile up. */
const HIGH_WATER = 16;
/**
 * Compressed frames waiting for (or in) zlib at which the socket is paused. Each waiting frame
 * holds its bytes and a callback; without a bound, a message in many small compressed fragments
 * would queue them as fast as the socket delivers, however far behind zlib is.
 */
const MAX_PENDING_INFLATES = 1024;

/** ws's per-connection receive options (see `WebSocketServerOptions`). */
export interface ReceiverOptions {
  /** Deliver text and close reasons without the UTF-8 check (default false). */
  skipUtf8Validation?: boolean;
  /**
   * Whether several `message`/`ping`/`pong` events may be delivered in one event-loop turn
   * (default true); false delivers at most one per `setImmediate` turn.
   */
  allowSynchronousEvents?: boolean;
}

/** Ends the pause after an event delivered with `allowSynchronousEvents: false`. */
function endYield(receiver: MessageReceiver): void {
  receiver.endYield();
}

const INVALID_UTF8 = "Invalid UTF-8 in a text message";

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * The receiving pipeline of one connection. It is its parser's event sink itself (the
 * {@link FrameParserEvents} methods below), so a connection holds no closures for them.
 */
export class MessageReceiver implements FrameParserEvents {
  readonly #parser: FrameParser;
  readonly #deflate: PerMessageDeflate | null;
  readonly #handlers: ReceiverHandlers;
  readonly #queue: QueuedEvent[] = [];
  /**
   * The compressed message whose frames are arriving (inflated as they come), if one is open.
   * It joins the queue with its last frame.
   */
  #inflating: QueuedEvent | null = null;
  /** Compressed frames handed to zlib whose result has not come back. */
  #pendingInflates = 0;
  #paused = false;
  /** An event went out with `allowSynchronousEvents: false`: later ones wait for setImmediate. */
  #yielding = false;
  readonly #synchronousEvents: boolean;
  readonly #skipUtf8Validation: boolean;
  #flowing = true;
  #stopped = false;
  #delivering = false;
  #idleCallback: (() => void) | null = null;

  /** `maxFragments`: most frames per message (0: no limit); more fail the connection with 1008. */
  constructor(
    role: Role,
    maxPayload: number,
    maxFragments: number,
    deflate: PerMessageDeflate | null,
    handlers: ReceiverHandlers,
    options?: ReceiverOptions,
  ) {
    this.#deflate = deflate;
    this.#handlers = handlers;
    this.#synchronousEvents = options?.allowSynchronousEvents ?? true;
    this.#skipUtf8Validation = options?.skipUtf8Validation ?? false;
    this.#parser = new FrameParser(
      // Node's isUtf8 (simdutf) is as strict as the parser's own check; it takes the bulk of
      // large text pieces, the parser still tracks sequences cut at piece edges.
      {
        role,
        maxPayload,
        maxFragments,
        permessageDeflate: deflate !== null,
        isUtf8,
        skipUtf8Validation: this.#skipUtf8Validation,
      },
      this,
    );
  }

  /** @internal Parser event: a complete uncompressed message. */
  message(isBinary: boolean, payload: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#queue.length === 0 && !this.#paused && !this.#yielding) {
      this.#handlers.message(toBuffer(payload), isBinary);
      if (!this.#synchronousEvents) this.#startYield();
    } else {
      this.#enqueue(Kind.Message, isBinary, toBuffer(payload), undefined, "");
    }
  }

  /** @internal Parser event: one frame of a compressed message. */
  compressedFrame(isBinary: boolean, payload: Uint8Array, fin: boolean): void {
    // A small message in one frame with nothing ahead of it is inflated and delivered now.
    if (
      fin &&
      this.#inflating === null &&
      this.#queue.length === 0 &&
      !this.#paused &&
      !this.#yielding &&
      !this.#stopped
    ) {
      const data = this.#deflate!.decompressNow(payload, true);
      if (data !== null) {
        if (isBinary || this.#skipUtf8Validation || isUtf8(data)) {
          this.#handlers.message(data, isBinary);
          if (!this.#synchronousEvents) this.#startYield();
        } else {
          this.#parser.stop();
          this.#handlers.error(CloseCode.InvalidPayload, INVALID_UTF8);
        }
        return;
      }
      // Too large, busy, or failed: decompress() takes it (and reports a failure in order).
    }
    this.#inflateFrame(isBinary, payload, fin);
  }

  /** @internal Parser event: a ping. */
  ping(payload: Uint8Array): void {
    this.#control(Kind.Ping, payload);
  }

  /** @internal Parser event: a pong. */
  pong(payload: Uint8Array): void {
    this.#control(Kind.Pong, payload);
  }

  /** @internal Parser event: a valid close frame. */
  close(code: number | undefined, reason: string): void {
    this.#terminal(Kind.Close, code, reason);
  }

  /** @internal Parser event: a protocol violation. */
  error(closeCode: number, message: string): void {
    this.#terminal(Kind.Error, closeCode, message);
  }

  /** Parses bytes from the socket. */
  push(chunk: Uint8Array): void {
    if (!this.#stopped) this.#parser.push(chunk);
  }

  /** Holds back delivery (and pauses the socket) until {@link resume}. */
  pause(): void {
    this.#paused = true;
    this.#updateFlow();
  }

  /** Delivers what was held back, then lets the socket flow again. */
  resume(): void {
    this.#paused = false;
    this.#deliver();
    this.#updateFlow();
  }

  /** Whether delivery is paused by the application. */
  get isPaused(): boolean {
    return this.#paused;
  }

  /**
   * Whether nothing at all is under way (nothing queued, inflating, half parsed, paused or
   * stopped): a fresh receiver would carry on the same way.
   */
  get atRest(): boolean {
    return (
      this.#queue.length === 0 &&
      this.#inflating === null &&
      this.#pendingInflates === 0 &&
      !this.#paused &&
      this.#flowing &&
      !this.#stopped &&
      !this.#delivering &&
      !this.#yielding &&
      this.#idleCallback === null &&
      this.#parser.atRest
    );
  }

  /**
   * The input is over (the socket closed): calls `callback` once what was received is delivered
   * (now, if nothing waits). A compressed message still missing frames is dropped: it can never
   * complete, and waiting for it would hold the connection's `close` forever.
   */
  whenIdle(callback: () => void): void {
    this.#abandonOpenMessage();
    if (this.#queue.length === 0) callback();
    else this.#idleCallback = callback;
  }

  /** Stops parsing and drops everything undelivered (the connection is being torn down). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#parser.stop();
    this.#queue.length = 0;
    this.#inflating = null;
    this.#updateFlow();
    this.#notifyIdle();
  }

  /** Stops parsing but still delivers what was already received (a close frame arrived). */
  finishInput(): void {
    this.#parser.stop();
  }

  #control(kind: Kind, payload: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#queue.length === 0 && !this.#paused && !this.#yielding) {
      if (kind === Kind.Ping) this.#handlers.ping(toBuffer(payload));
      else this.#handlers.pong(toBuffer(payload));
      if (!this.#synchronousEvents) this.#startYield();
      return;
    }
    this.#enqueue(kind, false, toBuffer(payload), undefined, "");
  }

  #terminal(kind: Kind, code: number | undefined, text: string): void {
    if (this.#stopped) return;
    // Nothing is parsed after a close frame or an error: an open compressed message never ends.
    this.#abandonOpenMessage();
    if (this.#queue.length === 0 && !this.#paused && !this.#yielding) {
      this.#dispatchTerminal(kind, code, text);
      return;
    }
    this.#enqueue(kind, false, null, code, text);
    if (this.#queue[0].done) this.#deliver();
  }

  /**
   * Drops the compressed message still waiting for frames, if any (no more frames will come).
   * It is not in the queue yet; its pending inflate results are ignored.
   */
  #abandonOpenMessage(): void {
    const open = this.#inflating;
    if (open === null) return;
    this.#inflating = null;
    open.kind = Kind.Error;
    open.inflated = null;
  }

  #dispatchTerminal(kind: Kind, code: number | undefined, text: string): void {
    if (kind === Kind.Close) this.#handlers.closeFrameReceived(code, text);
    else this.#handlers.error(code ?? CloseCode.ProtocolError, text);
  }

  #inflateFrame(isBinary: boolean, payload: Uint8Array, fin: boolean): void {
    if (this.#stopped) return;
    let event = this.#inflating;
    if (event === null) {
      event = {
        kind: Kind.Message,
        isBinary,
        data: null,
        inflated: null,
        done: false,
        code: undefined,
        text: "",
      };
      this.#inflating = event;
    }
    if (fin) {
      // The message has arrived: it takes its place among the events.
      this.#inflating = null;
      this.#append(event);
    }
    const target = event;
    if (++this.#pendingInflates === MAX_PENDING_INFLATES) this.#updateFlow();
    this.#deflate!.decompress(payload, fin, (error, result) => {
      if (this.#pendingInflates-- === MAX_PENDING_INFLATES) this.#updateFlow();
      if (this.#stopped || target.kind !== Kind.Message) return;
      if (error !== null || result === undefined) {
        target.kind = Kind.Error;
        target.code = error?.closeCode ?? CloseCode.InvalidPayload;
        target.text = error?.message ?? "Decompression failed";
        target.inflated = null;
        target.done = true;
        // Nothing after a failed message can be delivered: stop reading more.
        this.#parser.stop();
        if (this.#inflating === target) {
          // Failed before its last frame: the failure takes the message's place now.
          this.#inflating = null;
          this.#append(target);
        }
      } else if (fin && target.inflated === null) {
        // A message in one frame (the common case): zlib's output as it is, no copy.
        this.#completeInflated(target, result);
      } else {
        if (target.inflated === null) target.inflated = new ByteAccumulator();
        target.inflated.append(result);
        if (fin) this.#completeInflated(target, null);
      }
      if (target.done && this.#queue[0] === target) this.#deliver();
    });
  }

  /** The message's last frame is inflated: `whole` is the message, or null to take the gathered bytes. */
  #completeInflated(event: QueuedEvent, whole: Buffer | null): void {
    let data: Buffer;
    if (whole !== null) {
      data = whole;
    } else {
      try {
        data = toBuffer(event.inflated!.take());
      } catch {
        // Only reachable without a maxPayload: the message cannot be held in memory.
        event.inflated = null;
        event.done = true;
        event.kind = Kind.Error;
        event.code = CloseCode.MessageTooBig;
        event.text = "message too large to buffer";
        return;
      }
    }
    event.inflated = null;
    event.done = true;
    if (!event.isBinary && !this.#skipUtf8Validation && !isUtf8(data)) {
      event.kind = Kind.Error;
      event.code = CloseCode.InvalidPayload;
      event.text = INVALID_UTF8;
      return;
    }
    event.data = data;
  }

  #enqueue(
    kind: Kind,
    isBinary: boolean,
    data: Buffer | null,
    code: number | undefined,
    text: string,
  ): QueuedEvent {
    const event: QueuedEvent = { kind, isBinary, data, inflated: null, done: true, code, text };
    this.#append(event);
    return event;
  }

  #append(event: QueuedEvent): void {
    this.#queue.push(event);
    if (this.#queue.length === HIGH_WATER) this.#updateFlow();
  }

  /** Delivers queued events from the head while they are complete and delivery is on. */
  #deliver(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      const queue = this.#queue;
      while (
        queue.length > 0 &&
        !this.#paused &&
        !this.#yielding &&
        !this.#stopped &&
        queue[0].done
      ) {
        const event = queue.shift()!;
        switch (event.kind) {
          case Kind.Message:
            this.#handlers.message(event.data!, event.isBinary);
            if (!this.#synchronousEvents) this.#startYield();
            break;
          case Kind.Ping:
            this.#handlers.ping(event.data!);
            if (!this.#synchronousEvents) this.#startYield();
            break;
          case Kind.Pong:
            this.#handlers.pong(event.data!);
            if (!this.#synchronousEvents) this.#startYield();
            break;
          default:
            // Nothing can follow a close frame or a protocol error.
            queue.length = 0;
            this.#dispatchTerminal(event.kind, event.code, event.text);
        }
      }
    } finally {
      this.#delivering = false;
    }
    this.#updateFlow();
    if (this.#queue.length === 0) this.#notifyIdle();
  }

  /** One event went out; the next waits for a later turn (ws's `allowSynchronousEvents: false`). */
  #startYield(): void {
    this.#yielding = true;
    setImmediate(endYield, this);
  }

  /** @internal The turn after an event delivered without synchronous events: deliver the next. */
  endYield(): void {
    this.#yielding = false;
    this.#deliver();
  }

  #notifyIdle(): void {
    const callback = this.#idleCallback;
    if (callback === null) return;
    this.#idleCallback = null;
    callback();
  }

  #updateFlow(): void {
    // Once stopped the socket keeps flowing (bytes are ignored) so its end is still seen.
    const flowing =
      this.#stopped ||
      (!this.#paused &&
        this.#queue.length < HIGH_WATER &&
        this.#pendingInflates < MAX_PENDING_INFLATES);
    if (flowing === this.#flowing) return;
    this.#flowing = flowing;
    this.#handlers.flow(flowing);
  }
}
