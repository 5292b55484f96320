/**
 * `EngineSocket`: one Engine.IO session. It owns the session's state, its write buffer (bounded
 * by `maxWriteBufferSize`), the heartbeat (revision 4: the server pings; revision 3: the client
 * does) and the upgrade from polling to WebSocket, and survives the change of transport.
 * @module
 */

import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import { debugPreview } from "../protocol/debug.js";
import { type BinaryData, isBinaryData, toUint8Array } from "../protocol/engine/binary-data.js";
import { encodeOpenPacket } from "../protocol/engine/handshake.js";
import { MESSAGE_PREFIX_LENGTH } from "../protocol/engine/packet.js";
import { type EnginePacket, EnginePacketType } from "../protocol/engine/packet-types.js";
import { debugLogger } from "../websocket/debug.js";
import { listenerTable, useListenerTable } from "../websocket/listener-table.js";
import { type TimerWheel, WheelTimer } from "../websocket/timer-wheel.js";
import type { ResolvedEngineOptions, TransportName } from "./options.js";
import type { PreparedEngineMessage } from "./prepared-message.js";
import {
  controlPacket,
  type OutgoingPacket,
  outgoingPacket,
  type SendCallback,
  type Transport,
  type TransportOwner,
} from "./transports/transport.js";

/** Milliseconds between the no-op answers that hurry the client's pending poll during an upgrade. */
const UPGRADE_CHECK_INTERVAL = 100;

const PACKET_NAMES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"] as const;

const debug = debugLogger("duplexio:engine");

/** Session states, as engine.io names them. */
export type EngineReadyState = "opening" | "open" | "closing" | "closed";

/** A packet as `packet`, `packetCreate` and `flush` listeners see it (engine.io's shape). */
export interface EnginePacketEvent {
  type: (typeof PACKET_NAMES)[number];
  data?: string | Buffer;
  options?: { compress: boolean };
}

/** Options of `send`. */
export interface EngineSendOptions {
  /** Allow permessage-deflate / HTTP compression for this message (default true). */
  compress?: boolean;
}

/**
 * What a session tells the layer above it (the Socket.IO client) by direct calls, before the
 * listeners hear of it: no listener closures per connection.
 */
export interface EngineSocketOwner {
  _onEngineMessage(data: string | Buffer): void;
  /** A text message as its UTF-8 bytes `bytes[start..]` (valid UTF-8, not to be kept). */
  _onEngineText(bytes: Buffer, start: number): void;
  _onEngineError(error: Error): void;
  _onEngineClose(reason: string, description?: unknown): void;
}

/** The server's options a session runs by. */
export type EngineSessionOptions = Pick<
  ResolvedEngineOptions,
  | "pingInterval"
  | "pingTimeout"
  | "upgradeTimeout"
  | "maxHttpBufferSize"
  | "maxWriteBufferSize"
  | "initialPacket"
>;

/**
 * What a session needs of its server, given to it at creation. The server makes one for all its
 * sessions: a session holds no closure of the server's, which every idle connection would pay for.
 */
export interface EngineSessionHost {
  /** The server's options (the server's own object: a change to it applies to every session). */
  readonly options: EngineSessionOptions;
  /** The wheel the session's deadlines run on (heartbeat, upgrade). */
  readonly timers: TimerWheel;
  /** Transports a session on `transport` may upgrade to (the handshake's `upgrades`). */
  upgrades(transport: TransportName): string[];
  /** Whether the server has `flush` listeners, for which a session describes its packets. */
  wantsFlushEvents(): boolean;
  /** `session` hands `packets` to its transport (the server's `flush` event). */
  sessionFlushing(session: EngineSocket, packets: EnginePacketEvent[]): void;
  /** `session` handed its write buffer to its transport (the server's `drain` event). */
  sessionDrained(session: EngineSocket): void;
  /** `session` closed, before its `close` listeners hear of it: the server forgets it. */
  sessionClosed(session: EngineSocket): void;
}

/** Events of {@link EngineSocket}. */
export interface EngineSocketEventMap {
  /** The handshake was sent. */
  open: [];
  /** A message: a string for text, a Buffer for binary. */
  message: [data: string | Buffer];
  /** Same as `message` (engine.io's older name, used by Socket.IO). */
  data: [data: string | Buffer];
  /** The session ended (`reason`: "transport close", "ping timeout", "write buffer full", ...). */
  close: [reason: string, description?: unknown];
  /** A transport failure, just before `close` with "transport error" (only when listened to). */
  error: [error: Error];
  /** A packet from the client. */
  packet: [packet: EnginePacketEvent];
  /** A packet queued for the client. */
  packetCreate: [packet: EnginePacketEvent];
  /** Queued packets are being handed to the transport. */
  flush: [packets: EnginePacketEvent[]];
  /** The write buffer was handed to the transport. */
  drain: [];
  /** The client proved alive (pong, or ping in revision 3). */
  heartbeat: [];
  /** The client probed a better transport. */
  upgrading: [transport: Transport];
  /** The session moved to `transport`. */
  upgrade: [transport: Transport];
}

/** A session's listener table: one per connection, without listeners under Socket.IO (see `owner`). */
const EngineSocketListeners = listenerTable();

/**
 * One client session. Created by `EngineServer`; get it from the server's `connection`
 * event.
 *
 * ```ts
 * server.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 *   socket.on("close", (reason) => console.log(socket.id, "closed:", reason));
 * });
 * ```
 */
export class EngineSocket extends EventEmitter<EngineSocketEventMap> implements TransportOwner {
  /** The session id. */
  readonly id: string;
  /** The handshake request. */
  readonly request: IncomingMessage;
  /** Engine.IO protocol revision spoken by the client. */
  readonly protocol: 3 | 4;
  /** The client's address, as seen at the handshake. */
  readonly remoteAddress: string;
  /** Session state. */
  readyState: EngineReadyState = "opening";
  /** The current transport (`transport.name`: "polling" or "websocket"). */
  transport: Transport;
  /** The session moved from polling to WebSocket. */
  upgraded = false;
  /** A WebSocket is probing to take over the session. */
  upgrading = false;
  /** @internal The layer above (the Socket.IO client), told of messages, errors and the close. */
  owner: EngineSocketOwner | null = null;

  readonly #host: EngineSessionHost;
  #writeBuffer: OutgoingPacket[] = [];
  #writeBufferSize = 0;
  #flushScheduled = false;
  /** The one heartbeat deadline: the next ping, or the client's answer (see HeartbeatTimer). */
  readonly #heartbeat: HeartbeatTimer;
  #abortUpgrade: (() => void) | null = null;

  /** @internal Sessions are created by the server, which gives each the same `host`. */
  constructor(
    id: string,
    host: EngineSessionHost,
    transport: Transport,
    request: IncomingMessage,
    protocol: 3 | 4,
  ) {
    super();
    useListenerTable(this, EngineSocketListeners);
    this.id = id;
    this.#host = host;
    this.request = request;
    this.protocol = protocol;
    this.remoteAddress = request.socket?.remoteAddress ?? "";
    this.transport = transport;
    this.#heartbeat = new HeartbeatTimer(this, host.timers);
    transport.sid = id;
    this.#attachTransport(transport);
    this.#onOpen();
  }

  /**
   * @internal The wheel the session's deadlines run on, for those of the layers above (the
   * Socket.IO connect timeout).
   */
  get _timers(): TimerWheel {
    return this.#host.timers;
  }

  /**
   * Sends a message (text, or bytes: any ArrayBuffer or view). Messages sent in one event-loop
   * turn leave together. `callback` runs once the message is written, or with an error if the
   * session closes first.
   */
  send(
    data: string | BinaryData,
    options?: EngineSendOptions | SendCallback,
    callback?: SendCallback,
  ): this {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    let payload: string | Uint8Array;
    if (typeof data === "string") payload = data;
    else if (isBinaryData(data)) payload = toUint8Array(data);
    else payload = String(data);
    this.#sendPacket(
      EnginePacketType.Message,
      payload,
      null,
      options?.compress !== false,
      callback,
    );
    return this;
  }

  /** Same as {@link send}. */
  write(
    data: string | BinaryData,
    options?: EngineSendOptions | SendCallback,
    callback?: SendCallback,
  ): this {
    return this.send(data, options, callback);
  }

  /**
   * @internal Sends a text message given as its UTF-8 bytes, `bytes[1..]` (valid UTF-8, not
   * modified afterwards); `bytes[0]` is free, for the transport to write the packet type into,
   * so that a WebSocket frame's payload is `bytes` as it is. Where the message cannot go straight
   * to the WebSocket (another transport, packets waiting, `packetCreate` listeners), it is decoded
   * and sent as {@link send} would.
   */
  _sendUtf8(bytes: Buffer, compress: boolean): void {
    const transport = this.transport;
    if (
      this.readyState === "open" &&
      this.#writeBuffer.length === 0 &&
      transport.name === "websocket" &&
      transport.writable &&
      (this.#unheard() || this.listenerCount("packetCreate") === 0)
    ) {
      const buffered = transport.writeUtf8(bytes, compress);
      if (buffered > this.#host.options.maxWriteBufferSize) {
        this.#onClose("write buffer full", undefined, true);
      }
      return;
    }
    this.#sendPacket(
      EnginePacketType.Message,
      bytes.toString("utf8", MESSAGE_PREFIX_LENGTH),
      null,
      compress,
      undefined,
    );
  }

  /** Sends a message encoded once for many sessions (broadcasts); see {@link PreparedEngineMessage}. */
  sendPrepared(
    message: PreparedEngineMessage,
    options?: EngineSendOptions | SendCallback,
    callback?: SendCallback,
  ): this {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    this.#sendPacket(
      EnginePacketType.Message,
      message.data,
      message,
      options?.compress !== false,
      callback,
    );
    return this;
  }

  /**
   * Closes the session once the write buffer is flushed ("forced close"). With `discard`, what is
   * still buffered is dropped and the transport closed at once.
   */
  close(discard?: boolean): void {
    if (discard && (this.readyState === "open" || this.readyState === "closing")) {
      this.readyState = "closing";
      this.#closeTransport(true);
      return;
    }
    if (this.readyState !== "open") return;
    this.readyState = "closing";
    if (this.#writeBuffer.length > 0) {
      // The close packet travels after the buffered packets, never in the same polling answer:
      // socket.io-client handles a payload's messages a tick later but its close at once, so
      // sharing an answer would end the session before those messages (a DISCONNECT among them).
      this.once("drain", () => this.#closeTransport(false));
      return;
    }
    this.#closeTransport(false);
  }

  /**
   * @internal Ends the session at once, whatever it is waiting for (a close in progress
   * included), dropping what is unsent: the server's `close()` does this to the sessions still
   * open at its deadline.
   */
  _terminate(): void {
    this.#onClose("forced close", undefined, true);
  }

  /** @internal Lets a new transport (a WebSocket) probe and take over the session. */
  maybeUpgrade(next: Transport): void {
    this.upgrading = true;
    let checkTimer: NodeJS.Timeout | null = null;
    const upgradeTimer = new UpgradeTimer(this, this.#host.timers);
    upgradeTimer.schedule(this.#host.options.upgradeTimeout);

    // The client switches only after its pending poll returned: answer it right away.
    const hurryPoll = (): void => {
      const current = this.transport;
      if (current.name !== "polling" || !current.writable) return;
      if (this.#writeBuffer.length > 0) this.#flush();
      else current.send([controlPacket(EnginePacketType.Noop)]);
    };
    const onPacket = (packet: EnginePacket): void => {
      if (packet.type === EnginePacketType.Ping && packet.data === "probe") {
        next.send([controlPacket(EnginePacketType.Pong, "probe")]);
        this.emit("upgrading", next);
        if (checkTimer !== null) clearInterval(checkTimer);
        hurryPoll();
        checkTimer = setInterval(hurryPoll, UPGRADE_CHECK_INTERVAL);
      } else if (packet.type === EnginePacketType.Upgrade && this.readyState !== "closed") {
        cleanup();
        this.#switchTransport(next);
      } else {
        cleanup();
        next.close();
      }
    };
    const onFailure = (): void => {
      cleanup();
      next.close();
    };
    const cleanup = (): void => {
      this.upgrading = false;
      upgradeTimer.cancel();
      if (checkTimer !== null) clearInterval(checkTimer);
      checkTimer = null;
      next.off("packet", onPacket);
      next.off("close", onFailure);
      next.off("error", onFailure);
      next.off("malformed", onFailure);
      this.#abortUpgrade = null;
    };
    next.on("packet", onPacket);
    next.once("close", onFailure);
    next.once("error", onFailure);
    next.once("malformed", onFailure);
    this.#abortUpgrade = onFailure;
  }

  /** @internal The upgrade timer's deadline passed: the probing transport goes. */
  _upgradeTimedOut(): void {
    this.#abortUpgrade?.();
  }

  /** @internal The heartbeat deadline passed: send the next ping, or give up on the client. */
  _heartbeatDue(awaitingAnswer: boolean): void {
    if (this.readyState === "closed") return;
    if (awaitingAnswer) {
      debug?.(
        `session ${this.id}: heartbeat missed (no pong within ${this.#host.options.pingTimeout} ms)`,
      );
      this.#onClose("ping timeout");
      return;
    }
    this.#sendPacket(EnginePacketType.Ping, undefined, null, false, undefined);
    this.#heartbeat.awaitAnswer(this.#host.options.pingTimeout);
  }

  /** The upgrade packet arrived: everything from now on goes over `next`, in order. */
  #switchTransport(next: Transport): void {
    const previous = this.transport;
    // A poll still pending gets an empty answer: the client no longer reads it.
    if (previous.writable) previous.send([controlPacket(EnginePacketType.Noop)]);
    this.#detachTransport(previous);
    previous.discard();
    previous.close();
    this.upgraded = true;
    this.transport = next;
    this.#attachTransport(next);
    debug?.(`session ${this.id}: upgraded from ${previous.name} to ${next.name}`);
    this.emit("upgrade", next);
    this.#flush();
    if (this.readyState === "closing") next.close(() => this.#onClose("forced close"));
  }

  #onOpen(): void {
    this.readyState = "open";
    const options = this.#host.options;
    const open = encodeOpenPacket({
      sid: this.id,
      upgrades: this.#host.upgrades(this.transport.name),
      pingInterval: options.pingInterval,
      pingTimeout: options.pingTimeout,
      maxPayload: options.maxHttpBufferSize,
    });
    this.#sendPacket(EnginePacketType.Open, open.slice(1), null, false, undefined);
    if (options.initialPacket !== undefined) this.send(options.initialPacket);
    this.emit("open");
    // Revision 3: the client pings, and must within this time; revision 4: the server does.
    if (this.protocol === 3)
      this.#heartbeat.awaitAnswer(options.pingInterval + options.pingTimeout);
    else this.#heartbeat.pingIn(options.pingInterval);
  }

  #attachTransport(transport: Transport): void {
    transport.owner = this;
  }

  #detachTransport(transport: Transport): void {
    if (transport.owner === this) transport.owner = null;
  }

  /** @internal A packet from the current transport. */
  _onTransportPacket(packet: EnginePacket): void {
    this.#onPacket(packet);
  }

  /** @internal A text message packet from the current transport, as UTF-8 bytes. */
  _onTransportText(bytes: Buffer): void {
    const owner = this.owner;
    if (
      owner !== null &&
      this.readyState === "open" &&
      (this.#unheard() ||
        (this.listenerCount("packet") === 0 &&
          this.listenerCount("data") === 0 &&
          this.listenerCount("message") === 0))
    ) {
      debug?.(
        `session ${this.id}: packet in message ${debugPreview(bytes.toString("utf8", MESSAGE_PREFIX_LENGTH))}`,
      );
      owner._onEngineText(bytes, MESSAGE_PREFIX_LENGTH);
      return;
    }
    const text = bytes.toString("utf8", MESSAGE_PREFIX_LENGTH);
    this.#onPacket({ type: EnginePacketType.Message, data: text });
  }

  /** @internal The current transport received input that is not Engine.IO. */
  _onTransportMalformed(reason: string): void {
    this.#onClose("parse error", reason);
  }

  /** @internal The current transport failed. */
  _onTransportError(error: Error): void {
    this.#onError(error);
  }

  /** @internal The current transport can take packets again. */
  _onTransportDrain(transport: Transport): void {
    if (transport.name === "websocket") this.#flush();
    else this.#scheduleFlush();
  }

  /** @internal The current transport closed. */
  _onTransportClose(): void {
    this.#onClose("transport close");
  }

  #onPacket(packet: EnginePacket): void {
    if (this.readyState !== "open") return;
    debug?.(
      `session ${this.id}: packet in ${PACKET_NAMES[packet.type]} ${debugPreview(packet.data)}`,
    );
    if (this.listenerCount("packet") > 0) this.emit("packet", toPacketEvent(packet));
    switch (packet.type) {
      case EnginePacketType.Ping: {
        if (this.protocol !== 3) {
          this.#onError(new Error("invalid heartbeat direction"));
          return;
        }
        const options = this.#host.options;
        this.#heartbeat.awaitAnswer(options.pingInterval + options.pingTimeout);
        this.#sendPacket(EnginePacketType.Pong, packet.data, null, false, undefined);
        this.emit("heartbeat");
        return;
      }
      case EnginePacketType.Pong:
        if (this.protocol === 3) {
          this.#onError(new Error("invalid heartbeat direction"));
          return;
        }
        // The next ping comes one interval after this answer.
        this.#heartbeat.pingIn(this.#host.options.pingInterval);
        this.emit("heartbeat");
        return;
      case EnginePacketType.Message: {
        const data = toMessageData(packet.data);
        this.emit("data", data);
        this.owner?._onEngineMessage(data);
        this.emit("message", data);
        return;
      }
      default:
      // open, upgrade and noop carry nothing for the session.
    }
  }

  #sendPacket(
    type: EnginePacketType,
    data: string | Uint8Array | undefined,
    prepared: PreparedEngineMessage | null,
    compress: boolean,
    callback: SendCallback | undefined,
  ): void {
    if (this.readyState === "closing" || this.readyState === "closed") {
      if (callback) process.nextTick(callback, new Error("The session is closed"));
      return;
    }
    if (!this.#unheard() && this.listenerCount("packetCreate") > 0) {
      this.emit("packetCreate", toPacketEvent({ type, data }, compress));
    }
    debug?.(
      `session ${this.id}: packet out ${PACKET_NAMES[type]} ${debugPreview(data ?? prepared?.data)}`,
    );
    const transport = this.transport;
    const limit = this.#host.options.maxWriteBufferSize;
    if (this.#writeBuffer.length === 0 && transport.name === "websocket" && transport.writable) {
      // The hot path: straight to the WebSocket, which coalesces this turn's writes itself.
      const buffered = transport.write(type, data, prepared, compress, callback);
      if (buffered > limit) this.#onClose("write buffer full", undefined, true);
      return;
    }
    const packet = outgoingPacket(type, data, prepared, compress, callback);
    this.#writeBuffer.push(packet);
    this.#writeBufferSize += packet.size;
    if (this.#writeBufferSize + transport.bufferedAmount > limit) {
      this.#onClose("write buffer full", undefined, true);
      return;
    }
    if (!transport.writable) return;
    if (transport.name === "websocket") this.#flush();
    else this.#scheduleFlush();
  }

  /**
   * Whether the session has no listener at all (EventEmitter's count of events listened to), as
   * under Socket.IO: the message path then asks no `listenerCount`, whose lookup by event name is
   * shared by every emitter and event of the process and so goes through V8's slowest path.
   */
  #unheard(): boolean {
    return (this as unknown as NodeEmitterInternals)._eventsCount === 0;
  }

  /** Polling answers carry every packet of this turn: flush once the turn's sends are done. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(runScheduledFlush, this);
  }

  /** @internal The flush scheduled by a send of this turn (polling). */
  _runScheduledFlush(): void {
    this.#flushScheduled = false;
    this.#flush();
  }

  #flush(): void {
    const transport = this.transport;
    if (this.readyState === "closed" || !transport.writable || this.#writeBuffer.length === 0) {
      return;
    }
    const packets = this.#writeBuffer;
    this.#writeBuffer = [];
    this.#writeBufferSize = 0;
    const host = this.#host;
    if (this.listenerCount("flush") > 0 || host.wantsFlushEvents()) {
      const events = packets.map((p) => toPacketEvent(p, p.compress));
      this.emit("flush", events);
      host.sessionFlushing(this, events);
    }
    transport.send(packets);
    this.emit("drain");
    host.sessionDrained(this);
  }

  #closeTransport(discard: boolean): void {
    if (discard) this.transport.discard();
    this.transport.close(() => this.#onClose("forced close"));
  }

  #onError(error: Error): void {
    if (this.readyState === "closed") return;
    this.owner?._onEngineError(error);
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.#onClose("transport error", error);
  }

  /** Ends the session; `force` drops the transport at once instead of closing it politely. */
  #onClose(reason: string, description?: unknown, force = false): void {
    if (this.readyState === "closed") return;
    debug?.(`session ${this.id}: closed (${reason})`);
    this.readyState = "closed";
    this.#heartbeat.cancel();
    this.#abortUpgrade?.();
    const unsent = this.#writeBuffer;
    this.#writeBuffer = [];
    this.#writeBufferSize = 0;
    if (unsent.length > 0) {
      const error = new Error(`The session closed: ${reason}`);
      for (const p of unsent) if (p.callback) process.nextTick(p.callback, error);
    }
    this.#detachTransport(this.transport);
    if (force) this.transport.destroy();
    else this.transport.close();
    this.owner?._onEngineClose(reason, description);
    this.#host.sessionClosed(this);
    this.emit("close", reason, description);
  }
}

/** @internal EventEmitter's count of the events that have listeners (Node's, stable since v4). */
export interface NodeEmitterInternals {
  _eventsCount: number;
}

function runScheduledFlush(session: EngineSocket): void {
  session._runScheduledFlush();
}

/**
 * A session's heartbeat on the server's timer wheel: either the next ping is due (revision 4),
 * or an answer from the client is (the pong to our ping; in revision 3, the client's next ping).
 */
class HeartbeatTimer extends WheelTimer {
  readonly #session: EngineSocket;
  awaitingAnswer = false;

  constructor(session: EngineSocket, timers: TimerWheel) {
    super(timers);
    this.#session = session;
  }

  pingIn(delay: number): void {
    this.awaitingAnswer = false;
    this.schedule(delay);
  }

  awaitAnswer(delay: number): void {
    this.awaitingAnswer = true;
    this.schedule(delay);
  }

  onTimeout(): void {
    this.#session._heartbeatDue(this.awaitingAnswer);
  }
}

/** How long a probing WebSocket has to complete its upgrade. */
class UpgradeTimer extends WheelTimer {
  readonly #session: EngineSocket;

  constructor(session: EngineSocket, timers: TimerWheel) {
    super(timers);
    this.#session = session;
  }

  onTimeout(): void {
    this.#session._upgradeTimedOut();
  }
}

/** Binary messages reach listeners as Buffers (a view, not a copy). */
function toMessageData(data: string | Uint8Array | undefined): string | Buffer {
  if (data === undefined) return "";
  if (typeof data === "string" || Buffer.isBuffer(data)) return data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function toPacketEvent(
  packet: { type: EnginePacketType; data?: string | Uint8Array | undefined },
  compress?: boolean,
): EnginePacketEvent {
  const event: EnginePacketEvent = { type: PACKET_NAMES[packet.type] };
  if (packet.data !== undefined) event.data = toMessageData(packet.data);
  if (compress !== undefined) event.options = { compress };
  return event;
}
