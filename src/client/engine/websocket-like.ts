/**
 * The part of the WHATWG WebSocket API the client uses, so that the browser's `WebSocket`,
 * duplexio's Node `WebSocket` (`duplexio/websocket`) and `ws` all fit without casts.
 * @module
 */

import type {
  CookieStoreLike,
  NodeConnectionOptions,
  PerMessageDeflateSettings,
} from "./options.js";

/** The message event: `data` is a string for text and, with `binaryType` "arraybuffer", an ArrayBuffer. */
export interface WebSocketMessageEventLike {
  readonly data: unknown;
}

/** The close event. */
export interface WebSocketCloseEventLike {
  readonly code: number;
  readonly reason: string;
  readonly wasClean?: boolean;
}

/**
 * A WebSocket. The event handler attributes are typed by what the client assigns to them: any
 * implementation whose events carry at least these fields fits (their read types are not used).
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  get onopen(): unknown;
  set onopen(listener: ((event: unknown) => void) | null);
  get onmessage(): unknown;
  set onmessage(listener: ((event: WebSocketMessageEventLike) => void) | null);
  get onerror(): unknown;
  set onerror(listener: ((event: unknown) => void) | null);
  get onclose(): unknown;
  set onclose(listener: ((event: WebSocketCloseEventLike) => void) | null);
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

/** Options of Node WebSocket clients (duplexio's and `ws`): the handshake's extra headers. */
export interface WebSocketClientOptionsLike {
  headers?: Record<string, string>;
}

/**
 * What the client passes as the constructor's third argument: the headers, and the Node
 * connection and permessage-deflate options, which duplexio's Node client and `ws` both take
 * under these names (browsers take no third argument and ignore it).
 */
export interface WebSocketConnectOptions extends WebSocketClientOptionsLike, NodeConnectionOptions {
  perMessageDeflate?: boolean | PerMessageDeflateSettings;
  /** The Manager's cookies, which duplexio's Node client sends and keeps (`ws` ignores them). */
  cookies?: CookieStoreLike;
}

/**
 * A WebSocket constructor. Browsers take `(url, protocols)`; Node clients also take options,
 * through which `extraHeaders` reach the handshake (browsers ignore the extra argument).
 */
export type WebSocketConstructorLike = new (
  url: string,
  protocols?: string | string[],
  options?: WebSocketClientOptionsLike,
) => WebSocketLike;
