/**
 * `duplexio/client` in Node: the same API as the browser entry point, with duplexio's own
 * WebSocket client (Node 20 has no global WebSocket; `extraHeaders` reach its handshake) and
 * received binary values as Buffers, as socket.io-client gives them in Node.
 * @module
 */
import { Buffer } from "node:buffer";
import { WebSocket } from "../websocket/index.js";
import { createScopedFetch } from "./node-scoped-fetch.js";
import { setClientPlatform } from "./platform.js";

setClientPlatform({
  WebSocket,
  // A view on the received bytes, not a copy.
  convertBinary: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  scopedFetch: createScopedFetch,
});

export * from "./index.js";
export { default } from "./index.js";
