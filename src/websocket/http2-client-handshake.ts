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
  const url = options.url;
  const secure = url.protocol === "wss:";
  const owned = session === null;
  let finished = false;
  let stream: ClientHttp2Stream | null = null;
  let timer: NodeJS.Timeout | null = null;

  if (session === null) {
    const connectOptions: SecureClientSessionOptions = {};
    for (const name of PASSED_THROUGH) {
      const value = options.request[name];
      if (value !== undefined && name !== "agent") {
        (connectOptions as Record<string, unknown>)[name] = value;
      }
    }
    session = http2Connect(`${secure ? "https" : "http"}://${url.host}`, connectOptions);
  }
  const active = session;

  function finish(): void {
    finished = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    active.off("error", onSessionError);
    active.off("remoteSettings", onSettings);
  }

  function fail(error: Error): void {
    if (finished) return;
    finish();
    stream?.close();
    if (owned) active.destroy();
    events.fail(error);
  }

  function onSessionError(error: Error): void {
    fail(error);
  }

  function onSettings(): void {
    if (active.remoteSettings.enableConnectProtocol) request();
    else {
      fail(
        new Error(
          "The server does not accept WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL)",
        ),
      );
    }
  }

  function request(): void {
    if (finished || stream !== null) return;
    const deflateOffer = deflateOfferOf(options);
    const headers = formatExtendedConnectHeaders(requestParamsOf(options, deflateOffer));
    let opened: ClientHttp2Stream;
    try {
      opened = active.request(headers, { endStream: false });
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    stream = opened;
    opened.on("error", (error) => fail(error));
    opened.once("response", (response: IncomingHttpHeaders) => {
      if (finished) return;
      const status = Number(response[":status"]);
      if (!(status >= 200 && status < 300)) {
        fail(new Error(`Unexpected server response: ${status}`));
        return;
      }
      const checked = checkNegotiation(response, {
        protocols: options.protocols,
        offeredExtensions: deflateOffer === null ? [] : [PERMESSAGE_DEFLATE],
      });
      if (!checked.ok) {
        fail(new Error(checked.message));
        return;
      }
      const deflate = agreeDeflate(checked.extensions, options, deflateOffer);
      if (deflate instanceof Error) {
        fail(deflate);
        return;
      }
      const extensionHeader = response["sec-websocket-extensions"];
      finish();
      // The stream's errors are the WebSocket's now (it destroys the stream, `close` says 1006).
      opened.removeAllListeners("error");
      if (owned) opened.once("close", () => active.close());
      events.open(
        opened,
        EMPTY,
        checked.protocol,
        typeof extensionHeader === "string" ? extensionHeader.trim() : "",
        deflate,
      );
    });
  }

  if (options.handshakeTimeout !== undefined && options.handshakeTimeout > 0) {
    timer = setTimeout(() => {
      timer = null;
      fail(new Error("Opening handshake has timed out"));
    }, options.handshakeTimeout);
  }
  active.on("error", onSessionError);
  // An application's session may already have the server's settings; a new one waits for them.
  if (!owned && active.remoteSettings?.enableConnectProtocol) process.nextTick(request);
  else active.once("remoteSettings", onSettings);

  return {
    abort(): void {
      if (finished) return;
      finish();
      stream?.close();
      if (owned) active.destroy();
    },
  };
}
