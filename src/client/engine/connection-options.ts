/**
 * What a transport passes to Node besides its URL: the TLS options and `agent` for the polling
 * fetch (`scopedFetch`), and those with `extraHeaders` and `perMessageDeflate` as the WebSocket
 * constructor's third argument (`ws` and duplexio's Node client read it).
 *
 * Browsers have no use for any of it (the page's fetch takes no TLS options, its WebSocket ignores
 * a third argument), so the browser bundles swap this module for
 * `src/client/browser/connection-options.ts`, which passes nothing. Other Node-only connection
 * settings belong here too.
 * @module
 */

import type { EngineClientOptions, NodeConnectionOptions, PerTransportOptions } from "./options.js";
import type { WebSocketConnectOptions } from "./websocket-like.js";

/** The TLS options (socket.io-client's set), for every https request and wss handshake. */
export const TLS_OPTIONS = [
  "ca",
  "cert",
  "key",
  "pfx",
  "passphrase",
  "ciphers",
  "rejectUnauthorized",
] as const satisfies readonly (keyof NodeConnectionOptions)[];

/** Names of the Node connection options, passed to the polling fetch and the WebSocket. */
const CONNECTION_OPTIONS = ["agent", ...TLS_OPTIONS] as const;

/** The Node connection options that are set (`agent: false` is the default: left out), or undefined. */
export function connectionOptions(
  settings: NodeConnectionOptions,
): NodeConnectionOptions | undefined {
  let picked: Record<string, unknown> | undefined;
  for (const name of CONNECTION_OPTIONS) {
    const value = settings[name];
    if (value === undefined || (name === "agent" && value === false)) continue;
    picked ??= {};
    picked[name] = value;
  }
  return picked as NodeConnectionOptions | undefined;
}

/**
 * The WebSocket constructor's third argument: the connection options, `extraHeaders` as `headers`,
 * `perMessageDeflate` and the Manager's `cookies`, only those set (so `ws` keeps its own
 * defaults); undefined when none is.
 */
export function websocketOptions(
  settings: PerTransportOptions & Pick<EngineClientOptions, "cookies">,
  connection: NodeConnectionOptions | undefined,
): WebSocketConnectOptions | undefined {
  let options: WebSocketConnectOptions | undefined = connection;
  if (settings.extraHeaders !== undefined) options = { ...options, headers: settings.extraHeaders };
  if (settings.perMessageDeflate !== undefined) {
    options = { ...options, perMessageDeflate: settings.perMessageDeflate };
  }
  if (settings.cookies !== undefined) options = { ...options, cookies: settings.cookies };
  return options;
}
