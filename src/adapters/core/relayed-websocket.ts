/**
 * The owner's end of a WebSocket bridged by another node: it stands where the engine's WebSocket
 * transport expects a WebSocket, so that packets are encoded and decoded by the same code as for
 * a local connection; its messages travel to the bridging node, which writes them to the client.
 */
import { EventEmitter } from "node:events";
import type { PreparedMessage, SendOptions, WebSocket } from "../../websocket/websocket.js";

/** Sends one message to the bridging node; resolves once handed to the transport. */
export type RelayMessage = (data: string | Uint8Array) => Promise<void>;

/** Most messages handed to the transport and not yet confirmed: more close the bridge. */
export const MAX_RELAYED_IN_FLIGHT = 4096;

const OPEN = 1;
const CLOSED = 3;

/** See the module comment. Emits "message" (Buffer, isBinary), "close", "error". */
export class RelayedWebSocket extends EventEmitter {
  readyState: number = OPEN;
  /** Compression is the bridging node's business (its own connection with the client). */
  readonly extensions = "";
  readonly #relay: RelayMessage;
  readonly #onClose: (remote: boolean) => void;
  #inFlight = 0;

  /** @param onClose - the bridge ends; `remote`: the bridging node said so */
  constructor(relay: RelayMessage, onClose: (remote: boolean) => void) {
    super();
    this.#relay = relay;
    this.#onClose = onClose;
  }

  /** As the engine's transport takes it. */
  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }

  /** Messages travel as soon as they are sent: nothing waits here. */
  get bufferedAmount(): number {
    return 0;
  }

  send(data: string | Uint8Array, options?: SendOptions, callback?: (error?: Error) => void): void {
    const binary = options?.binary ?? typeof data !== "string";
    this.#send(binary || typeof data === "string" ? data : Buffer.from(data).toString(), callback);
  }

  sendPrepared(message: PreparedMessage, callback?: (error?: Error) => void): void {
    const payload = message.payload;
    this.#send(
      message.binary
        ? payload
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString(),
      callback,
    );
  }

  #send(data: string | Uint8Array, callback: ((error?: Error) => void) | undefined): void {
    if (this.readyState !== OPEN) {
      if (callback) process.nextTick(callback, new Error("The WebSocket is not open"));
      return;
    }
    if (this.#inFlight >= MAX_RELAYED_IN_FLIGHT) {
      // The transport between the nodes does not keep up: end the session's WebSocket rather than
      // queue without bound (the client reconnects).
      if (callback) process.nextTick(callback, new Error("The bridge does not keep up"));
      this.terminate();
      return;
    }
    this.#inFlight++;
    this.#relay(data).then(
      () => {
        this.#inFlight--;
        callback?.();
      },
      (error: Error) => {
        this.#inFlight--;
        callback?.(error);
        this.terminate();
      },
    );
  }

  /** A message from the client, through the bridging node. */
  receive(data: string | Uint8Array): void {
    if (this.readyState !== OPEN) return;
    if (typeof data === "string") this.emit("message", Buffer.from(data), false);
    else this.emit("message", Buffer.from(data.buffer, data.byteOffset, data.byteLength), true);
  }

  close(): void {
    this.#end(false);
  }

  terminate(): void {
    this.#end(false);
  }

  /** The bridging node closed the client's WebSocket. */
  remoteClosed(): void {
    this.#end(true);
  }

  #end(remote: boolean): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#onClose(remote);
    process.nextTick(() => this.emit("close", remote ? 1006 : 1000, Buffer.alloc(0)));
  }
}
