/**
 * The accept path of the HTTP servers this library creates itself (`new WebSocketServer({ port
 * })`): each new TCP connection's request head is read and checked here
 * (`src/protocol/http/request-head.ts`), and a WebSocket upgrade is answered without Node's
 * HTTP machinery (its parser, its per-socket listeners and wrappers, a request stream per
 * request, the connection list). Anything else is handed, bytes and all, to Node's own
 * connection handling of the same `http.Server`, so plain requests (the 426 answer,
 * keep-alive, the request timeouts) behave exactly as before.
 *
 * The `http.Server` still listens: `address()`, `listening`, `error`, `close()` and
 * `maxConnections` are Node's. Only its `connection` listener (the one Node installs in the
 * constructor) is taken over, and called for the sockets handed back.
 * @module
 */

import { type Server as HttpServer, IncomingMessage, maxHeaderSize } from "node:http";
import type { Socket } from "node:net";
import {
  DEFAULT_MAX_HEADER_FIELDS,
  findRequestHeadEnd,
  parseRequestHead,
  type RequestHead,
  type RequestHeadLimits,
} from "../protocol/http/request-head.js";
import { splitList } from "../protocol/websocket/http-tokens.js";
import { rejectHandshake } from "./reject-handshake.js";
import { DEFAULT_WHEEL_TICK, TimerWheel, WheelTimer } from "./timer-wheel.js";

/**
 * Takes an upgrade request, as an `upgrade` listener of `http.Server` would, and returns true;
 * false leaves the request to Node's HTTP handling (as Node does when nobody listens to
 * `upgrade`).
 */
export type UpgradeHandler = (request: IncomingMessage, socket: Socket, head: Buffer) => boolean;

/** Options of {@link takeOverAccept}. */
export interface AcceptPathOptions {
  /**
   * Ms from accepting a connection to the end of its request head (0: no limit); then 408.
   * Default: the server's `headersTimeout`.
   */
  headersTimeout?: number;
  /** Header fields per request (default 256); more get 431. */
  maxHeaderFields?: number;
}

/**
 * Node's own `IncomingMessage` members set here: `_addHeaderLines` (Node's parser calls it; it
 * keeps `rawHeaders` and makes `headers` from them on first read) and `upgrade`.
 */
interface RequestInternals {
  _addHeaderLines(rawHeaders: string[], count: number): void;
  upgrade: boolean;
}

/** `readableFlowing` is writable in Node; resetting it is what Node's upgrade path does. */
interface ResettableFlow {
  readableFlowing: boolean | null;
}

const EMPTY = Buffer.alloc(0);
/** First size of the buffer that gathers a head arriving in several chunks. */
const FIRST_GATHER_SIZE = 1024;

/** A connection whose request head is still arriving: its bytes so far and its deadline. */
class PendingHead extends WheelTimer {
  readonly socket: Socket;
  readonly #acceptor: Acceptor;
  /** The bytes received: the first chunk as it came (the socket's), later ones in a copy. */
  bytes: Buffer = EMPTY;
  length = 0;
  /** Whether `bytes` is our own copy (written into) rather than the first chunk. */
  gathered = false;
  /** Where the next scan for the end of the head starts. */
  scanned = 0;

  constructor(wheel: TimerWheel, acceptor: Acceptor, socket: Socket) {
    super(wheel);
    this.#acceptor = acceptor;
    this.socket = socket;
  }

  onTimeout(): void {
    this.#acceptor.timedOut(this);
  }

  append(chunk: Buffer): void {
    if (this.length === 0) {
      this.bytes = chunk;
      this.length = chunk.length;
      return;
    }
    const needed = this.length + chunk.length;
    if (!this.gathered || needed > this.bytes.length) {
      // Doubling: a head trickled byte by byte is copied O(length) times in all.
      const grown = Buffer.allocUnsafe(Math.max(needed, FIRST_GATHER_SIZE, 2 * this.length));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
      this.gathered = true;
    }
    chunk.copy(this.bytes, this.length);
    this.length = needed;
  }
}

class Acceptor {
  readonly #server: HttpServer;
  readonly #nodeListener: (socket: Socket) => void;
  readonly #onUpgrade: UpgradeHandler;
  readonly #timeout: number;
  readonly #limits: RequestHeadLimits;
  readonly #wheel: TimerWheel;
  readonly #pending = new Map<Socket, PendingHead>();
  // One function each per server (not per connection); `this` is the socket.
  readonly #onData: (this: Socket, chunk: Buffer) => void;
  readonly #onGone: (this: Socket) => void;

  constructor(
    server: HttpServer,
    nodeListener: (socket: Socket) => void,
    onUpgrade: UpgradeHandler,
    options: AcceptPathOptions,
  ) {
    this.#server = server;
    this.#nodeListener = nodeListener;
    this.#onUpgrade = onUpgrade;
    this.#timeout = options.headersTimeout ?? server.headersTimeout;
    this.#limits = {
      maxHeadBytes: (server as { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize,
      maxHeaderFields: options.maxHeaderFields ?? DEFAULT_MAX_HEADER_FIELDS,
    };
    this.#wheel = new TimerWheel({
      tick: Math.min(DEFAULT_WHEEL_TICK, Math.max(1, Math.floor(this.#timeout / 10))),
    });
    const acceptor = this;
    this.#onData = function onHeadData(chunk) {
      acceptor.#data(this, chunk);
    };
    this.#onGone = function onGoneBeforeHead() {
      acceptor.#gone(this);
    };
  }

  /** The `connection` listener of the server. */
  readonly accept = (socket: Socket): void => {
    const pending = new PendingHead(this.#wheel, this, socket);
    this.#pending.set(socket, pending);
    if (this.#timeout > 0) pending.schedule(this.#timeout);
    socket.on("data", this.#onData);
    socket.on("end", this.#onGone);
    socket.on("close", this.#onGone);
    socket.on("error", this.#onGone);
  };

  /**
   * Destroys the connections whose head has not arrived: all of them, or (`idleOnly`) those
   * that sent nothing yet, which Node's `closeIdleConnections` counts as idle.
   */
  destroyPending(idleOnly: boolean): void {
    for (const pending of [...this.#pending.values()]) {
      if (idleOnly && pending.length > 0) continue;
      this.#release(pending);
      pending.socket.destroy();
    }
  }

  timedOut(pending: PendingHead): void {
    this.#release(pending);
    rejectHandshake(pending.socket, 408, "Request Timeout");
  }

  /** The peer left, half-closed or failed before its head was complete. */
  #gone(socket: Socket): void {
    const pending = this.#pending.get(socket);
    if (pending) this.#release(pending);
    socket.destroy();
  }

  /** The socket leaves the accept path: no listener, no deadline, no entry of ours is left. */
  #release(pending: PendingHead): void {
    pending.cancel();
    this.#pending.delete(pending.socket);
    const socket = pending.socket;
    socket.removeListener("data", this.#onData);
    socket.removeListener("end", this.#onGone);
    socket.removeListener("close", this.#onGone);
    socket.removeListener("error", this.#onGone);
  }

  #data(socket: Socket, chunk: Buffer): void {
    const pending = this.#pending.get(socket);
    if (!pending) return;
    pending.append(chunk);
    const scan = findRequestHeadEnd(
      pending.bytes,
      pending.length,
      pending.scanned,
      this.#limits.maxHeadBytes,
    );
    if (scan.kind === "incomplete") {
      pending.scanned = scan.resumeAt;
      return;
    }
    this.#release(pending);
    if (scan.kind === "invalid") {
      rejectHandshake(socket, scan.status, scan.message);
      return;
    }
    const bytes = pending.bytes.subarray(0, pending.length);
    const parsed = parseRequestHead(bytes, scan.end, this.#limits);
    if (!parsed.ok) {
      rejectHandshake(socket, parsed.status, parsed.message);
      return;
    }
    socket.pause();
    const request = buildUpgradeRequest(socket, bytes, parsed.head);
    if (request !== null) {
      // As Node leaves an upgraded socket: neither flowing nor paused, so the first `data`
      // listener (the WebSocket's) starts the flow.
      (socket as unknown as ResettableFlow).readableFlowing = null;
      const head = scan.end < bytes.length ? bytes.subarray(scan.end) : EMPTY;
      if (this.#onUpgrade(request, socket, head)) return;
    }
    // Not an upgrade, or one nobody takes: Node's HTTP server reads it again from the start.
    socket.unshift(bytes);
    this.#nodeListener.call(this.#server, socket);
    socket.resume();
  }
}

/** Method strings Node gives (constants), so a request holds no copy of its own. */
const KNOWN_METHODS = new Map<string, string>(
  ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT"].map((m) => [m, m]),
);

/**
 * The request object of an upgrade (`Connection: upgrade` with an `Upgrade` header, as Node
 * decides), a real `IncomingMessage` as Node's `upgrade` event gives; null when the request is
 * not an upgrade.
 */
function buildUpgradeRequest(
  socket: Socket,
  bytes: Buffer,
  head: RequestHead,
): IncomingMessage | null {
  const { fields } = head;
  const rawHeaders: string[] = new Array(fields.length / 2);
  let connectionUpgrade = false;
  let upgrade = false;
  for (let f = 0; f < fields.length; f += 4) {
    const name = bytes.toString("latin1", fields[f], fields[f + 1]);
    const value = bytes.toString("latin1", fields[f + 2], fields[f + 3]);
    rawHeaders[f / 2] = name;
    rawHeaders[f / 2 + 1] = value;
    if (name.length === 7 && name.toLowerCase() === "upgrade") upgrade = true;
    else if (name.length === 10 && name.toLowerCase() === "connection" && !connectionUpgrade) {
      connectionUpgrade = hasUpgradeToken(value);
    }
  }
  const method = bytes.toString("latin1", head.methodStart, head.methodEnd);
  if (!(upgrade && connectionUpgrade) || method === "CONNECT") return null;
  const request = new IncomingMessage(socket);
  request.method = KNOWN_METHODS.get(method) ?? method;
  request.url = bytes.toString("latin1", head.targetStart, head.targetEnd);
  request.httpVersionMajor = head.versionMajor;
  request.httpVersionMinor = head.versionMinor;
  request.httpVersion = head.versionMinor === 1 ? "1.1" : `1.${head.versionMinor}`;
  const internals = request as unknown as RequestInternals;
  internals._addHeaderLines(rawHeaders, rawHeaders.length);
  internals.upgrade = true;
  request.complete = true;
  return request;
}

function hasUpgradeToken(value: string): boolean {
  for (const token of splitList(value)) if (token.toLowerCase() === "upgrade") return true;
  return false;
}

/**
 * Puts `server`'s new connections on the accept path: upgrades go to `onUpgrade`, everything
 * else to Node's HTTP handling of `server`. Call right after creating the server. The server's
 * `closeAllConnections()` and `closeIdleConnections()` (which `close()` calls) also end the
 * connections still on the accept path, as Node's would. Returns false (and changes nothing)
 * when the server does not have Node's single `connection` listener.
 */
export function takeOverAccept(
  server: HttpServer,
  onUpgrade: UpgradeHandler,
  options: AcceptPathOptions = {},
): boolean {
  const listeners = server.listeners("connection");
  if (listeners.length !== 1) return false;
  const nodeListener = listeners[0] as (socket: Socket) => void;
  const acceptor = new Acceptor(server, nodeListener, onUpgrade, options);
  server.removeListener("connection", nodeListener);
  server.on("connection", acceptor.accept);
  const closeAll = server.closeAllConnections;
  const closeIdle = server.closeIdleConnections;
  server.closeAllConnections = function closeAllConnections(this: HttpServer) {
    acceptor.destroyPending(false);
    closeAll.call(this);
  };
  server.closeIdleConnections = function closeIdleConnections(this: HttpServer) {
    acceptor.destroyPending(true);
    closeIdle.call(this);
  };
  return true;
}

/**
 * {@link takeOverAccept} for a server whose upgrades belong to its `upgrade` listeners (the
 * Engine.IO and Socket.IO servers attached to it): they get the request as from Node.
 */
export function takeOverAcceptForUpgradeListeners(server: HttpServer): boolean {
  return takeOverAccept(
    server,
    (request, socket, head) =>
      server.listenerCount("upgrade") > 0 && server.emit("upgrade", request, socket, head),
  );
}
