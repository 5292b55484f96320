/**
 * The browser's listener API of a WebSocket (the WHATWG event handler attributes `onopen`,
 * `onmessage`, `onerror`, `onclose` and EventTarget's `addEventListener` and
 * `removeEventListener`), kept on its Node EventEmitter: each browser-style listener is wrapped in
 * an EventEmitter listener that builds the DOM event object (events.ts) and calls it, so both
 * kinds of listener run in the order they were added. The rules are ws's: setting an attribute
 * replaces the listener set before it, adding a listener already added for a type does nothing,
 * an attribute and an added listener are distinct even when they are the same function, and
 * `once` removes the listener after one event. A socket gets this bookkeeping only when its first
 * browser-style listener is added.
 * @module
 */

import { CloseEvent, ErrorEvent, Event, MessageEvent } from "./events.js";
import type { RawData, WebSocket } from "./websocket.js";

/** The browser event types and the event objects they deliver. */
export interface WebSocketBrowserEventMap {
  open: Event;
  message: MessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

/** A DOM-style listener: a function or an object with `handleEvent`. */
export type BrowserListener<E> =
  | ((this: WebSocket, event: E) => void)
  | { handleEvent(event: E): void };

/** Options of `addEventListener` (only `once` changes anything here). */
export interface BrowserListenerOptions {
  once?: boolean;
  capture?: boolean;
  passive?: boolean;
}

/** "open", "message", "error" or "close". */
export type BrowserEventType = keyof WebSocketBrowserEventMap;

/** A browser-style listener for any of the types. */
export type AnyBrowserListener = BrowserListener<never>;

/** Whether the closing handshake completed, which the socket alone knows (CloseEvent.wasClean). */
export type WasClean = (socket: WebSocket) => boolean;

const kListener = Symbol("listener");
const kAttribute = Symbol("attribute");

/** An EventEmitter listener that builds the DOM event and calls the browser-style listener. */
interface WrappedListener {
  (...args: never[]): void;
  [kListener]: AnyBrowserListener;
  [kAttribute]: boolean;
}

const BROWSER_TYPES = new Set<string>(["open", "message", "error", "close"]);

/** Whether `type` is one of the event types a WebSocket dispatches to browser-style listeners. */
export function isBrowserEventType(type: string): type is BrowserEventType {
  return BROWSER_TYPES.has(type);
}

/** Whether `value` can be a listener: a function or an object (called through `handleEvent`). */
export function isBrowserListener(value: unknown): value is AnyBrowserListener {
  return typeof value === "function" || (typeof value === "object" && value !== null);
}

/** The browser-style listeners of one WebSocket; made when the first one is added. */
export class BrowserListeners {
  readonly #socket: WebSocket;
  readonly #wasClean: WasClean;
  /** The wrappers of the attributes that are set (`onopen`...). */
  readonly #attributes: Partial<Record<BrowserEventType, WrappedListener>> = {};

  /** @param wasClean one function for all sockets, reading the socket's own state */
  constructor(socket: WebSocket, wasClean: WasClean) {
    this.#socket = socket;
    this.#wasClean = wasClean;
  }

  /** The listener the `on<type>` attribute holds, or null. */
  attribute<E>(type: BrowserEventType): BrowserListener<E> | null {
    const wrapper = this.#attributes[type];
    return wrapper === undefined ? null : (wrapper[kListener] as BrowserListener<E>);
  }

  /** Sets the `on<type>` attribute: replaces the listener it held; a non-listener clears it. */
  setAttribute(type: BrowserEventType, listener: unknown): void {
    const previous = this.#attributes[type];
    if (previous !== undefined) {
      this.#socket.removeListener(type, previous as never);
      delete this.#attributes[type];
    }
    if (!isBrowserListener(listener)) return;
    const wrapper = this.#wrap(type, listener, true);
    this.#attributes[type] = wrapper;
    this.#socket.on(type, wrapper as never);
  }

  /** Adds `listener` for `type` unless it was added already (attributes do not count). */
  add(
    type: BrowserEventType,
    listener: AnyBrowserListener,
    options: boolean | BrowserListenerOptions | undefined,
  ): void {
    if (this.#find(type, listener) !== undefined) return;
    const wrapper = this.#wrap(type, listener, false);
    const once = typeof options === "object" && options !== null && options.once === true;
    if (once) this.#socket.once(type, wrapper as never);
    else this.#socket.on(type, wrapper as never);
  }

  /** Removes `listener`, added for `type` with {@link add}, if it is there. */
  remove(type: BrowserEventType, listener: AnyBrowserListener): void {
    const wrapper = this.#find(type, listener);
    if (wrapper !== undefined) this.#socket.removeListener(type, wrapper as never);
  }

  #find(type: BrowserEventType, listener: AnyBrowserListener): WrappedListener | undefined {
    for (const raw of this.#socket.rawListeners(type)) {
      // `once` registrations are wrapped by EventEmitter; the original is in `.listener`.
      const candidate = (kListener in raw ? raw : (raw as { listener?: unknown }).listener) as
        | WrappedListener
        | undefined;
      if (candidate?.[kListener] === listener && !candidate[kAttribute]) return candidate;
    }
    return undefined;
  }

  #wrap(type: BrowserEventType, listener: AnyBrowserListener, attribute: boolean): WrappedListener {
    const socket = this.#socket;
    let wrapper: (...args: never[]) => void;
    switch (type) {
      case "open":
        wrapper = () => dispatch(socket, listener, new Event("open", socket));
        break;
      case "message":
        wrapper = (data: RawData, isBinary: boolean) =>
          dispatch(
            socket,
            listener,
            new MessageEvent(
              "message",
              { data: isBinary ? data : data.toString(), origin: origin(socket) },
              socket,
            ),
          );
        break;
      case "error":
        wrapper = (error: Error) =>
          dispatch(
            socket,
            listener,
            new ErrorEvent("error", { error, message: error.message }, socket),
          );
        break;
      default: {
        const wasClean = this.#wasClean;
        wrapper = (code: number, reason: Buffer) =>
          dispatch(
            socket,
            listener,
            new CloseEvent(
              "close",
              { code, reason: reason.toString(), wasClean: wasClean(socket) },
              socket,
            ),
          );
      }
    }
    return Object.assign(wrapper, { [kListener]: listener, [kAttribute]: attribute });
  }
}

/**
 * Calls a browser-style listener. As with Node's own EventTarget, an exception is reported as
 * uncaught on the next tick instead of unwinding through the connection's code.
 */
function dispatch(socket: WebSocket, listener: AnyBrowserListener, event: Event): void {
  try {
    if (typeof listener === "function")
      (listener as (this: WebSocket, e: Event) => void).call(socket, event);
    else (listener as { handleEvent(e: Event): void }).handleEvent(event);
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}

/** The serialized origin of the socket's URL for MessageEvent.origin ("" for server-role sockets). */
function origin(socket: WebSocket): string {
  const url = socket.url;
  if (url === "") return "";
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}
