/**
 * What a session needs from a transport (HTTP long-polling or WebSocket): decoded packets in,
 * batches of packets out, whether it can take a batch now, and its life cycle.
 * @module
 */

import { EventEmitter } from "node:events";
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { EnginePacket, EnginePacketType } from "../../protocol/engine/packet-types.js";
import { listenerTable, useListenerTable } from "../../websocket/listener-table.js";
import type { TransportName } from "../options.js";
import type { PreparedEngineMessage } from "../prepared-message.js";

/** Called once a sent packet was written out, or with the reason it never will be. */
export type SendCallback = (error?: Error) => void;

/**
 * A packet in a session's write buffer. `prepared` is set for broadcast messages, whose wire
 * forms are shared between sessions; `size` is what it counts against the write-buffer limit.
 */
export interface OutgoingPacket {
  type: EnginePacketType;
  data: string | Uint8Array | undefined;
  prepared: PreparedEngineMessage | null;
  compress: boolean;
  callback: SendCallback | undefined;
  size: number;
}

/**
 * A packet for a session's write buffer or a transport's `send`. Its size counts the type digit;
 * a prepared message counts as its data.
 */
export function outgoingPacket(
  type: EnginePacketType,
  data: string | Uint8Array | undefined,
  prepared: PreparedEngineMessage | null,
  compress: boolean,
  callback: SendCallback | undefined,
): OutgoingPacket {
  const size = prepared !== null ? prepared.size : data === undefined ? 1 : data.length + 1;
  return { type, data, prepared, compress, callback, size };
}

/** A packet the session or transport sends on its own (ping, noop, close, ...): never compressed. */
export function controlPacket(type: EnginePacketType, data?: string): OutgoingPacket {
  return outgoingPacket(type, data, null, false, undefined);
}

/** Events of a {@link Transport}. */
export interface TransportEventMap {
  /** A packet from the client (never `close`: the transport handles that itself). */
  packet: [packet: EnginePacket];
  /** Input that is not valid Engine.IO: the session ends with "parse error". */
  malformed: [reason: string];
  /** A transport failure: the session ends with "transport error". */
  error: [error: Error];
  /** The transport is closed. */
  close: [];
  /** The transport can take packets again. */
  drain: [];
  /** Response headers about to be written (the server adds cookies, user listeners others). */
  headers: [headers: OutgoingHttpHeaders, request: IncomingMessage];
}

/**
 * The session a transport serves, told of the transport's events by direct calls: a listener
 * closure per event and session would cost every idle connection memory.
 */
export interface TransportOwner {
  _onTransportPacket(packet: EnginePacket): void;
  /**
   * A text `message` packet as it arrived, in valid UTF-8 bytes (`"4"` first), given only when
   * nobody listens to the transport's `packet` event: the session may hand the bytes on without
   * decoding them to a string.
   */
  _onTransportText(bytes: Buffer): void;
  _onTransportMalformed(reason: string): void;
  _onTransportError(error: Error): void;
  _onTransportDrain(transport: Transport): void;
  _onTransportClose(): void;
}

/** A transport's listener table: one per connection, usually without listeners (see `owner`). */
const TransportListeners = listenerTable();

/** Base class of the transports. */
export abstract class Transport extends EventEmitter<TransportEventMap> {
  /** "polling" or "websocket". */
  abstract readonly name: TransportName;
  /** The request that created the transport. */
  readonly request: IncomingMessage;
  /** Engine.IO protocol revision spoken by the client. */
  readonly protocol: 3 | 4;
  /** False when the client asked for base64 instead of binary (`b64` query parameter). */
  readonly supportsBinary: boolean;
  /** The session id, once the transport belongs to a session. */
  sid = "";
  /** "open" until `close()`, "closed" once the transport is done. */
  readyState: "open" | "closing" | "closed" = "open";
  /** Set when the session moved to another transport: closing then sends nothing. */
  discarded = false;
  /**
   * @internal The session using this transport, told of every event before the listeners (a
   * WebSocket still probing an upgrade has none: the session listens to it instead).
   */
  owner: TransportOwner | null = null;
  /** Callbacks of `close()` calls waiting for the close to be under way (made when needed). */
  #closeCallbacks: (() => void)[] | null = null;
  /** doClose reported the close under way: later callers need not wait. */
  #closeUnderWay = false;

  constructor(request: IncomingMessage, protocol: 3 | 4, supportsBinary: boolean) {
    super();
    useListenerTable(this, TransportListeners);
    this.request = request;
    this.protocol = protocol;
    this.supportsBinary = supportsBinary;
  }

  /** Whether `send` may be called now. */
  abstract get writable(): boolean;

  /** Bytes handed to the transport but not yet to the operating system. */
  abstract get bufferedAmount(): number;

  /** Writes packets; only while `writable`. */
  abstract send(packets: OutgoingPacket[]): void;

  /**
   * Writes one packet, given as its fields (the session's hot path: no packet object), as the
   * transport's own unit of writing, and returns {@link bufferedAmount} after it (the session
   * checks its limit). Only while `writable`. `prepared` is set for a broadcast message (whose
   * data it holds); its shared wire forms are used where the transport can.
   */
  abstract write(
    type: EnginePacketType,
    data: string | Uint8Array | undefined,
    prepared: PreparedEngineMessage | null,
    compress: boolean,
    callback: SendCallback | undefined,
  ): number;

  /**
   * Writes a text `message` packet whose data is `bytes` in valid UTF-8 after the first
   * `MESSAGE_PREFIX_LENGTH` bytes (protocol/engine/packet.ts), which are left free for the packet
   * type: the transport may write the type there and send `bytes` as they are. Returns as
   * {@link write}.
   */
  abstract writeUtf8(bytes: Buffer, compress: boolean): number;

  /** Ends at once, dropping whatever is unsent. */
  abstract destroy(): void;

  /** The transport's own way of closing; calls `done` once the close is under way. */
  protected abstract doClose(done: () => void): void;

  /** Closes the transport; `callback` runs once the close is under way (or it is closed). */
  close(callback?: () => void): void {
    if (this.readyState === "closed" || this.#closeUnderWay) {
      if (callback) process.nextTick(callback);
      return;
    }
    if (callback) {
      this.#closeCallbacks ??= [];
      this.#closeCallbacks.push(callback);
    }
    if (this.readyState === "closing") return;
    this.readyState = "closing";
    this.doClose(() => {
      this.#closeUnderWay = true;
      const callbacks = this.#closeCallbacks;
      this.#closeCallbacks = null;
      if (callbacks !== null) for (const fn of callbacks) fn();
    });
  }

  /** Marks the transport as replaced by another one. */
  discard(): void {
    this.discarded = true;
  }

  /** A packet from the client. */
  protected onPacket(packet: EnginePacket): void {
    this.owner?._onTransportPacket(packet);
    this.emit("packet", packet);
  }

  /** Input that is not valid Engine.IO. */
  protected onMalformed(reason: string): void {
    this.owner?._onTransportMalformed(reason);
    this.emit("malformed", reason);
  }

  /** The transport can take packets again. */
  protected onDrain(): void {
    this.owner?._onTransportDrain(this);
    this.emit("drain");
  }

  /** Final state; `close` is emitted once. */
  protected onClose(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.owner?._onTransportClose();
    this.emit("close");
  }

  /** Reports a failure to the session, if one still listens (a discarded transport has none). */
  protected onError(message: string, cause?: unknown): void {
    const owner = this.owner;
    if (owner === null && this.listenerCount("error") === 0) return;
    const error = new Error(message, cause === undefined ? undefined : { cause });
    owner?._onTransportError(error);
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}
