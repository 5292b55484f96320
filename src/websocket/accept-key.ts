/**
 * `Sec-WebSocket-Accept` on Node: SHA-1 from node:crypto (OpenSSL) and base64 from Buffer, for
 * both roles' handshakes. The pure SHA-1 and base64 of `src/protocol` compute the same value
 * (test/websocket/accept-key.test.ts) and stay the protocol layer's default, for code without
 * Node built-ins.
 * @module
 */
import { createHash } from "node:crypto";
import { WEBSOCKET_GUID } from "../protocol/websocket/constants.js";

/** base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2). */
export function nodeAcceptKey(key: string): string {
  return createHash("sha1")
    .update(key + WEBSOCKET_GUID)
    .digest("base64");
}
