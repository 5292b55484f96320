/**
 * Counts what goes through the demo server: messages in and out, bytes in and out.
 *
 * Where the counting happens, and why there:
 * - **Socket.IO messages** are counted at the Engine.IO level, once per connection rather than
 *   once per namespace and socket: the engine socket's `message` event (in) hands over data that
 *   already exists, so counting costs an increment; `packetCreate` (out, filtered to `message`
 *   packets) costs one small event object per packet, which the engine builds only while someone
 *   listens. One engine message is one Socket.IO packet (an event, an acknowledgement, or a
 *   binary attachment), and a broadcast to 100 clients counts 100 messages out: what each client
 *   receives. Socket.IO's `onAny`/`onAnyOutgoing` would need a listener per socket and namespace
 *   and miss acknowledgements.
 * - **Plain WebSocket messages** are counted by the endpoint itself (see plain-websocket.ts).
 * - **Bytes** are read from the TCP sockets' own counters (`bytesRead`, `bytesWritten`) when a
 *   figure is wanted, so nothing at all is done per message; the figure is what crossed the wire:
 *   HTTP headers, WebSocket framing, long-polling requests, and the pages themselves included.
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Socket as NetSocket } from "node:net";
import type { EngineServer, EngineSocket } from "../engine/index.js";

/** Message and byte counts since the counter started. */
export interface TrafficTotals {
  socketIoMessagesIn: number;
  socketIoMessagesOut: number;
  plainWebSocketMessagesIn: number;
  plainWebSocketMessagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** See the module comment. */
export class TrafficCounter {
  socketIoMessagesIn = 0;
  socketIoMessagesOut = 0;
  plainWebSocketMessagesIn = 0;
  plainWebSocketMessagesOut = 0;

  // Bytes of connections already closed; live ones are read from their sockets on demand.
  #closedBytesIn = 0;
  #closedBytesOut = 0;
  readonly #liveSockets = new Set<NetSocket>();

  // One pair of listeners shared by every connection: nothing is allocated per connection.
  readonly #onMessageIn = (): void => {
    this.socketIoMessagesIn++;
  };
  readonly #onPacketOut = (packet: { type: string }): void => {
    if (packet.type === "message") this.socketIoMessagesOut++;
  };
  readonly #onEngineConnection = (connection: EngineSocket): void => {
    connection.on("message", this.#onMessageIn);
    connection.on("packetCreate", this.#onPacketOut);
  };
  readonly #onTcpConnection = (socket: NetSocket): void => {
    this.#liveSockets.add(socket);
    socket.once("close", () => {
      this.#liveSockets.delete(socket);
      this.#closedBytesIn += socket.bytesRead;
      this.#closedBytesOut += socket.bytesWritten;
    });
  };

  /** Counts the messages of every Engine.IO connection `engine` accepts from now on. */
  watchEngine(engine: EngineServer): void {
    engine.on("connection", this.#onEngineConnection);
  }

  /** Counts the bytes of every TCP connection `server` accepts from now on. */
  watchHttpServer(server: HttpServer): void {
    server.on("connection", this.#onTcpConnection);
  }

  /** The counts now. */
  totals(): TrafficTotals {
    let bytesIn = this.#closedBytesIn;
    let bytesOut = this.#closedBytesOut;
    for (const socket of this.#liveSockets) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
    }
    return {
      socketIoMessagesIn: this.socketIoMessagesIn,
      socketIoMessagesOut: this.socketIoMessagesOut,
      plainWebSocketMessagesIn: this.plainWebSocketMessagesIn,
      plainWebSocketMessagesOut: this.plainWebSocketMessagesOut,
      bytesIn,
      bytesOut,
    };
  }
}
