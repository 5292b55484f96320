/**
 * `Client`: one Engine.IO connection seen by Socket.IO. It decodes the incoming packets, connects
 * the client to namespaces (closing it when it joins none within `connectTimeout`), routes packets
 * to its sockets, and writes theirs.
 */
import type { IncomingMessage } from "node:http";
import type { EngineSocket, PreparedEngineMessage } from "../engine/index.js";
import {
  Decoder,
  type OutgoingSocketPacket,
  type SocketPacket,
  SocketPacketType,
} from "../protocol/socketio/index.js";
import { parsePacketBytes } from "../protocol/socketio/packet-bytes-parser.js";
import { WheelTimer } from "../websocket/timer-wheel.js";
import type { WriteOptions } from "./adapter.js";
import { debug, describeSocketPacket } from "./debug.js";
import { encodeOrThrow, encodeUtf8 } from "./packet-encoding.js";
import type { Server } from "./server.js";
import type { Socket } from "./socket.js";
import type { DisconnectReason } from "./socket-types.js";
import type { DefaultEventsMap, DefaultSocketData, EventsMap } from "./typed-events.js";

/** Namespace connections one client may have under way at once (middlewares still running). */
const MAX_PENDING_CONNECTS = 64;

const NO_COMPRESS = Object.freeze({ compress: false });

/** The answer to a CONNECT whose namespace name is over `maxNamespaceLength`. */
const INVALID_LONG_NAMESPACE: OutgoingSocketPacket = Object.freeze({
  type: SocketPacketType.ConnectError,
  nsp: "/",
  data: Object.freeze({ message: "Invalid namespace" }),
});

/**
 * One Engine.IO connection, shared by the client's sockets of every namespace
 * (`socket.client`). Its `conn` is the Engine.IO socket.
 */
export class Client<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> {
  /** The Engine.IO connection. */
  readonly conn: EngineSocket;
  /** The Engine.IO session id (a credential of the polling transport: keep it private). */
  readonly id: string;
  /** The server. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;

  /**
   * Incoming data may nest half as deep as the encoder allows, which leaves a handler room to wrap
   * what it received (`emit("msg", { from, data })`) and still send it.
   */
  readonly #decoder = new Decoder({ maxDepth: 500 });
  /** The client's socket in each namespace it joined (its only record of its sockets). */
  readonly #nsps = new NamespaceSockets<
    Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  /**
   * Namespaces whose connection is under way (middlewares or dynamic checks running); made for
   * the first one, as most connections join one namespace and never need it again.
   */
  #connecting: Set<string> | undefined;
  /** Closes the connection unless it joins a namespace in time; dropped once it has. */
  #connectTimer: ConnectTimer | undefined;
  #closed = false;

  /** @internal A message of the Engine.IO connection: Socket.IO packets (or their parts). */
  _onEngineMessage(data: string | Buffer): void {
    const result = this.#decoder.add(data);
    if (!result.ok) {
      this.#close("parse error");
      return;
    }
    const packet = result.packet;
    if (packet === null) return;
    debug?.(`client ${this.conn.id}: packet in ${describeSocketPacket(packet)}`);
    this.#onPacket(packet);
  }

  /**
   * @internal A text message of the Engine.IO connection as UTF-8 bytes from `start`: the
   * common packets are parsed from the bytes, the rest from the decoded text.
   */
  _onEngineText(bytes: Buffer, start: number): void {
    if (this.#decoder.pendingAttachments === 0) {
      const packet = parsePacketBytes(bytes, start, decodeUtf8);
      if (packet !== null) {
        debug?.(`client ${this.conn.id}: packet in ${describeSocketPacket(packet)}`);
        this.#onPacket(packet);
        return;
      }
    }
    this._onEngineMessage(bytes.toString("utf8", start));
  }

  /** @internal The connection failed. */
  _onEngineError(err: Error): void {
    // The engine closes the session right after ("transport error"); sockets hear about it first.
    for (const socket of this.#nsps.list()) socket._onerror(err);
  }

  /** @internal The connection closed. */
  _onEngineClose(reason: string, description?: unknown): void {
    this.#onClose(reason as DisconnectReason, description);
  }

  /** @internal Created by the server for each Engine.IO connection. */
  constructor(
    server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    conn: EngineSocket,
  ) {
    this.server = server;
    this.conn = conn;
    this.id = conn.id;
    conn.owner = this;
    this.#connectTimer = new ConnectTimer(this);
    this.#connectTimer.schedule(server.connectTimeout());
    // Socket.IO protocol v4 (the one spoken over Engine.IO 3, socket.io v2 clients): the client is
    // in the main namespace from the start and never asks for it with a CONNECT.
    if (conn.protocol === 3) this.#connect("/", {});
  }

  /** The request that opened the connection. */
  get request(): IncomingMessage {
    return this.conn.request;
  }

  /**
   * @internal Encodes `packet` and writes it (nothing when the connection is no longer open).
   * @throws TypeError when the packet cannot be encoded.
   */
  _packet(packet: OutgoingSocketPacket, opts: WriteOptions): void {
    debug?.(`client ${this.conn.id}: packet out ${describeSocketPacket(packet)}`);
    const conn = this.conn;
    const bytes = encodeUtf8(packet, conn.transport.bufferedAmount);
    if (bytes === null) {
      this.writeToEngine(encodeOrThrow(packet), opts);
      return;
    }
    if (conn.readyState !== "open") return;
    if (opts.volatile && !conn.transport.writable) return;
    conn._sendUtf8(bytes, opts.compress !== false);
  }

  /**
   * Writes an encoded packet (its text part, then its attachments). Volatile packets are
   * dropped when the transport cannot take them right now.
   */
  writeToEngine(parts: readonly (string | Uint8Array)[], opts: WriteOptions): void {
    const conn = this.conn;
    if (conn.readyState !== "open") return;
    if (opts.volatile && !conn.transport.writable) return;
    const options = opts.compress === false ? NO_COMPRESS : undefined;
    for (const part of parts) conn.send(part, options);
  }

  /** Writes a packet encoded once for many clients (broadcasts): the same bytes for each. */
  writePrepared(parts: readonly PreparedEngineMessage[], opts: WriteOptions): void {
    const conn = this.conn;
    if (conn.readyState !== "open") return;
    if (opts.volatile && !conn.transport.writable) return;
    const options = opts.compress === false ? NO_COMPRESS : undefined;
    for (const part of parts) conn.sendPrepared(part, options);
  }

  /** @internal The connect timeout passed. */
  _connectTimedOut(): void {
    this.#connectTimer = undefined;
    if (this.#nsps.size === 0) this.#close("forced server close");
  }

  /** @internal Forgets a socket that left its namespace. */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (this.#nsps.get(socket.nsp.name) === socket) this.#nsps.delete(socket.nsp.name);
  }

  /** @internal Disconnects every socket (DISCONNECT packets), then closes the connection. */
  _disconnect(): void {
    for (const socket of this.#nsps.list()) socket.disconnect();
    this.#nsps.clear();
    this.#close("forced server close");
  }

  #onPacket(packet: SocketPacket): void {
    switch (packet.type) {
      case SocketPacketType.Connect: {
        if (this.conn.protocol === 3) {
          // Protocol v4 carries the auth in a query string after the namespace ("/admin?token=1").
          const { name, auth } = splitLegacyNamespace(packet.nsp);
          this.#onConnect(name, auth);
          return;
        }
        this.#onConnect(packet.nsp, packet.data ?? {});
        return;
      }
      case SocketPacketType.Event:
      case SocketPacketType.Ack:
        // A packet for a namespace the client is not (or no longer) in: the client may not have
        // seen our DISCONNECT yet; dropping it is harmless.
        this.#nsps.get(packet.nsp)?._onpacket(packet);
        return;
      case SocketPacketType.Disconnect:
        this.#nsps.get(packet.nsp)?._onclose("client namespace disconnect");
        return;
      default:
        // CONNECT_ERROR only travels from server to client.
        this.#close("parse error");
    }
  }

  #onConnect(name: string, auth: Record<string, unknown>): void {
    const limits = this.server._limits;
    if (name.length > limits.maxNamespaceLength) {
      // No application has such names: this is abuse (e.g. a megabyte-long name, which socket.io
      // echoes back whole). The answer names "/" rather than the namespace, so that its size
      // does not depend on the input, and the connection goes.
      this._packet(INVALID_LONG_NAMESPACE, {});
      this.#close("forced server close");
      return;
    }
    const connecting = this.#connecting?.size ?? 0;
    if (connecting > 0 && this.#connecting!.has(name)) return;
    if (this.#nsps.has(name) || connecting >= MAX_PENDING_CONNECTS) {
      // A second CONNECT for a connected namespace breaks the protocol (socket.io closes too).
      this.#close("forced server close");
      return;
    }
    if (this.#nsps.size + connecting >= limits.maxNamespacesPerClient) {
      this._packet(
        {
          type: SocketPacketType.ConnectError,
          nsp: name,
          data: { message: "Too many namespaces" },
        },
        {},
      );
      return;
    }
    this.#connect(name, auth);
  }

  #connect(name: string, auth: Record<string, unknown>): void {
    if (this.server._nsps.has(name)) {
      this.#doConnect(name, auth);
      return;
    }
    this.#connectionStarted(name);
    this.server._checkNamespace(name, auth, (nsp) => {
      if (this.#closed) return;
      if (nsp) {
        this.#doConnect(name, auth);
        return;
      }
      this.#connectionEnded(name);
      this._packet(
        { type: SocketPacketType.ConnectError, nsp: name, data: { message: "Invalid namespace" } },
        {},
      );
    });
  }

  #doConnect(name: string, auth: Record<string, unknown>): void {
    const nsp = this.server.of(name);
    this.#connectionStarted(name);
    nsp
      ._add(this, auth, (socket) => {
        this.#nsps.set(nsp.name, socket);
        this.#connectTimer?.cancel();
        this.#connectTimer = undefined;
      })
      .then(
        () => {
          this.#connectionEnded(name);
        },
        (error: unknown) => {
          this.#connectionEnded(name);
          // A "connection" listener threw: surface it as an uncaught exception, as an
          // EventEmitter listener's error would be, instead of an unhandled rejection.
          process.nextTick(() => {
            throw error;
          });
        },
      );
  }

  #connectionStarted(name: string): void {
    this.#connecting ??= new Set();
    this.#connecting.add(name);
  }

  #connectionEnded(name: string): void {
    this.#connecting?.delete(name);
    if (this.#connecting?.size === 0) this.#connecting = undefined;
  }

  /** Closes the connection; the sockets get `reason`. */
  #close(reason: DisconnectReason): void {
    if (this.conn.readyState !== "open") {
      this.#onClose(reason);
      return;
    }
    // Sockets first, so that they see this reason rather than the engine's "forced close".
    this.#onClose(reason);
    this.conn.close();
  }

  #onClose(reason: DisconnectReason, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.conn.owner === this) this.conn.owner = null;
    this.#connectTimer?.cancel();
    this.#connectTimer = undefined;
    for (const socket of this.#nsps.list()) socket._onclose(reason, description);
    this.#nsps.clear();
    this.#connecting = undefined;
    this.#decoder.reset();
  }
}

/**
 * A client's socket per namespace name. Most clients join one namespace: its socket is kept in
 * a field, and a Map (about 180 B per client) is made only for a second one.
 */
class NamespaceSockets<S> {
  #name = "";
  #socket: S | undefined;
  #more: Map<string, S> | undefined;

  get size(): number {
    return (this.#socket === undefined ? 0 : 1) + (this.#more?.size ?? 0);
  }

  get(name: string): S | undefined {
    if (this.#socket !== undefined && name === this.#name) return this.#socket;
    return this.#more?.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, socket: S): void {
    if (this.#socket === undefined || name === this.#name) {
      this.#more?.delete(name);
      this.#name = name;
      this.#socket = socket;
      return;
    }
    this.#more ??= new Map();
    this.#more.set(name, socket);
  }

  delete(name: string): void {
    if (this.#socket !== undefined && name === this.#name) {
      this.#socket = undefined;
      this.#name = "";
      return;
    }
    this.#more?.delete(name);
    if (this.#more?.size === 0) this.#more = undefined;
  }

  /** The sockets, as a new array (callers may remove sockets while going through it). */
  list(): S[] {
    const sockets: S[] = this.#socket === undefined ? [] : [this.#socket];
    if (this.#more !== undefined) for (const socket of this.#more.values()) sockets.push(socket);
    return sockets;
  }

  clear(): void {
    this.#socket = undefined;
    this.#name = "";
    this.#more = undefined;
  }
}

/** A client's connect timeout, on its engine's timer wheel. */
class ConnectTimer extends WheelTimer {
  readonly #client: Client;

  constructor(client: Client) {
    super(client.conn._timers);
    this.#client = client;
  }

  onTimeout(): void {
    this.#client._connectTimedOut();
  }
}

/** Decodes a range of a message's bytes (a Buffer from the WebSocket layer). */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  return (bytes as Buffer).toString("utf8", start, end);
}

/**
 * Splits a protocol v4 CONNECT namespace ("/admin?token=1") into the namespace and the auth
 * object its query string stands for.
 */
function splitLegacyNamespace(nsp: string): { name: string; auth: Record<string, unknown> } {
  const queryStart = nsp.indexOf("?");
  if (queryStart === -1) return { name: nsp, auth: {} };
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  const auth = Object.fromEntries(new URLSearchParams(nsp.slice(queryStart + 1)));
  return { name: nsp.slice(0, queryStart), auth };
}
