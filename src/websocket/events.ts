/**
 * Event objects handed to browser-style listeners (`onmessage`, `addEventListener`, ...).
 * They carry the fields of the DOM `Event`, `MessageEvent`, `CloseEvent` and `ErrorEvent`
 * interfaces that WebSocket code reads, without depending on a DOM implementation.
 * @module
 */

/** The object events are dispatched at; typed loosely so this module has no import cycle. */
export type EventTargetLike = object;

/** A DOM-style event: `type`, `target` and the fixed flags of a non-bubbling, trusted event. */
export class Event {
  /** The event name: "open", "message", "error" or "close". */
  readonly type: string;
  /** The WebSocket the event is dispatched at. */
  readonly target: EventTargetLike | null;
  /** Milliseconds since the time origin when the event was created. */
  readonly timeStamp: number;

  constructor(type: string, target: EventTargetLike | null = null) {
    this.type = type;
    this.target = target;
    this.timeStamp = performance.now();
  }

  /** Same as `target`: WebSocket events never bubble. */
  get currentTarget(): EventTargetLike | null {
    return this.target;
  }

  /** Same as `target` (legacy DOM alias). */
  get srcElement(): EventTargetLike | null {
    return this.target;
  }

  /** WebSocket events do not bubble. */
  get bubbles(): boolean {
    return false;
  }

  /** WebSocket events cannot be cancelled. */
  get cancelable(): boolean {
    return false;
  }

  /** Always false: there is no default action to prevent. */
  get defaultPrevented(): boolean {
    return false;
  }

  /** Events are dispatched by the connection itself, like a browser's trusted events. */
  get isTrusted(): boolean {
    return true;
  }

  /** No-op: there is no default action (kept so DOM code calling it does not break). */
  preventDefault(): void {}

  /** No-op: events do not propagate (kept so DOM code calling it does not break). */
  stopPropagation(): void {}
}

/** Fields of a {@link MessageEvent}. */
export interface MessageEventInit {
  /** A string for text messages; Buffer, ArrayBuffer, Blob or Buffer[] for binary ones. */
  data: unknown;
  /** The origin of the WebSocket's URL, e.g. "ws://example.com:8080" (WHATWG). */
  origin?: string;
}

/** A received message, as delivered to `onmessage`. */
export class MessageEvent extends Event {
  /** The message: a string for text, and for binary what `binaryType` selects. */
  readonly data: unknown;
  /** The serialized origin of the WebSocket's URL, as browsers set it ("" when unknown). */
  readonly origin: string;
  /** Always "" for WebSocket messages. */
  readonly lastEventId = "";
  /** Always null for WebSocket messages. */
  readonly source = null;
  /** Always empty for WebSocket messages. */
  readonly ports: readonly never[] = [];

  constructor(type: string, init: MessageEventInit, target: EventTargetLike | null = null) {
    super(type, target);
    this.data = init.data;
    this.origin = init.origin ?? "";
  }
}

/** Fields of a {@link CloseEvent}. */
export interface CloseEventInit {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** The end of a connection, as delivered to `onclose`. */
export class CloseEvent extends Event {
  /** The close code the peer sent, 1005 when it sent none, 1006 when the connection dropped. */
  readonly code: number;
  /** The close reason the peer sent (UTF-8 decoded), or "". */
  readonly reason: string;
  /** True when the closing handshake completed. */
  readonly wasClean: boolean;

  constructor(type: string, init: CloseEventInit, target: EventTargetLike | null = null) {
    super(type, target);
    this.code = init.code;
    this.reason = init.reason;
    this.wasClean = init.wasClean;
  }
}

/** Fields of an {@link ErrorEvent}. */
export interface ErrorEventInit {
  error: Error;
  message: string;
}

/**
 * A failure, as delivered to `onerror`. Browsers fire a plain `Event`; the extra `error` and
 * `message` fields tell Node code what went wrong without breaking browser code.
 */
export class ErrorEvent extends Event {
  /** What went wrong. */
  readonly error: Error;
  /** `error.message`. */
  readonly message: string;

  constructor(type: string, init: ErrorEventInit, target: EventTargetLike | null = null) {
    super(type, target);
    this.error = init.error;
    this.message = init.message;
  }
}
