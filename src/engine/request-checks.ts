/**
 * The checks every Engine.IO request goes through before it reaches a session or a handshake,
 * in the reference server's order: transport, origin header, then session id (existing session,
 * same transport unless upgrading) or, for a handshake, method, protocol revision and the
 * application's `allowRequest`.
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { EngineSocket } from "./engine-socket.js";
import { EngineErrorCode, type EngineErrorContext } from "./errors.js";
import type { ResolvedEngineOptions, TransportName } from "./options.js";
import { protocolOf } from "./request-query.js";

/** The outcome: no code means accepted. */
export type Verdict = (code?: EngineErrorCode, context?: EngineErrorContext) => void;

/** Origins with characters no HTTP header may carry are refused (as engine.io does). */
const INVALID_HEADER_CHARS = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Checks `request` and calls `verdict` once (synchronously, except when `allowRequest` answers
 * later). `upgrade`: the request is a WebSocket upgrade.
 */
export function verifyRequest(
  server: { readonly opts: ResolvedEngineOptions; readonly clients: Map<string, EngineSocket> },
  request: IncomingMessage,
  query: Record<string, string>,
  upgrade: boolean,
  verdict: Verdict,
): void {
  const transport = query.transport;
  if (!server.opts.transports.includes(transport as TransportName)) {
    verdict(EngineErrorCode.UnknownTransport, { transport });
    return;
  }
  const origin = request.headers.origin;
  if (typeof origin === "string" && INVALID_HEADER_CHARS.test(origin)) {
    verdict(EngineErrorCode.BadRequest, { name: "INVALID_ORIGIN", origin });
    return;
  }
  const sid = query.sid;
  if (sid) {
    const client = server.clients.get(sid);
    if (client === undefined) {
      verdict(EngineErrorCode.UnknownSid, { sid });
      return;
    }
    if (!upgrade && client.transport.name !== transport) {
      verdict(EngineErrorCode.BadRequest, {
        name: "TRANSPORT_MISMATCH",
        transport,
        previousTransport: client.transport.name,
      });
      return;
    }
    verdict();
    return;
  }
  if (request.method !== "GET") {
    verdict(EngineErrorCode.BadHandshakeMethod, { method: request.method });
    return;
  }
  if (transport === "websocket" && !upgrade) {
    verdict(EngineErrorCode.BadRequest, { name: "TRANSPORT_HANDSHAKE_ERROR" });
    return;
  }
  if (protocolOf(query, server.opts.allowEIO3) === null) {
    verdict(EngineErrorCode.UnsupportedProtocolVersion, { protocol: query.EIO });
    return;
  }
  const allowRequest = server.opts.allowRequest;
  if (!allowRequest) {
    verdict();
    return;
  }
  let decided = false;
  try {
    allowRequest(request, (message, success) => {
      if (decided) return;
      decided = true;
      if (success) verdict();
      else verdict(EngineErrorCode.Forbidden, { message: message ?? undefined });
    });
  } catch (error) {
    if (decided) return;
    decided = true;
    verdict(EngineErrorCode.Forbidden, { name: "ALLOW_REQUEST_FAILURE", error });
  }
}
