/**
 * `src/client/engine/connection-options.ts` in the browser bundles: browsers pass nothing besides
 * the URL (the page's fetch takes no TLS options or agent; its WebSocket ignores a third
 * argument), so the Node options are accepted and ignored, as socket.io-client's bundle does.
 * @module
 */

import type { NodeConnectionOptions, PerTransportOptions } from "../engine/options.js";
import type { WebSocketConnectOptions } from "../engine/websocket-like.js";

/** None in browsers. */
export function connectionOptions(_settings: NodeConnectionOptions): undefined {
  return undefined;
}

/** None in browsers. */
export function websocketOptions(
  _settings: PerTransportOptions,
  _connection: NodeConnectionOptions | undefined,
): WebSocketConnectOptions | undefined {
  return undefined;
}
