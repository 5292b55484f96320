/**
 * `duplexio/client` in Node: the same API as the browser entry point, with duplexio's own
 * WebSocket client (Node 20 has no global WebSocket; `extraHeaders`, the TLS options, `agent` and
 * `perMessageDeflate` reach its handshake, and a refused handshake is reported with its HTTP
 * status and the server's reason), polling over `node:http`/`node:https` with connections of its
 * own per transport (the TLS options and `agent` apply there too), and received binary values as
 * Buffers, as socket.io-client gives them in Node. Each Manager keeps the cookies servers set
 * (sticky load balancers' and Engine.IO's `io`) and sends them back on its polling requests and
 * WebSocket handshakes, as socket.io-client does in Node with `withCredentials: true`. Debug
 * lines (`DEBUG=duplexio:client`) go to stderr.
 * @module
 */
import { Buffer } from "node:buffer";
import { stderrDebugWriter } from "../websocket/debug.js";
import { setDebugWriter } from "./debug.js";
import { CookieJar } from "./node-cookies.js";
import { createScopedFetch } from "./node-scoped-fetch.js";
import { ClientWebSocket } from "./node-websocket.js";
import { setClientPlatform } from "./platform.js";

setClientPlatform({
  WebSocket: ClientWebSocket,
  // A view on the received bytes, not a copy.
  convertBinary: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  scopedFetch: createScopedFetch,
  cookieJar: () => new CookieJar(),
});
// DEBUG=duplexio:client lines on stderr, like the server's.
setDebugWriter(stderrDebugWriter);

export * from "./index.js";
export { default } from "./index.js";
