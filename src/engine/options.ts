/**
 * Options of the Engine.IO server, their defaults (those of the reference `engine.io` v6 server,
 * plus `maxWriteBufferSize`), and the checks run once at construction.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ZlibOptions } from "node:zlib";
import type { PerMessageDeflateOptions } from "../websocket/permessage-deflate.js";

/** The two transports of Engine.IO v4. */
export type TransportName = "polling" | "websocket";

/** A fixed `Access-Control-Allow-Origin` policy: `true` reflects the request's origin. */
export type StaticCorsOrigin = boolean | string | RegExp | (string | RegExp)[];

/** Decides the origin policy per request, asynchronously (as the `cors` package allows). */
export type CorsOriginFunction = (
  origin: string | undefined,
  callback: (error: Error | null, origin?: StaticCorsOrigin) => void,
) => void;

/**
 * Cross-origin settings for the HTTP long-polling requests, with the semantics of the `cors`
 * package (which `engine.io` uses): the default origin is `*`; a string is sent as is; `true`,
 * a RegExp or a list reflect the request's origin when it matches; `false` adds no CORS headers.
 */
export interface CorsOptions {
  origin?: StaticCorsOrigin | CorsOriginFunction;
  /** Preflight `Access-Control-Allow-Methods` (default `GET,HEAD,PUT,PATCH,POST,DELETE`). */
  methods?: string | string[];
  /** Preflight `Access-Control-Allow-Headers`; by default the requested headers are reflected. */
  allowedHeaders?: string | string[];
  /** `Access-Control-Expose-Headers`. */
  exposedHeaders?: string | string[];
  /** Sends `Access-Control-Allow-Credentials: true`. */
  credentials?: boolean;
  /** Preflight `Access-Control-Max-Age`, in seconds. */
  maxAge?: number;
  /** Passes preflight requests on instead of answering them. */
  preflightContinue?: boolean;
  /** Status of the preflight answer (default 204). */
  optionsSuccessStatus?: number;
}

/** Picks the CORS options per request (the `cors` package's delegate form). */
export type CorsOptionsDelegate = (
  request: IncomingMessage,
  callback: (error: Error | null, options?: CorsOptions) => void,
) => void;

/** Attributes of the session cookie (`cookie` option); the value is the session id. */
export interface CookieOptions {
  /** Cookie name (default `io`). */
  name?: string;
  domain?: string;
  /** Default `/`; `false` leaves the attribute out (and then `httpOnly` defaults to false). */
  path?: string | false;
  expires?: Date;
  /** Seconds. */
  maxAge?: number;
  /** Default true unless `path` is false. */
  httpOnly?: boolean;
  secure?: boolean;
  /** Default `lax`; `true` means `Strict`. */
  sameSite?: boolean | "lax" | "strict" | "none";
  partitioned?: boolean;
  priority?: "low" | "medium" | "high";
}

/** The `httpCompression` option: zlib settings plus the size under which nothing is compressed. */
export interface HttpCompressionOptions extends ZlibOptions {
  /** Bytes (default 1024). */
  threshold?: number;
}

/** An Express-compatible middleware, run on every Engine.IO request (`server.use(fn)`). */
export type EngineMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Options of `attach()`: which requests of an HTTP server the Engine.IO server takes. */
export interface AttachOptions {
  /** Path prefix of Engine.IO requests (default `/engine.io`, a trailing slash is added). */
  path?: string;
  /** Add a trailing slash to `path` (default true). */
  addTrailingSlash?: boolean;
  /**
   * End upgrade requests for other paths that nothing answered (not a byte written) within
   * `destroyUpgradeTimeout` (default true, as engine.io). Another handler that answers its
   * upgrades in time is left alone; set false if one may take longer.
   */
  destroyUpgrade?: boolean;
  /** Milliseconds (default 1000). */
  destroyUpgradeTimeout?: number;
}

/** Options of {@link EngineServer}. */
export interface EngineServerOptions extends AttachOptions {
  /** Milliseconds between the server's pings (default 25000). */
  pingInterval?: number;
  /** Milliseconds the client has to answer a ping before the session closes (default 20000). */
  pingTimeout?: number;
  /** Milliseconds a transport upgrade may take (default 10000). */
  upgradeTimeout?: number;
  /** Largest polling POST body and WebSocket message, in bytes (default 1e6). */
  maxHttpBufferSize?: number;
  /** Transports accepted (default both). */
  transports?: TransportName[];
  /** Offer the upgrade from polling to WebSocket (default true). */
  allowUpgrades?: boolean;
  /** Accepts or refuses a handshake: `fn(null, true)` accepts; `fn("reason", false)` gives 403. */
  allowRequest?: (
    request: IncomingMessage,
    fn: (error: string | null | undefined, success: boolean) => void,
  ) => void;
  /** CORS headers for polling requests (default: none). */
  cors?: CorsOptions | CorsOptionsDelegate;
  /** Set a cookie holding the session id on the handshake response (default false). */
  cookie?: boolean | CookieOptions;
  /** permessage-deflate for the WebSocket transport (default false). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** gzip/deflate of polling responses, by Accept-Encoding (default true, threshold 1024). */
  httpCompression?: boolean | HttpCompressionOptions;
  /** Accept Engine.IO protocol revision 3 clients (Socket.IO 2.x) (default false). */
  allowEIO3?: boolean;
  /**
   * Bytes that may wait for one session (queued packets plus the transport's unsent bytes)
   * before it is closed with "write buffer full" (default 16 MiB).
   */
  maxWriteBufferSize?: number;
  /** Session ids (default: 15 random bytes, base64url). Must be unique. */
  generateId?: (request: IncomingMessage) => string | Promise<string>;
  /** A message sent to every new session right after the handshake. */
  initialPacket?: string | Uint8Array;
  /**
   * Timeouts of the HTTP server duplexio creates itself (`listen(port)`, Socket.IO's
   * `new Server(port)`), so that connections that never send a complete request (slowloris, idle
   * sockets) are closed. Ignored when you attach to your own HTTP server: set the same settings
   * on it (see {@link HttpServerTimeouts}).
   */
  httpServerTimeouts?: HttpServerTimeouts;
}

/**
 * The timeouts of an HTTP server created by duplexio, as Node's `http.Server` settings of the
 * same names (0 turns one off). On Node 20 they behave as follows, checked about once a second
 * (the server's `connectionsCheckingInterval`):
 *
 * - `headersTimeout` runs from the connection (or, on a kept-alive connection, from the first
 *   byte of the next request) to the end of the request's headers: a connection that sends
 *   nothing at all, or trickles its headers, is answered 408 and closed. WebSocket upgrade
 *   requests are requests like any other until their headers are complete.
 * - `requestTimeout` bounds the whole request, body included (a slowly trickled POST). It ends
 *   with the request: a long-polling GET waiting for data (up to `pingInterval`) is not cut, nor
 *   is an upgraded WebSocket.
 * - `keepAliveTimeout` closes a kept-alive connection idle between two requests.
 *
 * Node's `server.timeout` (an inactivity timeout, off by default) is left alone: it would also
 * cut long-polling GETs that wait for data longer than it, and sessions already end on their own
 * (heartbeat).
 *
 * When you pass your own server, set these on it: `server.headersTimeout = 5000;
 * server.requestTimeout = 30000;` (and create it with `{ connectionsCheckingInterval: 1000 }`:
 * Node's default of 30 s lets a timed-out connection live up to 30 s longer).
 */
export interface HttpServerTimeouts {
  /** Milliseconds to receive a request's headers (default 5000). */
  headersTimeout?: number;
  /** Milliseconds to receive a whole request, body included (default 30000). */
  requestTimeout?: number;
  /** Milliseconds a kept-alive connection may stay idle between requests (default 5000). */
  keepAliveTimeout?: number;
}

/** The defaults of {@link HttpServerTimeouts}. */
export const DEFAULT_HTTP_SERVER_TIMEOUTS: Readonly<Required<HttpServerTimeouts>> = Object.freeze({
  headersTimeout: 5000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5000,
});

/** The options with every default filled in. */
export interface ResolvedEngineOptions {
  path: string;
  addTrailingSlash: boolean;
  destroyUpgrade: boolean;
  destroyUpgradeTimeout: number;
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  transports: TransportName[];
  allowUpgrades: boolean;
  allowRequest: EngineServerOptions["allowRequest"];
  cors: CorsOptions | CorsOptionsDelegate | false;
  cookie: ResolvedCookieOptions | false;
  perMessageDeflate: PerMessageDeflateOptions | false;
  httpCompression: ResolvedHttpCompression | false;
  allowEIO3: boolean;
  maxWriteBufferSize: number;
  generateId: EngineServerOptions["generateId"];
  initialPacket: string | Uint8Array | undefined;
  httpServerTimeouts: Required<HttpServerTimeouts>;
}

/** Cookie options with the defaults applied. */
export interface ResolvedCookieOptions extends CookieOptions {
  name: string;
}

/** httpCompression with its threshold resolved and the zlib options apart. */
export interface ResolvedHttpCompression {
  threshold: number;
  zlib: ZlibOptions;
}

export const DEFAULT_PATH = "/engine.io";
const DEFAULT_WRITE_BUFFER = 16 * 1024 * 1024;
const TRANSPORTS: readonly TransportName[] = ["polling", "websocket"];
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Fills in defaults and checks values.
 * @throws TypeError for a value that can never work (a configuration mistake).
 */
export function resolveOptions(options: EngineServerOptions = {}): ResolvedEngineOptions {
  const transports = options.transports ?? [...TRANSPORTS];
  if (!Array.isArray(transports) || transports.some((t) => !TRANSPORTS.includes(t))) {
    throw new TypeError('"transports" must list "polling" and/or "websocket"');
  }
  const resolved: ResolvedEngineOptions = {
    path: options.path ?? DEFAULT_PATH,
    addTrailingSlash: options.addTrailingSlash ?? true,
    destroyUpgrade: options.destroyUpgrade ?? true,
    destroyUpgradeTimeout: milliseconds(options, "destroyUpgradeTimeout", 1000),
    pingInterval: milliseconds(options, "pingInterval", 25_000),
    pingTimeout: milliseconds(options, "pingTimeout", 20_000),
    upgradeTimeout: milliseconds(options, "upgradeTimeout", 10_000),
    maxHttpBufferSize: bytes(options, "maxHttpBufferSize", 1e6),
    transports: [...transports],
    allowUpgrades: options.allowUpgrades ?? true,
    allowRequest: options.allowRequest,
    cors: options.cors ?? false,
    cookie: resolveCookie(options.cookie),
    perMessageDeflate: resolveDeflate(options.perMessageDeflate),
    httpCompression: resolveCompression(options.httpCompression),
    allowEIO3: options.allowEIO3 ?? false,
    maxWriteBufferSize: bytes(options, "maxWriteBufferSize", DEFAULT_WRITE_BUFFER),
    generateId: options.generateId,
    initialPacket: options.initialPacket,
    httpServerTimeouts: resolveHttpServerTimeouts(options.httpServerTimeouts),
  };
  if (resolved.allowRequest !== undefined && typeof resolved.allowRequest !== "function") {
    throw new TypeError('"allowRequest" must be a function');
  }
  if (resolved.generateId !== undefined && typeof resolved.generateId !== "function") {
    throw new TypeError('"generateId" must be a function');
  }
  return resolved;
}

/**
 * The request path prefix the server takes: `path` without its trailing slash, then one added
 * back unless `addTrailingSlash` is false (as engine.io computes it).
 */
export function computePath(path: string, addTrailingSlash: boolean): string {
  const base = path.endsWith("/") ? path.slice(0, -1) : path;
  return addTrailingSlash ? `${base}/` : base;
}

function milliseconds<K extends keyof EngineServerOptions>(
  options: EngineServerOptions,
  key: K,
  fallback: number,
): number {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${key}" must be a non-negative number of milliseconds`);
  }
  return value;
}

function bytes<K extends keyof EngineServerOptions>(
  options: EngineServerOptions,
  key: K,
  fallback: number,
): number {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new TypeError(`"${key}" must be a non-negative number of bytes`);
  }
  return value;
}

/**
 * Fills in the HTTP server timeouts.
 * @throws TypeError for a value that is not a non-negative integer, or a `headersTimeout` longer
 * than a non-zero `requestTimeout` (Node refuses that combination).
 */
export function resolveHttpServerTimeouts(
  timeouts: HttpServerTimeouts | undefined,
): Required<HttpServerTimeouts> {
  const resolved = { ...DEFAULT_HTTP_SERVER_TIMEOUTS };
  for (const key of Object.keys(DEFAULT_HTTP_SERVER_TIMEOUTS) as (keyof HttpServerTimeouts)[]) {
    const value = timeouts?.[key];
    if (value === undefined) continue;
    // Node takes whole milliseconds only.
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(
        `"httpServerTimeouts.${key}" must be a non-negative whole number of milliseconds`,
      );
    }
    resolved[key] = value;
  }
  // Node's own rule (it would throw at createServer); saying it here names the option.
  if (resolved.requestTimeout > 0 && resolved.headersTimeout > resolved.requestTimeout) {
    throw new TypeError(
      '"httpServerTimeouts.headersTimeout" must not exceed "httpServerTimeouts.requestTimeout"',
    );
  }
  return resolved;
}

function resolveCookie(cookie: boolean | CookieOptions | undefined): ResolvedCookieOptions | false {
  if (!cookie) return false;
  const given: CookieOptions = cookie === true ? {} : cookie;
  const resolved: ResolvedCookieOptions = {
    path: "/",
    httpOnly: given.path !== false,
    sameSite: "lax",
    ...given,
    name: given.name ?? "io",
  };
  if (!COOKIE_NAME.test(resolved.name)) throw new TypeError("Invalid cookie name");
  for (const attribute of [resolved.domain, resolved.path]) {
    if (typeof attribute === "string" && /[;\r\n\0]/.test(attribute)) {
      throw new TypeError("Invalid cookie domain or path");
    }
  }
  return resolved;
}

function resolveDeflate(
  option: boolean | PerMessageDeflateOptions | undefined,
): PerMessageDeflateOptions | false {
  if (!option) return false;
  // engine.io's default: only messages of 1 KiB or more are worth compressing.
  return { threshold: 1024, ...(option === true ? {} : option) };
}

function resolveCompression(
  option: boolean | HttpCompressionOptions | undefined,
): ResolvedHttpCompression | false {
  if (option === false) return false;
  const { threshold = 1024, ...zlib } = option === true || option === undefined ? {} : option;
  if (typeof threshold !== "number" || Number.isNaN(threshold) || threshold < 0) {
    throw new TypeError('"httpCompression.threshold" must be a non-negative number of bytes');
  }
  return { threshold, zlib };
}
