/**
 * `duplexio`: the Socket.IO-compatible server. See `./server/index.ts`; the Engine.IO server is
 * `duplexio/engine`, the WebSocket layer `duplexio/websocket`.
 * @module
 */
import * as api from "./server/index.js";

export * from "./server/index.js";

/**
 * What `require("duplexio")` returns (Node's require of an ES module returns the export named
 * "module.exports"): as `require("socket.io")`, a function making a server,
 * `require("duplexio")(httpServer, opts)` or `(port, opts)`, that also carries every export
 * (`.Server`, `.listen`, `.attach`, ...), so `const { Server } = require("duplexio")` works too.
 * Also the default export, as socket.io's (`import io from "duplexio"; io(httpServer)`).
 */
const commonJsExport = Object.assign(
  (srv?: api.AttachableServer | number | api.ServerOptions, opts?: api.ServerOptions): api.Server =>
    new api.Server(srv, opts),
  api,
);

export { commonJsExport as "module.exports", commonJsExport as default };
