/**
 * The opening handshake (RFC 6455 section 4): key and accept values, the client's request headers
 * (HTTP/1.1 upgrade and HTTP/2 extended CONNECT, RFC 8441), the server's checks of an upgrade
 * request, the client's checks of the response, and the response heads a server writes.
 * @module
 */

import { decodeBase64, encodeBase64 } from "../base64.js";
import { cryptoFill } from "../random.js";
import { WEBSOCKET_GUID } from "./constants.js";
import { type ExtensionOffer, parseExtensions } from "./extensions.js";
import { isToken, isValidHeaderValue, splitList, trimWhitespace } from "./http-tokens.js";
import { sha1 } from "./sha1.js";

/** Request or response headers with lower-case names, as Node's `IncomingHttpHeaders`. */
export type Headers = Record<string, string | string[] | undefined>;

const encoder = new TextEncoder();

/**
 * `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2), with the
 * pure SHA-1 and base64 of this layer. The Node layer passes its own (`src/websocket/accept-key.ts`:
 * node:crypto and Buffer) to {@link formatAcceptResponse} and {@link checkServerResponse}.
 */
export type AcceptKeyFunction = (key: string) => string;

/** The pure {@link AcceptKeyFunction}: the default where no other is given. */
export function computeAcceptKey(key: string): string {
  return encodeBase64(sha1(encoder.encode(key + WEBSOCKET_GUID)));
}

/** A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes (RFC 6455 section 4.1). */
export function generateClientKey(fillRandom: (t: Uint8Array) => void = cryptoFill): string {
  const nonce = new Uint8Array(16);
  fillRandom(nonce);
  return encodeBase64(nonce);
}

/**
 * A request header's value as the application gives it (Node's `OutgoingHttpHeader`, or
 * undefined): passed on as given, the HTTP layer that sends it validates it.
 */
export type RequestHeaderValue = string | number | string[] | undefined;

/** Request headers with their names as the application spelled them. */
export type RequestHeaders = Record<string, RequestHeaderValue>;

/** What the client's opening request offers, whichever HTTP carries it. */
export interface ClientRequestParams {
  /** The ws: or wss: URL: the authority and the target of the request. */
  url: URL;
  /** Subprotocols offered, in order of preference; none sends no `Sec-WebSocket-Protocol`. */
  protocols: readonly string[];
  /** The `Sec-WebSocket-Extensions` offer; "" sends none. */
  extensions: string;
  /** `Origin`, if any. */
  origin: string | undefined;
  /** The application's headers. */
  headers: RequestHeaders | undefined;
}

/** The request target: the URL's path (at least "/") and query. */
export function requestTarget(url: URL): string {
  return `${url.pathname || "/"}${url.search}`;
}

/** The fields the client's request sets itself, in the order sent: the name, in lower case. */
const HANDSHAKE_FIELDS: readonly (readonly [name: string, lowerCaseName: string])[] = [
  ["Connection", "connection"],
  ["Upgrade", "upgrade"],
  ["Sec-WebSocket-Key", "sec-websocket-key"],
  ["Sec-WebSocket-Version", "sec-websocket-version"],
  ["Origin", "origin"],
  ["Sec-WebSocket-Protocol", "sec-websocket-protocol"],
  ["Sec-WebSocket-Extensions", "sec-websocket-extensions"],
];

/**
 * The value the request gives the field `lowerCaseName` itself, replacing the application's; or
 * undefined: the request has none (no origin, no subprotocol, no extension to offer, or a name
 * that is not the handshake's), an application's field of that name is sent.
 */
function handshakeValue(
  lowerCaseName: string,
  params: ClientRequestParams,
  key: string,
): string | undefined {
  switch (lowerCaseName) {
    case "connection":
      return "Upgrade";
    case "upgrade":
      return "websocket";
    case "sec-websocket-key":
      return key;
    case "sec-websocket-version":
      return "13";
    case "origin":
      return params.origin;
    case "sec-websocket-protocol":
      return params.protocols.length > 0 ? params.protocols.join(", ") : undefined;
    case "sec-websocket-extensions":
      return params.extensions === "" ? undefined : params.extensions;
    default:
      return undefined;
  }
}

/**
 * The headers of the client's HTTP/1.1 upgrade request (RFC 6455 section 4.1) with `key` as
 * `Sec-WebSocket-Key`, merged with the application's as ws merges them: the application's come
 * first, without those the handshake sets itself (names compared in any case, as HTTP does):
 * `Connection`, `Upgrade`, the key, `Sec-WebSocket-Version`, and `Origin`,
 * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` when there is something to send. `Host`
 * is the URL's (the port only when it is not the scheme's default) unless the application set one.
 * The application's values are passed on as given: the HTTP layer validates them.
 */
export function formatClientRequestHeaders(
  params: ClientRequestParams,
  key: string,
): RequestHeaders {
  const headers: RequestHeaders = {};
  let hostGiven = false;
  const application = params.headers;
  if (application !== undefined) {
    for (const name of Object.keys(application)) {
      const lower = name.toLowerCase();
      if (lower === "host") hostGiven = true;
      if (handshakeValue(lower, params, key) === undefined) headers[name] = application[name];
    }
  }
  for (const [name, lower] of HANDSHAKE_FIELDS) {
    const value = handshakeValue(lower, params, key);
    if (value !== undefined) headers[name] = value;
  }
  if (!hostGiven) headers.Host = params.url.host;
  return headers;
}

/**
 * Request fields HTTP/2 forbids (connection-specific, RFC 9113 section 8.2.2) or that an extended
 * CONNECT replaces (`Host` by `:authority`, the key and the upgrade, RFC 8441 section 5).
 */
const NOT_SENT_OVER_HTTP2 = new Set([
  "connection",
  "upgrade",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "host",
  "sec-websocket-key",
]);

/**
 * The headers of the extended CONNECT that opens a WebSocket over HTTP/2 (RFC 8441 sections 4 and
 * 5): the application's headers without those HTTP/2 does not carry (undefined values left out),
 * then the pseudo-headers (HTTP/2 sends them first) and the fields of
 * {@link formatClientRequestHeaders} that HTTP/2 carries, which replace any of the application's
 * of the same name. Every name is in lower case, as HTTP/2 requires.
 */
export function formatExtendedConnectHeaders(params: ClientRequestParams): RequestHeaders {
  const { url } = params;
  const headers: RequestHeaders = {};
  const application = params.headers;
  if (application !== undefined) {
    for (const name of Object.keys(application)) {
      const value = application[name];
      const lower = name.toLowerCase();
      if (value !== undefined && !NOT_SENT_OVER_HTTP2.has(lower)) headers[lower] = value;
    }
  }
  headers[":method"] = "CONNECT";
  headers[":protocol"] = "websocket";
  headers[":scheme"] = url.protocol === "wss:" ? "https" : "http";
  headers[":authority"] = url.host;
  headers[":path"] = requestTarget(url);
  for (const [, lower] of HANDSHAKE_FIELDS) {
    if (NOT_SENT_OVER_HTTP2.has(lower)) continue;
    const value = handshakeValue(lower, params, "");
    if (value !== undefined) headers[lower] = value;
  }
  return headers;
}

/** One header as a single string; repeated fields (an array) are joined as a list. */
function combinedHeaderValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Whether a list-valued header contains `token`, compared ASCII case-insensitively. */
function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const element of splitList(value)) if (element.toLowerCase() === token) return true;
  return false;
}

/**
 * Subprotocol list syntax (RFC 6455 section 4.1: tokens, each unique, case-sensitive).
 * Whitespace around commas and empty elements are tolerated (RFC 7230 section 7); a list with no
 * element, an element that is not a token, or a duplicate gives null.
 */
export function parseSubprotocols(value: string): string[] | null {
  const protocols = splitList(value);
  if (protocols.length === 0) return null;
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol) || seen.has(protocol)) return null;
    seen.add(protocol);
  }
  return protocols;
}

/** Result of the server's request checks. A failed check carries the HTTP status to answer. */
export type UpgradeCheck =
  | { ok: true; key: string; protocols: string[]; extensions: ExtensionOffer[] }
  | { ok: false; status: number; message: string; headers?: Record<string, string> };

/**
 * Server side: whether a request is a valid opening handshake (RFC 6455 section 4.2.1).
 *
 * - A method other than GET gets 405 with `Allow: GET` (the request is a well-formed HTTP
 *   request for a resource that only supports GET, which is what 405 says).
 * - A missing or empty `Host`, an `Upgrade` without the `websocket` token, a `Connection` without
 *   the `upgrade` token (both lists, case-insensitive), a key that is not base64 of 16 bytes, or a
 *   malformed `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions` value get 400.
 * - A `Sec-WebSocket-Version` other than 13 (or none) gets 426 with `Sec-WebSocket-Version: 13`.
 *
 * On success `key` is the trimmed key, `protocols` the offered subprotocols (maybe empty),
 * `extensions` the offered extensions (maybe empty). Never throws.
 */
export function checkUpgradeRequest(request: { method: string; headers: Headers }): UpgradeCheck {
  const { headers } = request;
  if (request.method !== "GET") {
    return {
      ok: false,
      status: 405,
      message: "WebSocket upgrade requires the GET method",
      headers: { Allow: "GET" },
    };
  }
  if (!listHasToken(combinedHeaderValue(headers, "upgrade"), "websocket")) {
    return { ok: false, status: 400, message: "Missing or invalid Upgrade header" };
  }
  if (!listHasToken(combinedHeaderValue(headers, "connection"), "upgrade")) {
    return { ok: false, status: 400, message: "Missing or invalid Connection header" };
  }
  const host = combinedHeaderValue(headers, "host");
  if (host === undefined || trimWhitespace(host).length === 0) {
    return { ok: false, status: 400, message: "Missing Host header" };
  }
  const version = combinedHeaderValue(headers, "sec-websocket-version");
  if (version === undefined || trimWhitespace(version) !== "13") {
    return {
      ok: false,
      status: 426,
      message: "Unsupported WebSocket version",
      headers: { "Sec-WebSocket-Version": "13" },
    };
  }
  const rawKey = headers["sec-websocket-key"];
  const key = typeof rawKey === "string" ? trimWhitespace(rawKey) : undefined;
  // The key is base64 of 16 bytes: exactly 24 characters, padding included (RFC 6455 4.1).
  if (key === undefined || key.length !== 24 || decodeBase64(key)?.length !== 16) {
    return { ok: false, status: 400, message: "Missing or invalid Sec-WebSocket-Key header" };
  }
  let protocols: string[] = [];
  const protocolHeader = combinedHeaderValue(headers, "sec-websocket-protocol");
  if (protocolHeader !== undefined) {
    const parsed = parseSubprotocols(protocolHeader);
    if (parsed === null) {
      return { ok: false, status: 400, message: "Invalid Sec-WebSocket-Protocol header" };
    }
    protocols = parsed;
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = combinedHeaderValue(headers, "sec-websocket-extensions");
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (parsed === null) {
      return { ok: false, status: 400, message: "Invalid Sec-WebSocket-Extensions header" };
    }
    extensions = parsed;
  }
  return { ok: true, key, protocols, extensions };
}

/** Appends `name: value` lines; throws a TypeError for a name or value that could inject lines. */
function appendHeaders(
  head: string,
  headers: Record<string, string | string[]> | undefined,
): string {
  if (!headers) return head;
  for (const name of Object.keys(headers)) {
    if (!isToken(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
    const value = headers[name];
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const text = String(v);
      if (!isValidHeaderValue(text)) {
        throw new TypeError(`Invalid value for header ${name}: ${JSON.stringify(text)}`);
      }
      head += `${name}: ${text}\r\n`;
    }
  }
  return head;
}

/**
 * The complete `101 Switching Protocols` head, ending with the empty line. `key` is the client's
 * `Sec-WebSocket-Key`; `protocol` and `extensions` are sent when non-empty; `headers` are added
 * as given. Throws a TypeError when a header name is not a token or a value holds control
 * characters (CR, LF, NUL...): those come from the application, never from the peer.
 */
export function formatAcceptResponse(
  options: {
    key: string;
    protocol?: string;
    extensions?: string;
    headers?: Record<string, string | string[]>;
  },
  acceptKey: AcceptKeyFunction = computeAcceptKey,
): string {
  let head =
    "HTTP/1.1 101 Switching Protocols\r\n" +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(options.key)}\r\n`;
  const optional: Record<string, string> = {};
  if (options.protocol) optional["Sec-WebSocket-Protocol"] = options.protocol;
  if (options.extensions) optional["Sec-WebSocket-Extensions"] = options.extensions;
  head = appendHeaders(head, optional);
  head = appendHeaders(head, options.headers);
  return `${head}\r\n`;
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Payload Too Large",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * A complete HTTP/1.1 error response: status line, `Connection: close`,
 * `Content-Type: text/plain; charset=utf-8`, `Content-Length`, extra `headers`, and `message` as
 * the body. Throws a TypeError for header names or values that could inject lines (application
 * input, see {@link formatAcceptResponse}).
 */
export function formatHttpError(
  status: number,
  message: string,
  headers?: Record<string, string>,
): string {
  const reason = REASONS[status] ?? (status >= 500 ? "Server Error" : "Client Error");
  let head =
    `HTTP/1.1 ${status} ${reason}\r\n` +
    "Connection: close\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${encoder.encode(message).length}\r\n`;
  head = appendHeaders(head, headers);
  return `${head}\r\n${message}`;
}

/** Result of the client's response checks. */
export type ServerResponseCheck =
  /** `protocol` is "" when the server chose none. */
  { ok: true; protocol: string; extensions: ExtensionOffer[] } | { ok: false; message: string };

/**
 * Client side: whether the server's response completes the handshake (RFC 6455 section 4.1):
 * status 101, `Upgrade: websocket` (case-insensitive), `Connection` containing `upgrade`,
 * `Sec-WebSocket-Accept` matching the key, a `Sec-WebSocket-Protocol` (if any) that is one of those
 * offered (none may be chosen when none was offered; choosing none when some were offered is
 * allowed), and extensions that are well-formed, each offered and none repeated. Never throws.
 */
export function checkServerResponse(
  response: { statusCode: number; headers: Headers },
  expected: { key: string; protocols: string[]; offeredExtensions: string[] },
  acceptKey: AcceptKeyFunction = computeAcceptKey,
): ServerResponseCheck {
  const { headers } = response;
  if (response.statusCode !== 101) {
    return { ok: false, message: `Unexpected server response: ${response.statusCode}` };
  }
  const upgrade = combinedHeaderValue(headers, "upgrade");
  if (upgrade === undefined || trimWhitespace(upgrade).toLowerCase() !== "websocket") {
    return { ok: false, message: "Invalid Upgrade header in the server response" };
  }
  if (!listHasToken(combinedHeaderValue(headers, "connection"), "upgrade")) {
    return { ok: false, message: "Invalid Connection header in the server response" };
  }
  const accept = headers["sec-websocket-accept"];
  if (typeof accept !== "string" || trimWhitespace(accept) !== acceptKey(expected.key)) {
    return { ok: false, message: "Invalid Sec-WebSocket-Accept header" };
  }
  return checkNegotiation(headers, expected);
}

/**
 * Client side, the part of the response check that every transport shares (HTTP/1.1's 101 and
 * HTTP/2's 200 to an extended CONNECT, RFC 8441): the subprotocol is one of those offered (or
 * none), the extensions only ones offered, each once.
 */
export function checkNegotiation(
  headers: Headers,
  expected: { protocols: string[]; offeredExtensions: string[] },
): ServerResponseCheck {
  let protocol = "";
  const protocolHeader = combinedHeaderValue(headers, "sec-websocket-protocol");
  if (protocolHeader !== undefined) {
    protocol = trimWhitespace(protocolHeader);
    if (expected.protocols.length === 0) {
      return { ok: false, message: "Server sent a subprotocol but none was requested" };
    }
    if (!expected.protocols.includes(protocol)) {
      return { ok: false, message: "Server sent an invalid subprotocol" };
    }
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = combinedHeaderValue(headers, "sec-websocket-extensions");
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (parsed === null) return { ok: false, message: "Invalid Sec-WebSocket-Extensions header" };
    const seen = new Set<string>();
    for (const extension of parsed) {
      if (!expected.offeredExtensions.includes(extension.name)) {
        return {
          ok: false,
          message: `Server indicated an extension that was not requested: ${extension.name}`,
        };
      }
      if (seen.has(extension.name)) {
        return {
          ok: false,
          message: `Server indicated extension ${extension.name} more than once`,
        };
      }
      seen.add(extension.name);
    }
    extensions = parsed;
  }
  return { ok: true, protocol, extensions };
}
