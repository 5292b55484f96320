/**
 * Helpers for the WebSocket class tests: a raw upgrade server and a raw client that speak
 * hand-built frames (codec written here, independent of src/), a minimal server built on
 * acceptWebSocket, and small async utilities. Everything listens on 127.0.0.1 port 0.
 */

import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { Duplex } from "node:stream";
import {
  checkUpgradeRequest,
  formatAcceptResponse,
} from "../../src/protocol/websocket/handshake.js";
import { negotiateDeflateAsServer } from "../../src/protocol/websocket/permessage-deflate-params.js";
import {
  PerMessageDeflate,
  type PerMessageDeflateOptions,
} from "../../src/websocket/permessage-deflate.js";
import { acceptWebSocket, WebSocket } from "../../src/websocket/websocket.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** base64(sha1(key + GUID)), computed with node:crypto (independent of the code under test). */
export function acceptKey(key: string): string {
  return createHash("sha1")
    .update(key + GUID)
    .digest("base64");
}

/** A decoded frame. */
export interface RawFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Unmasked payload. */
  payload: Buffer;
}

/** Builds one frame by hand. */
export function buildFrame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  options: { fin?: boolean; rsv1?: boolean; rsv2?: boolean; mask?: boolean } = {},
): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const fin = options.fin ?? true;
  const mask = options.mask ?? false;
  const length = data.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | (options.rsv2 ? 0x20 : 0) | opcode;
  if (lengthBytes === 0) header[1] = length;
  else if (lengthBytes === 2) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!mask) return Buffer.concat([header, data]);
  header[1] |= 0x80;
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  key.copy(header, header.length - 4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, masked]);
}

/** A close frame payload. */
export function closePayload(code?: number, reason = ""): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** Incremental frame reader over a socket: `next()` resolves with the next frame. */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  private readonly frames: RawFrame[] = [];
  private waiters: ((frame: RawFrame | null) => void)[] = [];
  private ended = false;
  /** Raw bytes seen, for tests that look at the stream itself. */
  readonly chunks: Buffer[] = [];

  constructor(socket: Duplex, initial?: Buffer) {
    if (initial && initial.length > 0) this.feed(initial);
    socket.on("data", (chunk: Buffer) => this.feed(chunk));
    const end = () => {
      this.ended = true;
      for (const waiter of this.waiters.splice(0)) waiter(null);
    };
    socket.on("end", end);
    socket.on("close", end);
  }

  /** Chunks not yet joined into `buffer` (joined only once a whole frame is there). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 2;

  private feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.buffer.length + this.pendingBytes < this.needed) return;
    this.buffer = Buffer.concat([this.buffer, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 2;
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const masked = (b[1] & 0x80) !== 0;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const keyOffset = offset;
      if (masked) offset += 4;
      if (b.length < offset + length) {
        this.needed = offset + length;
        return;
      }
      const payload = Buffer.from(b.subarray(offset, offset + length));
      if (masked) {
        const key = b.subarray(keyOffset, keyOffset + 4);
        for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
      }
      const frame: RawFrame = {
        fin: (b[0] & 0x80) !== 0,
        rsv1: (b[0] & 0x40) !== 0,
        rsv2: (b[0] & 0x20) !== 0,
        rsv3: (b[0] & 0x10) !== 0,
        opcode: b[0] & 0x0f,
        masked,
        payload,
      };
      this.buffer = b.subarray(offset + length);
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    }
  }

  /** Frames decoded and not yet taken. */
  drain(): RawFrame[] {
    return this.frames.splice(0);
  }

  /** The next frame, or null when the stream ended first. Rejects after `timeout` ms. */
  next(timeout = 5000): Promise<RawFrame | null> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no frame in time")), timeout);
      this.waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }
}

/** What a raw upgrade server hands to the test for each connection. */
export interface RawConnection {
  socket: Socket;
  request: IncomingMessage;
  reader: FrameReader;
}

/** Options for {@link startRawServer}'s 101 response. */
export interface RawAnswer {
  /** Extra header lines (e.g. "Sec-WebSocket-Protocol: chat"). */
  headers?: string[];
  /** Replace the accept key. */
  accept?: string;
  /** Bytes written right after the 101 head, in the same write. */
  after?: Buffer;
}

/** An HTTP server that answers every upgrade with 101 (or lets `respond` decide) by hand. */
export interface RawServer {
  port: number;
  url: string;
  server: Server;
  connections: RawConnection[];
  /** Resolves with the first connection accepted after this call. */
  nextConnection(): Promise<RawConnection>;
  close(): Promise<void>;
}

export async function startRawServer(
  answer: (request: IncomingMessage, socket: Socket) => RawAnswer | null = () => ({}),
): Promise<RawServer> {
  const server = createServer((_req, res) => {
    res.writeHead(426);
    res.end();
  });
  const connections: RawConnection[] = [];
  const waiters: ((c: RawConnection) => void)[] = [];
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => {});
    const reply = answer(request, socket);
    if (reply === null) return;
    const key = String(request.headers["sec-websocket-key"]);
    const lines = [
      "HTTP/1.1 101 Switching Protocols",
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Accept: ${reply.accept ?? acceptKey(key)}`,
      ...(reply.headers ?? []),
    ];
    const headBytes = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`);
    socket.write(reply.after ? Buffer.concat([headBytes, reply.after]) : headBytes);
    const connection = { socket, request, reader: new FrameReader(socket, head) };
    connections.push(connection);
    const waiter = waiters.shift();
    if (waiter) waiter(connection);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    server,
    connections,
    nextConnection() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server built directly on acceptWebSocket (no WebSocketServer), optionally with deflate. */
export interface AcceptServer {
  port: number;
  url: string;
  /** Resolves with the first server-side WebSocket accepted after this call. */
  nextSocket(): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function startAcceptServer(
  options: {
    deflate?: PerMessageDeflateOptions | false;
    maxPayload?: number;
    closeTimeout?: number;
    /** Called synchronously with each new socket (before any of its data is parsed). */
    onSocket?: (ws: WebSocket) => void;
  } = {},
): Promise<AcceptServer> {
  const server = createServer();
  const waiters: ((ws: WebSocket) => void)[] = [];
  const sockets = new Set<Duplex>();
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const checked = checkUpgradeRequest({ method: request.method ?? "", headers: request.headers });
    if (!checked.ok) {
      socket.end(`HTTP/1.1 ${checked.status} Bad\r\nConnection: close\r\n\r\n`);
      return;
    }
    const maxPayload = options.maxPayload ?? 100 * 1024 * 1024;
    const deflateOptions =
      options.deflate === false || options.deflate === undefined ? null : options.deflate;
    const negotiated = deflateOptions
      ? negotiateDeflateAsServer(checked.extensions, deflateOptions)
      : null;
    const protocol = checked.protocols[0] ?? "";
    socket.write(
      formatAcceptResponse({
        key: checked.key,
        protocol: protocol || undefined,
        extensions: negotiated?.response,
      }),
    );
    const ws = acceptWebSocket(socket, head, {
      maxPayload,
      protocol,
      extensions: negotiated?.response ?? "",
      deflate: negotiated
        ? new PerMessageDeflate(negotiated.params, "server", deflateOptions!, maxPayload)
        : null,
      closeTimeout: options.closeTimeout,
    });
    options.onSocket?.(ws);
    waiters.shift()?.(ws);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    nextSocket() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw client: connects, sends the upgrade request (plus `extra` bytes in the same write). */
export async function rawClient(
  port: number,
  options: { extra?: Buffer; headers?: string[] } = {},
): Promise<{ socket: Socket; reader: FrameReader; response: string }> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await once(socket, "connect");
  const key = Buffer.from("0123456789abcdef").toString("base64");
  const request = [
    "GET / HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...(options.headers ?? []),
  ];
  const head = Buffer.from(`${request.join("\r\n")}\r\n\r\n`);
  socket.write(options.extra ? Buffer.concat([head, options.extra]) : head);
  // Read the response head, then hand the rest to a frame reader.
  let received = Buffer.alloc(0);
  const rest = await new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      socket.pause();
      resolve(received.subarray(end + 4));
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed before the response")));
  });
  const response = received.subarray(0, received.indexOf("\r\n\r\n")).toString();
  const reader = new FrameReader(socket, rest);
  socket.resume();
  return { socket, reader, response };
}

/** A client WebSocket, open, connected to `server`, and the server's raw end of it. */
export async function openClient(
  server: RawServer,
): Promise<{ ws: WebSocket; connection: RawConnection }> {
  const ws = new WebSocket(server.url);
  const connection = server.nextConnection();
  await nextEvent(ws, "open");
  return { ws, connection: await connection };
}

/** Resolves with the arguments of the next `event` on `emitter`; rejects after `timeout` ms. */
export function nextEvent<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
  timeout = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event in time`)), timeout);
    emitter.once(event, ((...args: T) => {
      clearTimeout(timer);
      resolve(args);
    }) as unknown as (...args: never[]) => void);
  });
}

/** Collects `count` message events as [data, isBinary] pairs. */
export function collectMessages(
  ws: WebSocket,
  count: number,
  timeout = 10000,
): Promise<[unknown, boolean][]> {
  return new Promise((resolve, reject) => {
    const out: [unknown, boolean][] = [];
    const timer = setTimeout(
      () => reject(new Error(`only ${out.length} of ${count} messages in time`)),
      timeout,
    );
    const onMessage = (data: unknown, isBinary: boolean) => {
      out.push([data, isBinary]);
      if (out.length === count) {
        clearTimeout(timer);
        ws.off("message", onMessage);
        resolve(out);
      }
    };
    ws.on("message", onMessage);
  });
}

/** Waits for `ms` (used only to let the event loop run, never to assert speed). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Duplex standing in for a TCP socket: counts write calls (write or writev batches). */
export class CountingDuplex extends Duplex {
  /** One entry per _write/_writev call: the chunks it carried. */
  readonly calls: Buffer[][] = [];

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.calls.push([chunk]);
    callback();
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.calls.push(chunks.map((c) => c.chunk));
    callback();
  }

  override _read(): void {}

  /** Everything written so far, joined. */
  written(): Buffer {
    return Buffer.concat(this.calls.flat());
  }
}

/** Decodes every frame of a complete byte stream. */
export function decodeFrames(bytes: Buffer): RawFrame[] {
  const source = new CountingDuplex();
  const reader = new FrameReader(source);
  source.emit("data", bytes);
  return reader.drain();
}
