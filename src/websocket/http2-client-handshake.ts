/**
 * The client's opening handshake over HTTP/2 (RFC 8441): an extended CONNECT request
 * (`:method CONNECT`, `:protocol websocket`) on a session whose server advertised
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, answered by a 2xx; the stream then carries the WebSocket's
 * frames. Opt-in through the client's `http2` option: a session of the application's, or a new
 * one made (and closed with the WebSocket) here.
 * @module
 */

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as http2Connect,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
} from "node:http2";
import { checkNegotiation, formatExtendedConnectHeaders } from "../protocol/websocket/handshake.js";
import { PERMESSAGE_DEFLATE } from "../protocol/websocket/permessage-deflate-params.js";
import {
  agreeDeflate,
  type ClientHandshake,
  type ClientHandshakeEvents,
  type ClientHandshakeOptions,
  deflateOfferOf,
  PASSED_THROUGH,
  requestParamsOf,
} from "./client-handshake.js";
import type { PerMessageDeflateOptions } from "./permessage-deflate.js";

const EMPTY = Buffer.alloc(0);

/**
 * Starts the handshake on `session` (or on a session to the URL's origin made here, which then
 * closes when the WebSocket's stream does). Redirects are not followed: a 3xx is an unexpected
 * response, as any other status but 2xx.
 */
export function startHttp2ClientHandshake(
  options: ClientHandshakeOptions,
  session: ClientHttp2Session | null,
  events: ClientHandshakeEvents,
): ClientHandshake {
  return new ExtendedConnectHandshake(options, session, events);
}

/**
 * The handshake over HTTP/2: once the session's settings allow the extended CONNECT, one request
 * stream, under one timer for the whole handshake.
 */
class ExtendedConnectHandshake implements ClientHandshake {
  readonly #options: ClientHandshakeOptions;
  readonly #events: ClientHandshakeEvents;
  readonly #deflateOffer: PerMessageDeflateOptions | null;
  readonly #session: ClientHttp2Session;
  /** Whether the session was made here (and is closed with the handshake or the stream). */
  readonly #ownsSession: boolean;
  #finished = false;
  #stream: ClientHttp2Stream | null = null;
  #timer: NodeJS.Timeout | null = null;
  // Listeners on the session, removed when the handshake is over.
  readonly #onSessionError = (error: Error): void => this.#fail(error);
  readonly #onSettings = (): void => {
    if (this.#session.remoteSettings.enableConnectProtocol) this.#request();
    else {
      this.#fail(
        new Error(
          "The server does not accept WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL)",
        ),
      );
    }
  };

  constructor(
    options: ClientHandshakeOptions,
    session: ClientHttp2Session | null,
    events: ClientHandshakeEvents,
  ) {
    this.#options = options;
    this.#events = events;
    this.#deflateOffer = deflateOfferOf(options);
    this.#ownsSession = session === null;
    this.#session = session ?? connectSession(options);
    const limit = options.handshakeTimeout;
    if (limit !== undefined && limit > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#fail(new Error("Opening handshake has timed out"));
      }, limit);
    }
    this.#session.on("error", this.#onSessionError);
    // An application's session may already have the server's settings; a new one waits for them.
    if (!this.#ownsSession && this.#session.remoteSettings?.enableConnectProtocol) {
      process.nextTick(() => this.#request());
    } else this.#session.once("remoteSettings", this.#onSettings);
  }

  /** Stops the handshake; no event follows. */
  abort(): void {
    if (this.#finished) return;
    this.#finish();
    this.#close();
  }

  /** Opens the extended CONNECT stream. */
  #request(): void {
    if (this.#finished || this.#stream !== null) return;
    const headers = formatExtendedConnectHeaders(
      requestParamsOf(this.#options, this.#deflateOffer),
    );
    let stream: ClientHttp2Stream;
    try {
      stream = this.#session.request(headers, { endStream: false });
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#stream = stream;
    stream.on("error", (error) => this.#fail(error));
    stream.once("response", (response: IncomingHttpHeaders) => this.#onResponse(stream, response));
  }

  /** The server's answer: a 2xx whose negotiation checks pass opens the connection. */
  #onResponse(stream: ClientHttp2Stream, response: IncomingHttpHeaders): void {
    if (this.#finished) return;
    const status = Number(response[":status"]);
    if (!(status >= 200 && status < 300)) {
      this.#fail(new Error(`Unexpected server response: ${status}`));
      return;
    }
    const checked = checkNegotiation(response, {
      protocols: this.#options.protocols,
      offeredExtensions: this.#deflateOffer === null ? [] : [PERMESSAGE_DEFLATE],
    });
    if (!checked.ok) {
      this.#fail(new Error(checked.message));
      return;
    }
    const deflate = agreeDeflate(checked.extensions, this.#options, this.#deflateOffer);
    if (deflate instanceof Error) {
      this.#fail(deflate);
      return;
    }
    const extensionHeader = response["sec-websocket-extensions"];
    this.#finish();
    // The stream's errors are the WebSocket's now (it destroys the stream, `close` says 1006).
    stream.removeAllListeners("error");
    if (this.#ownsSession) {
      const session = this.#session;
      stream.once("close", () => session.close());
    }
    this.#events.open(
      stream,
      EMPTY,
      checked.protocol,
      typeof extensionHeader === "string" ? extensionHeader.trim() : "",
      deflate,
    );
  }

  #finish(): void {
    this.#finished = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#session.off("error", this.#onSessionError);
    this.#session.off("remoteSettings", this.#onSettings);
  }

  /** Closes the stream, and the session if it was made here. */
  #close(): void {
    this.#stream?.close();
    if (this.#ownsSession) this.#session.destroy();
  }

  #fail(error: Error): void {
    if (this.#finished) return;
    this.#finish();
    this.#close();
    this.#events.fail(error);
  }
}

/** A session to the URL's origin, with the application's TLS and socket options. */
function connectSession(options: ClientHandshakeOptions): ClientHttp2Session {
  const connectOptions: SecureClientSessionOptions = {};
  for (const name of PASSED_THROUGH) {
    const value = options.request[name];
    if (value !== undefined && name !== "agent") {
      (connectOptions as Record<string, unknown>)[name] = value;
    }
  }
  const scheme = options.url.protocol === "wss:" ? "https" : "http";
  return http2Connect(`${scheme}://${options.url.host}`, connectOptions);
}
