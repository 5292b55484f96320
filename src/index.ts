/**
 * `duplexio`: the Socket.IO-compatible server. See `./server/index.ts`; the Engine.IO server is
 * `duplexio/engine`, the WebSocket layer `duplexio/websocket`.
 * @module
 */
export * from "./server/index.js";
