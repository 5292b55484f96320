/**
 * The `socket.handshake` object, built from the request that opened the Engine.IO connection.
 */
import type { IncomingMessage } from "node:http";
import { parse as parseQuery } from "node:querystring";
import type { TLSSocket } from "node:tls";
import type { Handshake } from "./socket-types.js";

/**
 * Builds a socket's handshake from its connection's first request, the client's auth payload and
 * when the socket was created (ms since the epoch). Sockets build it when first asked.
 */
export function buildHandshake(
  request: IncomingMessage,
  remoteAddress: string,
  auth: Record<string, unknown>,
  issued: number,
): Handshake {
  const url = request.url ?? "/";
  const queryStart = url.indexOf("?");
  const now = new Date(issued);
  return {
    headers: request.headers,
    time: now.toString(),
    address: remoteAddress,
    xdomain: request.headers.origin !== undefined,
    secure: (request.socket as Partial<TLSSocket> | null)?.encrypted === true,
    issued: now.getTime(),
    url,
    query: queryStart === -1 ? {} : parseQuery(url.slice(queryStart + 1)),
    auth,
  };
}
