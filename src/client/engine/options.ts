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
  /** The status line's text ("Not Found"), for error messages. */
  readonly statusText?: string;
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

/**
 * The cookies servers set for one Manager's connections, sent back on its later polling requests
 * and WebSocket handshakes (Node's entry point keeps them, in `node-cookies.ts`; browsers keep
 * their own).
 */
export interface CookieStoreLike {
  /** The `Cookie` header value for a request to `url`, or undefined when there is none. */
  header(url: URL): string | undefined;
  /** Keeps the cookies of a response from `url` (its `Set-Cookie` header values). */
  store(url: URL, setCookie: readonly string[]): void;
}

/** Certificates, keys and CAs as Node's `tls` takes them: PEM text, DER bytes, or a list. */
export type TlsMaterial = string | Uint8Array | readonly (string | Uint8Array | object)[];

/**
 * Node connection options (socket.io-client's names), for polling requests and the WebSocket
 * handshake. Browsers have no say in these: there they are accepted and ignored.
 */
export interface NodeConnectionOptions {
  /**
   * The `http.Agent` or `https.Agent` for polling requests and the WebSocket handshake (Node).
   * Default false: each polling transport gets keep-alive agents of its own, closed with it, and
   * the WebSocket a connection of its own. The agent is the caller's: it is never destroyed.
   */
  agent?: object | false;
  /** CA certificates to trust instead of Node's default list (pinning a private CA). */
  ca?: TlsMaterial;
  /** Client certificate chain, for servers asking for one (`requestCert`). */
  cert?: TlsMaterial;
  /** Private key of `cert`. */
  key?: TlsMaterial;
  /** PKCS#12 bundle of the client's key and certificate (instead of `key` and `cert`). */
  pfx?: TlsMaterial;
  /** Passphrase of `key` or `pfx`. */
  passphrase?: string;
  /** OpenSSL cipher list to offer. */
  ciphers?: string;
  /**
   * Whether to refuse a server whose certificate does not verify against the CAs (Node's list, or
   * `ca`). Default true; false accepts any certificate (tests, never production).
   */
  rejectUnauthorized?: boolean;
}

/** permessage-deflate settings of the Node WebSocket transport (`threshold`: smaller messages go uncompressed). */
export interface PerMessageDeflateSettings {
  /** Bytes; smaller messages are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Any other option of the WebSocket implementation (duplexio's, or `ws`). */
  [option: string]: unknown;
}

/**
 * Options one transport may override (`transportOptions.polling`, `transportOptions.websocket`),
 * as in socket.io-client: they replace the top-level value for that transport only.
 */
export interface PerTransportOptions extends NodeConnectionOptions {
  extraHeaders?: Record<string, string>;
  withCredentials?: boolean;
  requestTimeout?: number;
  timestampRequests?: boolean;
  timestampParam?: string;
  perMessageDeflate?: boolean | PerMessageDeflateSettings;
  protocols?: string | string[];
}

/** Options of {@link EngineClient}. Every field has a default; see {@link DEFAULT_ENGINE_OPTIONS}. */
export interface EngineClientOptions extends NodeConnectionOptions {
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
  /**
   * Per-transport overrides of the transport options (`extraHeaders`, `withCredentials`,
   * `requestTimeout`, `timestampRequests`, `timestampParam`, `perMessageDeflate`, `protocols`
   * and the Node connection options), socket.io-client's shape:
   * `{ polling: { extraHeaders: { ... } }, websocket: { ... } }`. Default none.
   */
  transportOptions?: Partial<Record<TransportName, PerTransportOptions>>;
  /**
   * Milliseconds a polling request (the long-polling GET included: keep it above the server's
   * pingInterval) may take before the transport fails with "fetch read error" / "fetch write
   * error" naming the timeout. 0 or undefined (the default): no limit.
   */
  requestTimeout?: number;
  /**
   * Whether request URLs carry a cache-busting parameter (`timestampParam`). Default: polling
   * requests do (unless this is false), the WebSocket URL does only when this is true.
   */
  timestampRequests?: boolean;
  /** Name of the cache-busting query parameter. Default "t". */
  timestampParam?: string;
  /**
   * Whether a transport that fails before the handshake makes the client try the next one in
   * `transports` (e.g. WebSocket refused by a proxy: go on with polling) instead of failing the
   * attempt. Default false.
   */
  tryAllTransports?: boolean;
  /**
   * permessage-deflate for the WebSocket transport where the implementation supports it (Node):
   * true or settings offer it, false does not. Default: the implementation's (duplexio's Node
   * client offers it, threshold 1024 bytes, as socket.io-client does). Browsers decide themselves.
   */
  perMessageDeflate?: boolean | PerMessageDeflateSettings;
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
   * `fetch`), given the transport's Node connection options (agent, TLS). With a shared
   * connection pool, the handshake of a new connection can be sent on a kept-alive connection of
   * the one that just died (a silently dropped network path) and stall until the handshake
   * timeout; Node's entry point uses this to give each transport its own HTTP agent. Browsers
   * manage their pools themselves.
   */
  scopedFetch?: (connection: NodeConnectionOptions, cookies?: CookieStoreLike) => ScopedFetch;
  /**
   * The cookies of the Manager, given to `scopedFetch` and to the WebSocket constructor's options.
   * Default none (Node's entry point gives each Manager a jar of its own).
   */
  cookies?: CookieStoreLike;
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

/** Where the server is: scheme security and host (with port). */
export interface EngineTarget {
  secure: boolean;
  /** Host name and port as in a URL authority ("example.com", "127.0.0.1:3000", "[::1]:80"). */
  host: string;
}

/** Query parameter names the client sets itself; user parameters of the same name are left out. */
const RESERVED_PARAMS = new Set(["EIO", "transport", "sid"]);

/**
 * Builds request URLs: `<scheme>//host/path/?<user query>EIO=4&transport=...`, then the session
 * id and, when asked (polling by default), a cache buster that replaces a user parameter of the
 * same name. The user's query is encoded once.
 */
export class EngineUrls {
  readonly #secure: boolean;
  /** `//host/path/` */
  readonly #base: string;
  /** The user's query: each key with its encoded `key=value&`. */
  readonly #params: [key: string, pair: string][] = [];
  readonly #bustPrefix: string;
  #bustCounter = 0;

  constructor(target: EngineTarget, path: string, addTrailingSlash: boolean, query: object) {
    this.#secure = target.secure;
    const normalizedPath =
      (path.startsWith("/") ? path : `/${path}`).replace(/\/+$/, "") +
      (addTrailingSlash ? "/" : "");
    this.#base = `//${target.host}${normalizedPath}`;
    for (const [key, value] of Object.entries(query)) {
      if (RESERVED_PARAMS.has(key) || value === undefined || value === null) continue;
      this.#params.push([key, `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}&`]);
    }
    // Distinct between clients (time) and between requests (counter): enough to defeat caches.
    this.#bustPrefix = Date.now().toString(36);
  }

  /** Where requests go, without the query (`http://host/socket.io/`), for error messages. */
  endpoint(websocket: boolean): string {
    return `${websocket ? "ws" : "http"}${this.#secure ? "s" : ""}:${this.#base}`;
  }

  /**
   * The URL of a polling request: `http(s)://...&transport=polling[&sid=...]&t=...`.
   * @param stamp the cache buster's parameter name, or null for none
   */
  polling(sid: string | null, stamp: string | null = "t"): string {
    return this.#url(false, sid, stamp);
  }

  /**
   * The URL of the WebSocket: `ws(s)://...&transport=websocket[&sid=...]`.
   * @param stamp the cache buster's parameter name, or null for none (the default)
   */
  websocket(sid: string | null, stamp: string | null = null): string {
    return this.#url(true, sid, stamp);
  }

  #url(websocket: boolean, sid: string | null, stamp: string | null): string {
    let url = `${this.endpoint(websocket)}?`;
    for (const [key, pair] of this.#params) if (key !== stamp) url += pair;
    url += `EIO=4&transport=${websocket ? "websocket" : "polling"}`;
    if (sid !== null) url += `&sid=${encodeURIComponent(sid)}`;
    if (stamp !== null) {
      url += `&${encodeURIComponent(stamp)}=${this.#bustPrefix}${(this.#bustCounter++).toString(36)}`;
    }
    return url;
  }
}
