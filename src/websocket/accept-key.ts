/**
 * `Sec-WebSocket-Accept` on Node: SHA-1 and base64 from node:crypto's one-shot `hash` (OpenSSL),
 * for both roles' handshakes. The pure SHA-1 and base64 of `src/protocol` compute the same value
 * (test/websocket/accept-key.test.ts) and stay the protocol layer's default, for code without
 * Node built-ins.
 * @module
 */
import { hash } from "node:crypto";
import { WEBSOCKET_GUID } from "../protocol/websocket/constants.js";

/** base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2). */
export function nodeAcceptKey(key: string): string {
  // One-shot: no Hash object per handshake (about half the cost of createHash().update().digest()).
  return hash("sha1", key + WEBSOCKET_GUID, "base64");
}
