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
import {
  type ClientRequestParams,
  checkServerResponse,
  formatClientRequestHeaders,
  generateClientKey,
  type RequestHeaders,
  requestTarget,
} from "../protocol/websocket/handshake.js";
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
  return new UpgradeHandshake(options, events);
}

/**
 * The handshake over HTTP/1.1: one upgrade request at a time (a followed redirect makes the next),
 * under one timer per request. `#request` is null once a request's outcome is decided, so the
 * events of a request left behind are ignored.
 */
class UpgradeHandshake implements ClientHandshake {
  readonly #options: ClientHandshakeOptions;
  readonly #events: ClientHandshakeEvents;
  readonly #deflateOffer: PerMessageDeflateOptions | null;
  /**
   * What the next request asks for: a redirect changes the URL, and takes the credentials out of
   * the application's headers when it leads to another host.
   */
  #offer: ClientRequestParams;
  #sendCredentials = true;
  #redirects = 0;
  #finished = false;
  #request: ClientRequest | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: ClientHandshakeOptions, events: ClientHandshakeEvents) {
    this.#options = options;
    this.#events = events;
    this.#deflateOffer = deflateOfferOf(options);
    this.#offer = requestParamsOf(options, this.#deflateOffer);
    this.#send(false);
  }

  /** Stops the handshake; no event follows. */
  abort(): void {
    if (this.#finished) return;
    this.#finish();
    this.#dropRequest();
  }

  /** Makes and ends the upgrade request (`redirected`: a followed redirect's). */
  #send(redirected: boolean): void {
    const { url } = this.#offer;
    const key = generateClientKey();
    let request: ClientRequest;
    try {
      request = (url.protocol === "wss:" ? httpsRequest : httpRequest)(this.#requestOptions(key));
    } catch (error) {
      // Invalid header values or options are reported the way a network failure is.
      process.nextTick(() => this.#fail(error instanceof Error ? error : new Error(String(error))));
      return;
    }
    this.#request = request;
    this.#startTimer(() => this.#fail(new Error("Opening handshake has timed out")));
    request.on("error", (error) => {
      if (this.#request === request) this.#fail(error);
    });
    request.on("response", (response) => this.#onResponse(request, url, response));
    request.on("upgrade", (response: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(request, key, response, socket, head),
    );
    if (redirected) {
      this.#events.redirect(url, request);
      // A `redirect` listener may have closed the WebSocket (the request is destroyed then).
      if (this.#finished) return;
    }
    if (this.#options.finishRequest !== undefined) this.#options.finishRequest(request);
    else request.end();
  }

  /** Node's options for the next request: the application's, then the handshake's. */
  #requestOptions(key: string): RequestOptions {
    const { url } = this.#offer;
    const requestOptions: RequestOptions = {};
    for (const name of PASSED_THROUGH) {
      const value = this.#options.request[name];
      if (value !== undefined) (requestOptions as Record<string, unknown>)[name] = value;
    }
    // URL keeps IPv6 hosts in brackets; the socket API wants the bare address.
    requestOptions.host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    requestOptions.port = url.port === "" ? (url.protocol === "wss:" ? 443 : 80) : Number(url.port);
    requestOptions.path = requestTarget(url);
    requestOptions.method = "GET";
    requestOptions.headers = formatClientRequestHeaders(this.#offer, key);
    if (this.#sendCredentials && (url.username !== "" || url.password !== "")) {
      requestOptions.auth = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
    }
    return requestOptions;
  }

  /** A response other than 101: a redirect to follow, one for the application, or a failure. */
  #onResponse(request: ClientRequest, url: URL, response: IncomingMessage): void {
    if (this.#finished || this.#request !== request) {
      response.resume();
      return;
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (this.#options.followRedirects && status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      this.#dropRequest();
      this.#redirect(url, location);
      return;
    }
    if (this.#events.unexpectedResponse(request, response)) {
      this.#handOver(request, response);
      return;
    }
    response.resume();
    this.#fail(new Error(`Unexpected server response: ${status}`));
  }

  /** Follows a redirect from `url` to `location`, within `maxRedirects`. */
  #redirect(url: URL, location: string): void {
    if (this.#redirects >= this.#options.maxRedirects) {
      this.#fail(new Error("Maximum redirects exceeded"));
      return;
    }
    this.#redirects++;
    let next: URL;
    try {
      const target = new URL(location, url);
      // A fragment in Location is legal HTTP but means nothing to a WebSocket request.
      target.hash = "";
      next = toWebSocketUrl(target.href);
    } catch {
      this.#fail(new Error(`Invalid URL in the redirect: ${location}`));
      return;
    }
    let headers = this.#offer.headers;
    if (next.host !== url.host && !this.#events.redirectListened()) {
      // Credentials meant for one host are not handed to another.
      this.#sendCredentials = false;
      headers = withoutCredentials(headers);
    }
    this.#offer = { ...this.#offer, url: next, headers };
    this.#send(true);
  }

  /**
   * The application reads an unexpected response; the exchange ends when the response does, or
   * when the handshake times out.
   */
  #handOver(request: ClientRequest, response: IncomingMessage): void {
    this.#request = null;
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      this.#finish();
      this.#events.unexpectedResponseDone();
    };
    response.once("close", end);
    request.once("close", end);
    if (this.#timer !== null) {
      this.#startTimer(() => {
        request.destroy();
        end();
      });
    }
  }

  /** A 101 response: the `upgrade` event, then the checks; the connection opens if they pass. */
  #onUpgrade(
    request: ClientRequest,
    key: string,
    response: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): void {
    if (this.#finished || this.#request !== request) {
      socket.destroy();
      return;
    }
    this.#events.upgrade(response);
    // An `upgrade` listener may have closed or terminated the WebSocket.
    if (this.#finished) {
      socket.destroy();
      return;
    }
    const checked = checkServerResponse(
      { statusCode: response.statusCode ?? 0, headers: response.headers },
      {
        key,
        protocols: this.#options.protocols,
        offeredExtensions: this.#deflateOffer === null ? [] : [PERMESSAGE_DEFLATE],
      },
      nodeAcceptKey,
    );
    if (!checked.ok) {
      socket.destroy();
      this.#fail(new Error(checked.message));
      return;
    }
    const deflate = agreeDeflate(checked.extensions, this.#options, this.#deflateOffer);
    if (deflate instanceof Error) {
      socket.destroy();
      this.#fail(deflate);
      return;
    }
    const extensionHeader = response.headers["sec-websocket-extensions"];
    const extensions = typeof extensionHeader === "string" ? extensionHeader.trim() : "";
    this.#finish();
    this.#request = null;
    this.#events.open(socket, head, checked.protocol, extensions, deflate);
  }

  /** (Re)starts the handshake's timer, if it has a limit. */
  #startTimer(onTimeout: () => void): void {
    const limit = this.#options.handshakeTimeout;
    if (limit === undefined || limit <= 0) return;
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      onTimeout();
    }, limit);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #finish(): void {
    this.#finished = true;
    this.#clearTimer();
  }

  /** Destroys the request in progress, whose events are ignored from now on. */
  #dropRequest(): void {
    const request = this.#request;
    this.#request = null;
    request?.destroy();
  }

  #fail(error: Error): void {
    if (this.#finished) return;
    this.#finish();
    this.#dropRequest();
    this.#events.fail(error);
  }
}

/** The permessage-deflate parameters offered (the bare client_max_window_bits by default). */
export function deflateOfferOf(options: ClientHandshakeOptions): PerMessageDeflateOptions | null {
  return options.deflate === null
    ? null
    : { ...options.deflate, clientMaxWindowBits: options.deflate.clientMaxWindowBits ?? true };
}

/** What the request offers, from the handshake's options and its permessage-deflate offer. */
export function requestParamsOf(
  options: ClientHandshakeOptions,
  deflateOffer: PerMessageDeflateOptions | null,
): ClientRequestParams {
  return {
    url: options.url,
    protocols: options.protocols,
    extensions: deflateOffer === null ? "" : formatDeflateOffer(deflateOffer),
    origin: options.origin,
    headers: options.headers,
  };
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

function withoutCredentials(headers: RequestHeaders | undefined): RequestHeaders | undefined {
  if (headers === undefined) return undefined;
  const kept: RequestHeaders = {};
  for (const name of Object.keys(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = headers[name];
  }
  return kept;
}
