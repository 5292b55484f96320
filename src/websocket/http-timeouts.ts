/**
 * The `http.Server` settings that cut TCP connections which never complete a request: for the
 * HTTP servers this library creates itself (`new WebSocketServer({ port })`, `duplexio echo`).
 * Applications that bring their own server set the same (docs/design/websocket.md).
 * @module
 */

/** Ms from accepting a connection to the end of its request head. */
export const DEFAULT_HEADERS_TIMEOUT = 5_000;
/** Ms from accepting a connection to the end of a whole request (body included). */
export const DEFAULT_REQUEST_TIMEOUT = 10_000;
/** How often Node checks those two timeouts, at most. */
const MAX_CHECK_INTERVAL = 1_000;

/** The `http.createServer` options that apply the timeouts. */
export interface HttpServerTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
}

/**
 * Options for `http.createServer`. On Node 20 `headersTimeout` is counted from the moment the
 * connection is accepted, so it cuts both a connection that sends nothing at all and one that
 * trickles its headers (slowloris), with a 408; `requestTimeout` cuts a request whose body
 * trickles. Node checks them every `connectionsCheckingInterval` (30 s by default, which would
 * let a slowloris connection live up to 35 s): here every second, or a fifth of the timeout
 * when it is shorter. Connections that upgraded leave Node's list and are not concerned.
 * `keepAliveTimeout` keeps Node's default (5 s between requests). 0 disables a timeout.
 */
export function httpServerTimeouts(
  headersTimeout: number = DEFAULT_HEADERS_TIMEOUT,
  requestTimeout: number = DEFAULT_REQUEST_TIMEOUT,
): HttpServerTimeouts {
  const shortest = headersTimeout > 0 ? headersTimeout : requestTimeout;
  const interval =
    shortest > 0
      ? Math.max(10, Math.min(MAX_CHECK_INTERVAL, Math.floor(shortest / 5)))
      : MAX_CHECK_INTERVAL;
  return { headersTimeout, requestTimeout, connectionsCheckingInterval: interval };
}
