/**
 * `createWebSocketStream`: a Node.js Duplex over a WebSocket, as ws's function of the same name.
 * Each write is sent as one message; each message received is pushed as one chunk. Backpressure
 * holds both ways: a full readable buffer pauses the WebSocket's reading, and a write completes
 * when its frame has been handed to the socket.
 * @module
 */

import { Duplex, type DuplexOptions } from "node:stream";
import { WebSocket } from "./websocket.js";

/**
 * Wraps `ws` in a Duplex stream. `end()` closes the WebSocket (a normal closing handshake);
 * `destroy()` terminates it. The stream ends when the WebSocket closes and is destroyed with the
 * WebSocket's error, if any. `options` go to the Duplex (`objectMode` and `writableObjectMode` are
 * forced off; with `readableObjectMode`, text messages are pushed as strings).
 *
 * @example
 * import { pipeline } from "node:stream/promises";
 * wss.on("connection", (socket) => pipeline(createWebSocketStream(socket), transform, createWebSocketStream(socket)));
 */
export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  // After the WebSocket reported an error it is already being torn down: no second terminate.
  let terminateOnDestroy = true;

  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.once("open", () => ws.send(chunk, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.once("open", () => closeThen(callback));
        return;
      }
      closeThen(callback);
    },
    destroy(error, callback) {
      if (ws.readyState === WebSocket.CLOSED) {
        callback(error);
        process.nextTick(() => duplex.emit("close"));
        return;
      }
      ws.once("close", () => {
        callback(error);
        duplex.emit("close");
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });

  /** Closes the WebSocket and calls back once it is closed (bounded by its close timeout). */
  function closeThen(callback: (error?: Error | null) => void): void {
    if (ws.readyState === WebSocket.CLOSED) {
      callback();
      return;
    }
    ws.once("close", () => callback());
    ws.close();
  }

  ws.on("message", (data, isBinary) => {
    const chunk = !isBinary && duplex.readableObjectMode ? data.toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once("error", (error: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once("close", () => {
    if (!duplex.destroyed) duplex.push(null);
  });
  // Both sides done: nothing more can happen on this stream.
  duplex.on("end", () => {
    if (!duplex.destroyed && duplex.writableFinished) duplex.destroy();
  });
  duplex.on("finish", () => {
    if (!duplex.destroyed && duplex.readableEnded) duplex.destroy();
  });
  return duplex;
}
