/**
 * The client's opening handshake (RFC 6455 section 4.1) over Node's http/https: the upgrade
 * request, redirects, the handshake timeout, and the checks of the server's response
 * (accept key, subprotocol, permessage-deflate parameters).
 * @module
 */

import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { Duplex } from "node:stream";
import type { ExtensionOffer } from "../protocol/websocket/extensions.js";
import { checkServerResponse, generateClientKey } from "../protocol/websocket/handshake.js";
import {
  acceptDeflateResponse,
  formatDeflateOffer,
  PERMESSAGE_DEFLATE,
} from "../protocol/websocket/permessage-deflate-params.js";
import { nodeAcceptKey } from "./accept-key.js";
import { PerMessageDeflate, type PerMessageDeflateOptions } from "./permessage-deflate.js";
import { toWebSocketUrl } from "./websocket-url.js";

/** Node request options passed through to `http.request` / `https.request` (TLS, agent...). */
export type ClientRequestOptions = Pick<
  RequestOptions,
  | "agent"
  | "ca"
  | "cert"
  | "key"
  | "passphrase"
  | "pfx"
  | "rejectUnauthorized"
  | "servername"
  | "checkServerIdentity"
  | "ciphers"
  | "minVersion"
  | "maxVersion"
  | "family"
  | "localAddress"
  | "lookup"
  | "createConnection"
>;

/** The request options handed to Node's request (or, the agent aside, to `http2.connect`). */
export const PASSED_THROUGH: readonly (keyof ClientRequestOptions)[] = [
  "agent",
  "ca",
  "cert",
  "key",
  "passphrase",
  "pfx",
  "rejectUnauthorized",
  "servername",
  "checkServerIdentity",
  "ciphers",
  "minVersion",
  "maxVersion",
  "family",
  "localAddress",
  "lookup",
  "createConnection",
];

/** What the handshake needs to know. */
export interface ClientHandshakeOptions {
  /** A ws: or wss: URL without fragment. */
  url: URL;
  /** Subprotocols to offer (already validated). */
  protocols: string[];
  /** Extra request headers. */
  headers: OutgoingHttpHeaders | undefined;
  /** `Origin` header value, if any. */
  origin: string | undefined;
  /** Ms for the whole handshake of each request; 0 or undefined: no limit. */
  handshakeTimeout: number | undefined;
  /** permessage-deflate options to offer, or null to offer nothing. */
  deflate: PerMessageDeflateOptions | null;
  /** Largest message accepted (for the inflater's cap). */
  maxPayload: number;
  followRedirects: boolean;
  maxRedirects: number;
  request: ClientRequestOptions;
  /** Ends each request in place of `request.end()` (ws's `finishRequest`). */
  finishRequest?: ((request: ClientRequest) => void) | undefined;
}

/** What the handshake reports; after `open`, `fail` or a handled unexpected response, nothing. */
export interface ClientHandshakeEvents {
  /** A 101 response arrived (before it is checked), as ws's `upgrade` event. */
  upgrade(response: IncomingMessage): void;
  /** A response other than 101 (and not a followed redirect); true when the application handles it. */
  unexpectedResponse(request: ClientRequest, response: IncomingMessage): boolean;
  /** The application handled an unexpected response and the exchange is now over. */
  unexpectedResponseDone(): void;
  /** Following a redirect to `url` with `request` (made, not yet ended). */
  redirect(url: URL, request: ClientRequest): void;
  /**
   * Whether the application watches redirects: it then decides which headers follow one to
   * another host (ws's rule), none is removed here.
   */
  redirectListened(): boolean;
  /** The connection is established. */
  open(
    socket: Duplex,
    head: Buffer,
    protocol: string,
    extensions: string,
    deflate: PerMessageDeflate | null,
  ): void;
  /** The connection could not be established. */
  fail(error: Error): void;
}

/** A handshake in progress. */
export interface ClientHandshake {
  /** Stops it; no event follows. */
  abort(): void;
}

/** Header names that must not follow a redirect to another host. */
const CREDENTIAL_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

/** Starts the opening handshake; the outcome arrives through `events`. */
export function startClientHandshake(
  options: ClientHandshakeOptions,
  events: ClientHandshakeEvents,
): ClientHandshake {
  let finished = false;
  let currentRequest: ClientRequest | null = null;
  let timer: NodeJS.Timeout | null = null;
  let redirects = 0;
  let userHeaders = options.headers;
  let sendCredentials = true;

  const deflateOffer = deflateOfferOf(options);

  function clearTimer(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function finish(): void {
    finished = true;
    clearTimer();
  }

  function fail(error: Error): void {
    if (finished) return;
    finish();
    const request = currentRequest;
    currentRequest = null;
    request?.destroy();
    events.fail(error);
  }

  function attempt(url: URL, redirected: boolean): void {
    const key = generateClientKey();
    const headers: OutgoingHttpHeaders = {};
    if (userHeaders !== undefined) Object.assign(headers, userHeaders);
    if (options.origin !== undefined) headers["Origin"] = options.origin;
    headers["Connection"] = "Upgrade";
    headers["Upgrade"] = "websocket";
    headers["Sec-WebSocket-Version"] = "13";
    headers["Sec-WebSocket-Key"] = key;
    if (options.protocols.length > 0) {
      headers["Sec-WebSocket-Protocol"] = options.protocols.join(", ");
    }
    if (deflateOffer !== null)
      headers["Sec-WebSocket-Extensions"] = formatDeflateOffer(deflateOffer);

    const secure = url.protocol === "wss:";
    const requestOptions: RequestOptions = {};
    for (const name of PASSED_THROUGH) {
      const value = options.request[name];
      if (value !== undefined) (requestOptions as Record<string, unknown>)[name] = value;
    }
    // URL keeps IPv6 hosts in brackets; the socket API wants the bare address.
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    requestOptions.host = host;
    requestOptions.port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
    requestOptions.path = `${url.pathname || "/"}${url.search}`;
    requestOptions.method = "GET";
    requestOptions.headers = headers;
    if (sendCredentials && (url.username !== "" || url.password !== "")) {
      requestOptions.auth = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
    }

    let request: ClientRequest;
    try {
      request = secure ? httpsRequest(requestOptions) : httpRequest(requestOptions);
    } catch (error) {
      // Invalid header values or options are reported the way a network failure is.
      process.nextTick(fail, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    currentRequest = request;

    if (options.handshakeTimeout !== undefined && options.handshakeTimeout > 0) {
      clearTimer();
      timer = setTimeout(() => {
        timer = null;
        fail(new Error("Opening handshake has timed out"));
      }, options.handshakeTimeout);
    }

    request.on("error", (error) => {
      if (currentRequest === request) fail(error);
    });

    request.on("response", (response) => {
      if (finished || currentRequest !== request) {
        response.resume();
        return;
      }
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (options.followRedirects && status >= 300 && status < 400 && location !== undefined) {
        response.resume();
        currentRequest = null;
        request.destroy();
        if (redirects >= options.maxRedirects) {
          fail(new Error("Maximum redirects exceeded"));
          return;
        }
        redirects++;
        let next: URL;
        try {
          const target = new URL(location, url);
          // A fragment in Location is legal HTTP but means nothing to a WebSocket request.
          target.hash = "";
          next = toWebSocketUrl(target.href);
        } catch {
          fail(new Error(`Invalid URL in the redirect: ${location}`));
          return;
        }
        if (next.host !== url.host && !events.redirectListened()) {
          // Credentials meant for one host are not handed to another.
          sendCredentials = false;
          userHeaders = withoutCredentials(userHeaders);
        }
        attempt(next, true);
        return;
      }
      if (events.unexpectedResponse(request, response)) {
        // The application reads the response; the exchange ends when the response does, or when
        // the handshake times out.
        currentRequest = null;
        let done = false;
        const end = (): void => {
          if (done) return;
          done = true;
          finish();
          events.unexpectedResponseDone();
        };
        response.once("close", end);
        request.once("close", end);
        if (timer !== null) {
          clearTimer();
          timer = setTimeout(() => {
            timer = null;
            request.destroy();
            end();
          }, options.handshakeTimeout);
        }
        return;
      }
      response.resume();
      fail(new Error(`Unexpected server response: ${status}`));
    });

    request.on("upgrade", (response: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (finished || currentRequest !== request) {
        socket.destroy();
        return;
      }
      events.upgrade(response);
      // An `upgrade` listener may have closed or terminated the WebSocket.
      if (finished) {
        socket.destroy();
        return;
      }
      const checked = checkServerResponse(
        { statusCode: response.statusCode ?? 0, headers: response.headers },
        {
          key,
          protocols: options.protocols,
          offeredExtensions: deflateOffer === null ? [] : [PERMESSAGE_DEFLATE],
        },
        nodeAcceptKey,
      );
      if (!checked.ok) {
        socket.destroy();
        fail(new Error(checked.message));
        return;
      }
      const agreed = agreeDeflate(checked.extensions, options, deflateOffer);
      if (agreed instanceof Error) {
        socket.destroy();
        fail(agreed);
        return;
      }
      const deflate = agreed;
      const extensionHeader = response.headers["sec-websocket-extensions"];
      const extensions = typeof extensionHeader === "string" ? extensionHeader.trim() : "";
      finish();
      currentRequest = null;
      events.open(socket, head, checked.protocol, extensions, deflate);
    });

    if (redirected) {
      events.redirect(url, request);
      // A `redirect` listener may have closed the WebSocket (the request is destroyed then).
      if (finished) return;
    }
    if (options.finishRequest !== undefined) options.finishRequest(request);
    else request.end();
  }

  attempt(options.url, false);

  return {
    abort(): void {
      if (finished) return;
      finish();
      const request = currentRequest;
      currentRequest = null;
      request?.destroy();
    },
  };
}

/** The permessage-deflate parameters offered (the bare client_max_window_bits by default). */
export function deflateOfferOf(options: ClientHandshakeOptions): PerMessageDeflateOptions | null {
  return options.deflate === null
    ? null
    : { ...options.deflate, clientMaxWindowBits: options.deflate.clientMaxWindowBits ?? true };
}

/**
 * The compressor for the extensions the server agreed to (null: none), or the reason the answer
 * is refused (parameters not offered, out-of-range options).
 */
export function agreeDeflate(
  extensions: ExtensionOffer[],
  options: ClientHandshakeOptions,
  offer: PerMessageDeflateOptions | null,
): PerMessageDeflate | null | Error {
  const accepted = extensions.find((extension) => extension.name === PERMESSAGE_DEFLATE);
  if (accepted === undefined || offer === null) return null;
  const result = acceptDeflateResponse(accepted, offer);
  if (!result.ok) return new Error(result.message);
  try {
    return new PerMessageDeflate(result.params, "client", options.deflate!, options.maxPayload);
  } catch (error) {
    // Out-of-range perMessageDeflate options: reported like any other handshake failure.
    return error instanceof Error ? error : new Error(String(error));
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function withoutCredentials(
  headers: OutgoingHttpHeaders | undefined,
): OutgoingHttpHeaders | undefined {
  if (headers === undefined) return undefined;
  const kept: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = headers[name];
  }
  return kept;
}
