/**
 * Options of the Engine.IO client, their defaults, and the request URLs built from them.
 * @module
 */

import type { WebSocketConstructorLike } from "./websocket-like.js";

/** The transports the client speaks. */
export type TransportName = "polling" | "websocket";

/** An opaque timer handle, whatever the injected `setTimeout` returns. */
export type TimerHandle = unknown;

/**
 * The clock and timers the client uses, injectable so tests can drive heartbeats and timeouts.
 * Defaults: the global `setTimeout`/`clearTimeout` and `Date.now`.
 */
export interface EngineTimers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds since some fixed origin (used to notice a heartbeat deadline already gone). */
  now(): number;
}

/** What the polling transport needs from a fetch response. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  readonly body?: { cancel(): Promise<void> } | null;
}

/** What the polling transport passes to fetch. */
export interface FetchInitLike {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  credentials: "include" | "same-origin";
  signal?: AbortSignal;
}

/** A `fetch` function (the global one by default). */
export type FetchLike = (url: string, init: FetchInitLike) => Promise<FetchResponseLike>;

/**
 * A fetch with connections of its own, for one polling transport; `close()` (called once, when
 * the transport is done with it) releases those connections.
 */
export interface ScopedFetch {
  fetch: FetchLike;
  close(): void;
}

/** Options of {@link EngineClient}. Every field has a default; see {@link DEFAULT_ENGINE_OPTIONS}. */
export interface EngineClientOptions {
  /** Engine.IO path on the server. Default "/socket.io" ("/socket.io/" with the trailing slash). */
  path: string;
  /** Extra query parameters of every request (after those of the URI, which they override). */
  query: Record<string, string>;
  /** Transports in order of preference; the first one opens the session. */
  transports: TransportName[];
  /** Whether to upgrade from polling to a better transport the server offers. Default true. */
  upgrade: boolean;
  /**
   * Whether to open directly over WebSocket when a previous connection (in this JavaScript
   * realm) upgraded to or opened over WebSocket successfully. Default false.
   */
  rememberUpgrade: boolean;
  /**
   * Headers added to every request: polling requests everywhere, and the WebSocket handshake
   * where the WebSocket constructor takes options (Node; browsers cannot set them).
   */
  extraHeaders?: Record<string, string>;
  /** Whether cross-origin polling requests carry cookies (fetch `credentials: "include"`). */
  withCredentials: boolean;
  /**
   * Milliseconds to wait for the handshake (socket.io-client's `timeout`). When it passes, the
   * client emits `error` (`Error("timeout")`) and closes with "transport error". 0 or undefined:
   * no limit.
   */
  timeoutMs?: number;
  /** The WebSocket constructor. Default `globalThis.WebSocket` (none in Node 20). */
  WebSocket?: WebSocketConstructorLike;
  /** WebSocket subprotocols. */
  protocols?: string | string[];
  /**
   * Whether to close the connection silently when the page unloads (browsers), so the server
   * sees it closed rather than waiting for a heartbeat. Default false.
   */
  closeOnBeforeunload?: boolean;
  /** Whether `path` gets a trailing slash. Default true. */
  addTrailingSlash: boolean;
  /**
   * Bound of the send buffer, in UTF-16 code units for text and bytes for binary, summed over
   * the buffered messages. Packets are buffered before the session opens, during an upgrade and
   * while a polling request is in flight. A `send` that would go past the bound fails the
   * connection: `error` with "send buffer full", then `close` with "transport error" (the
   * reconnection logic then starts over), rather than dropping a message from the middle of an
   * ordered stream. Default 64 MiB.
   */
  maxBufferedAmount?: number;
  /** The `fetch` used by the polling transport. Default the global `fetch`. */
  fetch?: FetchLike;
  /**
   * Creates a fetch with connections of its own for each polling transport (takes precedence over
   * `fetch`). With a shared connection pool, the handshake of a new connection can be sent on a
   * kept-alive connection of the one that just died (a silently dropped network path) and stall
   * until the handshake timeout; Node's entry point uses this to give each transport its own HTTP
   * agent. Browsers manage their pools themselves.
   */
  scopedFetch?: () => ScopedFetch;
  /** Timers and clock. Default the global ones. */
  timers?: EngineTimers;
}

/** The fields of {@link EngineClientOptions} that always have a value. */
export type EngineClientDefaults = Pick<
  EngineClientOptions,
  | "path"
  | "query"
  | "transports"
  | "upgrade"
  | "rememberUpgrade"
  | "withCredentials"
  | "addTrailingSlash"
>;

/** The defaults of the fields every {@link EngineClientOptions} has (the client copies them). */
export const DEFAULT_ENGINE_OPTIONS: Readonly<EngineClientDefaults> = Object.freeze({
  path: "/socket.io",
  query: Object.freeze({}),
  transports: Object.freeze(["polling", "websocket"]) as TransportName[],
  upgrade: true,
  rememberUpgrade: false,
  withCredentials: false,
  addTrailingSlash: true,
});

/** Default bound of the send buffer (64 MiB). */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 64 * 1024 * 1024;

/** The global timers, looked up on each call so that fake-timer libraries still see them. */
export const GLOBAL_TIMERS: EngineTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
  now: () => Date.now(),
};

/** Where the server is: scheme security, host (with port) and the query parameters of the URI. */
export interface EngineTarget {
  secure: boolean;
  /** Host name and port as in a URL authority ("example.com", "127.0.0.1:3000", "[::1]:80"). */
  host: string;
}

/**
 * Parses the URI given to the client. Only the scheme, host, port and query matter: the path of
 * the URI is the Socket.IO namespace, not the Engine.IO path. A relative URI is resolved against
 * the page's location when there is one. Returns null for what is not an http(s) or ws(s) URL.
 */
export function parseEngineUri(
  uri: string,
): { target: EngineTarget; query: Record<string, string> } | null {
  let url: URL;
  try {
    const base = (globalThis as { location?: { href?: unknown } }).location?.href;
    url = typeof base === "string" ? new URL(uri, base) : new URL(uri);
  } catch {
    return null;
  }
  let secure: boolean;
  switch (url.protocol) {
    case "https:":
    case "wss:":
      secure = true;
      break;
    case "http:":
    case "ws:":
      secure = false;
      break;
    default:
      return null;
  }
  if (url.host === "") return null;
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  return { target: { secure, host: url.host }, query };
}

/** Query parameter names the client sets itself; user parameters of the same name are left out. */
const RESERVED_PARAMS = new Set(["EIO", "transport", "sid", "t"]);

/**
 * Builds request URLs. The part that never changes (scheme-less authority, path, user query,
 * `EIO=4`) is computed once; each request adds the transport, the session id and, for polling,
 * a cache buster.
 */
export class EngineUrls {
  readonly #secure: boolean;
  /** `//host/path/?user=query&EIO=4` */
  readonly #fixed: string;
  readonly #bustPrefix: string;
  #bustCounter = 0;

  constructor(target: EngineTarget, path: string, addTrailingSlash: boolean, query: object) {
    this.#secure = target.secure;
    const normalizedPath =
      (path.startsWith("/") ? path : `/${path}`).replace(/\/+$/, "") +
      (addTrailingSlash ? "/" : "");
    let search = "";
    for (const [key, value] of Object.entries(query)) {
      if (RESERVED_PARAMS.has(key) || value === undefined || value === null) continue;
      search += `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}&`;
    }
    this.#fixed = `//${target.host}${normalizedPath}?${search}EIO=4`;
    // Distinct between clients (time) and between requests (counter): enough to defeat caches.
    this.#bustPrefix = Date.now().toString(36);
  }

  /** The URL of a polling request: `http(s)://...&transport=polling[&sid=...]&t=...`. */
  polling(sid: string | null): string {
    const scheme = this.#secure ? "https:" : "http:";
    const session = sid === null ? "" : `&sid=${encodeURIComponent(sid)}`;
    return `${scheme}${this.#fixed}&transport=polling${session}&t=${this.#bustPrefix}${(this.#bustCounter++).toString(36)}`;
  }

  /** The URL of the WebSocket: `ws(s)://...&transport=websocket[&sid=...]`. */
  websocket(sid: string | null): string {
    const scheme = this.#secure ? "wss:" : "ws:";
    const session = sid === null ? "" : `&sid=${encodeURIComponent(sid)}`;
    return `${scheme}${this.#fixed}&transport=websocket${session}`;
  }
}
