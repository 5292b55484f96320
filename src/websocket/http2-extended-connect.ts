/**
 * WebSockets over HTTP/2 on the server (RFC 8441): an extended CONNECT request
 * (`:method CONNECT`, `:protocol websocket`) on a Node `http2` server is presented to the
 * WebSocket servers as the HTTP/1.1 upgrade they already handle, so every check (path,
 * verifyClient, origins, subprotocols, permessage-deflate, limits, Engine.IO's middlewares) runs
 * unchanged:
 * - the request becomes an `IncomingMessage` with method GET, the `:path` as URL, `:authority`
 *   as Host, and the Upgrade/Connection/Sec-WebSocket-Key headers HTTP/2 does without (RFC 8441
 *   section 5: the key and `Sec-WebSocket-Accept` are not used, the stream itself proves the
 *   peer asked for a WebSocket);
 * - the socket is an {@link ExtendedConnectSocket} on the `Http2Stream`: the HTTP/1.1 response
 *   head written to it becomes the HTTP/2 response (101 becomes 200 without the
 *   connection-specific headers, a refusal keeps its status, headers and body), and everything
 *   after it is the stream's DATA.
 * @module
 */

import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { IncomingMessage } from "node:http";
import {
  type Http2SecureServer,
  type Http2Server,
  Http2ServerRequest,
  type Http2ServerResponse,
  constants as http2Constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { attachToRouter, type TargetRouter, type UpgradeTarget } from "./upgrade-router.js";

/** A Node HTTP/2 server, with or without TLS. */
export type AnyHttp2Server = Http2Server | Http2SecureServer;

/** Whether `server` is a Node `http2` server (they alone have `updateSettings`). */
export function isHttp2Server(server: unknown): server is AnyHttp2Server {
  return (
    typeof server === "object" &&
    server !== null &&
    typeof (server as { updateSettings?: unknown }).updateSettings === "function"
  );
}

/** An HTTP/1.1 response head larger than this is not a handshake answer: the stream is reset. */
const MAX_RESPONSE_HEAD = 64 * 1024;
/** After answering a refusal, how long the stream may stay open waiting for the peer's end. */
const LINGER_AFTER_END = 5_000;
/** HTTP/1.1 headers that have no place in HTTP/2 (RFC 9113 section 8.2.2), or mean nothing here. */
const CONNECTION_HEADERS = new Set([
  "connection",
  "upgrade",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "sec-websocket-accept",
  "host",
]);
const EMPTY = Buffer.alloc(0);

/**
 * The `Http2Stream` of an extended CONNECT as the socket of an HTTP/1.1 upgrade. Not a
 * `net.Socket`: no `setNoDelay`, no handle, and the WebSocket layer does not need them.
 */
export class ExtendedConnectSocket extends Duplex {
  readonly stream: ServerHttp2Stream;
  /** The response head as written so far, until it is complete; null once answered. */
  #head: Buffer | null = EMPTY;
  #listening = false;

  constructor(stream: ServerHttp2Stream) {
    super({ allowHalfOpen: true });
    this.stream = stream;
  }

  /** The stream is read from (and its end and errors followed) only once this socket is used. */
  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    const stream = this.stream;
    stream.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) stream.pause();
    });
    stream.on("end", () => this.push(null));
    stream.on("error", (error) => this.destroy(error));
    stream.on("close", () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.#listen();
    this.stream.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ) {
    this.#listen();
    const stream = this.stream;
    if (stream.destroyed) {
      callback(new Error("The HTTP/2 stream is closed"));
      return;
    }
    if (this.#head === null) {
      stream.write(chunk, callback);
      return;
    }
    const head = Buffer.concat([this.#head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end === -1) {
      if (head.length > MAX_RESPONSE_HEAD) {
        callback(new Error("HTTP response head too large"));
        return;
      }
      this.#head = head;
      callback();
      return;
    }
    this.#head = null;
    const response = parseResponseHead(head.subarray(0, end).toString("latin1"));
    if (response === null) {
      callback(new Error("Not an HTTP/1.1 response head"));
      return;
    }
    try {
      stream.respond(response);
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const rest = head.subarray(end + 4);
    if (rest.length > 0) stream.write(rest, callback);
    else callback();
  }

  /** The frames of one turn (the write queue corks) go to the stream in one batch too. */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const stream = this.stream;
    if (this.#head !== null || stream.destroyed) {
      this._write(Buffer.concat(chunks.map((entry) => entry.chunk)), "binary", callback);
      return;
    }
    stream.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) stream.write(chunks[i].chunk);
    stream.write(chunks[last].chunk, callback);
    stream.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const stream = this.stream;
    if (stream.destroyed) {
      callback();
      return;
    }
    stream.end(callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    const stream = this.stream;
    if (!stream.destroyed) {
      if (stream.writableEnded) {
        // Our side ended cleanly (a refusal, or the close handshake): let the response go out
        // and the peer end its side, but not forever.
        stream.resume();
        setTimeout(closeStream, LINGER_AFTER_END, stream).unref();
      } else {
        stream.close(http2Constants.NGHTTP2_CANCEL);
      }
    }
    callback(error);
  }
}

function closeStream(stream: ServerHttp2Stream): void {
  if (!stream.destroyed) stream.close(http2Constants.NGHTTP2_CANCEL);
}

/**
 * The HTTP/2 response for an HTTP/1.1 response head: 101 becomes 200 (RFC 8441 section 5);
 * headers HTTP/2 forbids are dropped. Null when `head` is not a status line and headers.
 */
function parseResponseHead(head: string): OutgoingHttpHeaders | null {
  const lines = head.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
  if (status === null) return null;
  const code = Number(status[1]);
  const headers: OutgoingHttpHeaders = { ":status": code === 101 ? 200 : code };
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(":");
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon).trim().toLowerCase();
    if (CONNECTION_HEADERS.has(name)) continue;
    const value = lines[i].slice(colon + 1).trim();
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else headers[name] = Array.isArray(previous) ? [...previous, value] : [String(previous), value];
  }
  return headers;
}

/**
 * The HTTP/1.1 upgrade request an extended CONNECT stands for. Its socket is the HTTP/2
 * session's (remote address, `encrypted`); `httpVersion` is "2.0"; the Sec-WebSocket-Key is a
 * fresh one, as the HTTP/1.1 checks need one and HTTP/2 has none.
 */
function toUpgradeRequest(
  stream: ServerHttp2Stream,
  h2Headers: IncomingHttpHeaders,
): IncomingMessage {
  // Made without a socket (it would read the session's socket as a request body), then given
  // the session's for the address and TLS state.
  const upgrade = new IncomingMessage(undefined as unknown as Socket);
  upgrade.socket = (stream.session?.socket ?? null) as Socket;
  const headers: Record<string, string | string[]> = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(h2Headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    headers[name] = value;
    for (const item of Array.isArray(value) ? value : [value]) rawHeaders.push(name, item);
  }
  const authority = h2Headers[":authority"];
  if (typeof authority === "string") headers.host = authority;
  headers.upgrade = "websocket";
  headers.connection = "Upgrade";
  headers["sec-websocket-key"] = randomBytes(16).toString("base64");
  upgrade.method = "GET";
  upgrade.url = String(h2Headers[":path"] ?? "/");
  upgrade.httpVersion = "2.0";
  upgrade.httpVersionMajor = 2;
  upgrade.httpVersionMinor = 0;
  upgrade.headers = headers;
  upgrade.rawHeaders = rawHeaders;
  upgrade.complete = true;
  upgrade.push(null);
  return upgrade;
}

type ConnectListener = (
  request: IncomingMessage | Http2ServerRequest,
  second: Duplex | Http2ServerResponse,
) => void;

/** An extended CONNECT for a WebSocket (RFC 8441 section 4). */
function isWebSocketConnect(headers: IncomingHttpHeaders): boolean {
  return headers[":method"] === "CONNECT" && headers[":protocol"] === "websocket";
}

/**
 * One router per HTTP/2 server, shared by the WebSocket servers (and Engine.IO) attached to it,
 * which are asked in order, as for HTTP/1.1 upgrades (`upgrade-router.ts`).
 *
 * Node hands out an extended CONNECT in one of two ways. Once the server has a `request`
 * listener, its compatibility layer takes every stream and emits CONNECT requests as `connect`
 * (answering 405 when nobody listens): they are taken there. Without it there is only the raw
 * `stream` event: a stream that no `connect` listener took in the same turn is taken there.
 */
class ExtendedConnectRouter implements TargetRouter {
  readonly #server: AnyHttp2Server;
  #targets: readonly UpgradeTarget[] = [];
  /** Streams already taken through `connect`. */
  readonly #taken = new WeakSet<ServerHttp2Stream>();
  readonly #onConnect: ConnectListener = (request, second) => {
    // With allowHTTP1 the same event carries HTTP/1.1 CONNECT requests (a socket, no response).
    if (!(request instanceof Http2ServerRequest)) {
      if (this.#server.listenerCount("connect") === 1) (second as Duplex).destroy();
      return;
    }
    if (!isWebSocketConnect(request.headers)) {
      // Node's own answer when nobody takes a CONNECT.
      if (this.#server.listenerCount("connect") === 1) respondError(request.stream, 405);
      return;
    }
    this.#taken.add(request.stream);
    this.#dispatch(request.stream, request.headers, this.#server.listenerCount("connect") > 1);
  };
  readonly #onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    if (!isWebSocketConnect(headers)) return;
    queueMicrotask(() => {
      if (this.#taken.has(stream) || stream.headersSent || stream.destroyed) return;
      this.#dispatch(stream, headers, this.#server.listenerCount("stream") > 1);
    });
  };

  constructor(server: AnyHttp2Server) {
    this.#server = server;
  }

  #dispatch(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, othersListen: boolean): void {
    const socket = new ExtendedConnectSocket(stream);
    const upgrade = toUpgradeRequest(stream, headers);
    for (const target of this.#targets) {
      if (target.claimUpgrade(upgrade, socket, EMPTY)) return;
    }
    // Another handler may own this path; its stream is not ours to answer.
    if (!othersListen) respondError(stream, 404);
  }

  attach(target: UpgradeTarget): void {
    this.#targets = [...this.#targets, target];
    const server = this.#server as EventEmitter;
    if (!server.listeners("connect").includes(this.#onConnect)) {
      server.on("connect", this.#onConnect);
    }
    if (!server.listeners("stream").includes(this.#onStream)) {
      server.on("stream", this.#onStream);
    }
  }

  detach(target: UpgradeTarget): boolean {
    this.#targets = this.#targets.filter((t) => t !== target);
    if (this.#targets.length > 0) return false;
    (this.#server as EventEmitter).off("connect", this.#onConnect);
    (this.#server as EventEmitter).off("stream", this.#onStream);
    return true;
  }
}

function respondError(stream: ServerHttp2Stream, status: number): void {
  if (stream.headersSent || stream.destroyed) return;
  const body = status === 404 ? "No WebSocket endpoint at this path" : "Method Not Allowed";
  stream.respond({ ":status": status, "content-type": "text/plain; charset=utf-8" });
  stream.end(body);
}

const routers = new WeakMap<AnyHttp2Server, TargetRouter>();

/**
 * Routes `server`'s extended CONNECT requests for WebSockets to `target` (after the targets
 * attached earlier), and has the server advertise SETTINGS_ENABLE_CONNECT_PROTOCOL to the
 * sessions it accepts from now on. Returns the function that detaches it.
 */
export function attachExtendedConnect(server: AnyHttp2Server, target: UpgradeTarget): () => void {
  server.updateSettings({ enableConnectProtocol: true });
  return attachToRouter(routers, server, (source) => new ExtendedConnectRouter(source), target);
}
