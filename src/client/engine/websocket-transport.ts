/**
 * The WebSocket transport: one Engine.IO packet per WebSocket message, binary messages as binary
 * frames, over an injected WebSocket constructor.
 * @module
 */

import {
  decodePacket,
  type EnginePacket,
  encodeFrame,
  isBinaryData,
  toUint8Array,
} from "../../protocol/engine/index.js";
import { describeCause, handshakeRefusal } from "./failure-details.js";
import {
  describeRefusal,
  type RefusalDetails,
  type Transport,
  type TransportCloseDetails,
  TransportError,
  type TransportEvents,
} from "./transport.js";
import type {
  WebSocketClientOptionsLike,
  WebSocketCloseEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
  WebSocketMessageEventLike,
} from "./websocket-like.js";

/** Settings of a {@link WebSocketTransport}. */
export interface WebSocketSettings {
  url: string;
  /** The URL without its query (`ws://host/socket.io/`), for error messages. */
  endpoint: string;
  WebSocket: WebSocketConstructorLike;
  protocols: string | string[] | undefined;
  /**
   * The constructor's third argument (headers, TLS, agent, permessage-deflate), for Node
   * implementations; undefined passes none (browsers take no options).
   */
  options: WebSocketClientOptionsLike | undefined;
}

type WebSocketState = "idle" | "opening" | "open" | "closed";

/**
 * The WebSocket transport. `send` hands packets to the WebSocket at once: it is always writable
 * when open. Exported by the client as `WebSocket` and `NodeWebSocket` too, socket.io-client's
 * names, for `transports: [Fetch, WebSocket]`.
 */
export class WebSocketTransport implements Transport {
  /** "websocket" (on the prototype too: `transports` lists may name the transport by its class). */
  get name(): "websocket" {
    return "websocket";
  }
  #state: WebSocketState = "idle";
  #socket: WebSocketLike | null = null;
  readonly #settings: WebSocketSettings;
  readonly #events: TransportEvents;

  constructor(settings: WebSocketSettings, events: TransportEvents) {
    this.#settings = settings;
    this.#events = events;
  }

  get writable(): boolean {
    return this.#state === "open";
  }

  open(): void {
    if (this.#state !== "idle") return;
    this.#state = "opening";
    const { url, WebSocket, protocols, options } = this.#settings;
    let socket: WebSocketLike;
    try {
      socket =
        options === undefined
          ? protocols === undefined
            ? new WebSocket(url)
            : new WebSocket(url, protocols)
          : new WebSocket(url, protocols, options);
    } catch (error) {
      // Invalid URL or subprotocols: reported like any failure, after the caller has returned.
      queueMicrotask(() => this.#fail("websocket error", error));
      return;
    }
    socket.binaryType = "arraybuffer";
    socket.onopen = this.#onOpen;
    socket.onmessage = this.#onMessage;
    socket.onerror = this.#onError;
    socket.onclose = this.#onClose;
    this.#socket = socket;
  }

  send(packets: readonly EnginePacket[]): void {
    for (let i = 0; i < packets.length; i++) {
      if (!this.sendPacket(packets[i])) return;
    }
  }

  /** Writes one packet; false when the transport failed doing so. */
  sendPacket(packet: EnginePacket): boolean {
    if (this.#state !== "open") return false;
    try {
      this.#socket!.send(encodeFrame(packet.type, packet.data, true));
      return true;
    } catch (error) {
      this.#fail("websocket error", error);
      return false;
    }
  }

  pause(onPaused: () => void): void {
    onPaused();
  }

  resume(): void {}

  close(): void {
    this.#release();
  }

  discard(): void {
    this.#release();
  }

  readonly #onOpen = (): void => {
    if (this.#state !== "opening") return;
    this.#state = "open";
    this.#events.open();
  };

  readonly #onMessage = (event: WebSocketMessageEventLike): void => {
    if (this.#state !== "open") return;
    const data = event.data;
    // A Blob (an implementation ignoring binaryType) cannot be read synchronously, so the order of
    // messages could not be kept: refused.
    const decoded =
      typeof data === "string" || isBinaryData(data)
        ? decodePacket(typeof data === "string" ? data : toUint8Array(data))
        : { ok: false as const, reason: "binary message is not an ArrayBuffer or a view" };
    if (!decoded.ok) {
      this.#release();
      this.#events.decodeError(decoded.reason);
      return;
    }
    this.#events.packet(decoded.packet);
  };

  readonly #onError = (event: unknown): void => {
    this.#fail("websocket error", event);
  };

  readonly #onClose = (event: WebSocketCloseEventLike): void => {
    if (this.#state === "closed") return;
    this.#release();
    const details: TransportCloseDetails = {
      description: "websocket connection closed",
      context: event,
    };
    this.#events.close(details);
  };

  /**
   * Fails with what the implementation told: browsers say nothing ("websocket error"); Node
   * implementations give the error (`event.error`), which for a refused handshake may carry the
   * HTTP status and the server's reason (duplexio's Node entry point reads them).
   */
  #fail(base: string, description: unknown): void {
    if (this.#state === "closed") return;
    this.#release();
    const { endpoint } = this.#settings;
    const cause = (description as { error?: unknown } | null)?.error ?? description;
    const refused = handshakeRefusal(cause);
    let message = base;
    let refusal: RefusalDetails | undefined;
    if (refused !== undefined) {
      refusal = { status: refused.status, url: endpoint, reason: refused.reason };
      message = `${base}: ${describeRefusal(refusal, refused.statusText)}`;
    } else {
      const detail = describeCause(cause);
      if (detail !== undefined) message = `${base}: ${detail} (${endpoint})`;
    }
    this.#events.error(new TransportError(message, description, undefined, refusal));
  }

  /** Marks the transport closed and closes the socket, ignoring anything it reports afterwards. */
  #release(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Some implementations report an error when closed while connecting: keep a no-op listener
    // so that it is not unhandled.
    socket.onerror = ignore;
    try {
      socket.close();
    } catch {
      // Closing an already failed socket may throw in some implementations; it is gone anyway.
    }
  }
}

function ignore(): void {}
