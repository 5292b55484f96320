/**
 * Helpers for the Engine.IO client tests: the two servers it must work with (duplexio's own and
 * the official `engine.io`), each on 127.0.0.1 port 0 behind the same small interface, a raw
 * HTTP server for misbehaving peers, and bounded waits on the client's events.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { attach as attachReference } from "engine.io";
import {
  EngineClient,
  type EngineClientEventMap,
  type EngineClientOptions,
} from "../../../src/client/engine/index.js";
import { attach as attachDuplexio } from "../../../src/engine/index.js";
import { WebSocket } from "../../../src/websocket/index.js";

export const ENGINE_PATH = "/engine.io";

/** What the tests need from a server-side session, common to both servers. */
export interface ServerSession {
  readonly id: string;
  readonly transportName: string;
  readonly headers: Record<string, string | string[] | undefined>;
  send(data: string | Uint8Array): void;
  close(): void;
  onMessage(listener: (data: string | Uint8Array) => void): void;
  onClose(listener: (reason: string) => void): void;
  onUpgrade(listener: (transportName: string) => void): void;
  /** Every packet from the client (type name: "pong", "message", ...). */
  onPacket(listener: (type: string) => void): void;
}

export interface ServerOptions {
  pingInterval?: number;
  pingTimeout?: number;
  maxHttpBufferSize?: number;
  transports?: ("polling" | "websocket")[];
}

export interface TestServer {
  readonly kind: ServerKind;
  readonly port: number;
  readonly url: string;
  readonly http: Server;
  /** Every HTTP request (and upgrade request) the server received, in order. */
  readonly requests: IncomingMessage[];
  /** Resolves with the next session. */
  nextSession(ms?: number): Promise<ServerSession>;
  /** Resolves with the session `id` (once the server has it). */
  session(id: string | null, ms?: number): Promise<ServerSession>;
  close(): Promise<void>;
}

export type ServerKind = "duplexio" | "engine.io";
export const SERVER_KINDS: readonly ServerKind[] = ["duplexio", "engine.io"];

interface AnySocket {
  id: string;
  transport: { name: string };
  request: IncomingMessage;
  send(data: string | Uint8Array): void;
  close(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

function wrap(socket: AnySocket): ServerSession {
  return {
    id: socket.id,
    get transportName() {
      return socket.transport.name;
    },
    headers: socket.request.headers,
    send: (data) => socket.send(data),
    close: () => socket.close(),
    onMessage: (listener) =>
      socket.on("message", (data: string | Uint8Array) =>
        listener(typeof data === "string" ? data : new Uint8Array(data)),
      ),
    onClose: (listener) => socket.on("close", (reason: string) => listener(reason)),
    onUpgrade: (listener) =>
      socket.on("upgrade", (transport: { name: string }) => listener(transport.name)),
    onPacket: (listener) =>
      socket.on("packet", (packet: { type: string }) => listener(packet.type)),
  };
}

/** Starts `kind` on 127.0.0.1, port 0, path {@link ENGINE_PATH}. */
export async function startServer(
  kind: ServerKind,
  options: ServerOptions = {},
): Promise<TestServer> {
  const http = createServer();
  const requests: IncomingMessage[] = [];
  const settings = { path: ENGINE_PATH, pingInterval: 2000, pingTimeout: 2000, ...options };
  const pending: ServerSession[] = [];
  const waiters: ((session: ServerSession) => void)[] = [];
  const byId = new Map<string, ServerSession>();
  const onConnection = (socket: AnySocket) => {
    const session = wrap(socket);
    byId.set(session.id, session);
    const waiter = waiters.shift();
    if (waiter) waiter(session);
    else pending.push(session);
  };
  let closeEngine: () => void;
  if (kind === "duplexio") {
    const engine = attachDuplexio(http, settings);
    engine.on("connection", (socket) => onConnection(socket as unknown as AnySocket));
    closeEngine = () => engine.close();
  } else {
    const engine = attachReference(http, settings);
    engine.on("connection", (socket: AnySocket) => onConnection(socket));
    closeEngine = () => engine.close();
  }
  // After attaching: both servers move the request listeners already there behind their own.
  http.prependListener("request", (request: IncomingMessage) => requests.push(request));
  http.prependListener("upgrade", (request: IncomingMessage) => requests.push(request));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    kind,
    port,
    url: `http://127.0.0.1:${port}`,
    http,
    requests,
    nextSession: (ms = 5000) => {
      const ready = pending.shift();
      if (ready) return Promise.resolve(ready);
      return withTimeout(
        new Promise<ServerSession>((resolve) => waiters.push(resolve)),
        ms,
        "server session",
      );
    },
    session: async (id, ms = 5000) => {
      if (id === null) throw new Error("the client has no session id");
      const deadline = Date.now() + ms;
      for (;;) {
        const found = byId.get(id);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no server session ${id} within ${ms} ms`);
        await delay(5);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        closeEngine();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** A client for `server` with duplexio's Node WebSocket (Node 20 has no global one). */
export function connect(
  server: { url: string },
  options: Partial<EngineClientOptions> = {},
): EngineClient {
  return new EngineClient(server.url, { path: ENGINE_PATH, WebSocket, ...options });
}

/** Rejects with `what timed out` unless `promise` settles within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The arguments of the client's next `event`, within `ms`. */
export function next<K extends keyof EngineClientEventMap>(
  client: EngineClient,
  event: K,
  ms = 5000,
): Promise<EngineClientEventMap[K]> {
  return withTimeout(
    new Promise<EngineClientEventMap[K]>((resolve) => {
      client.once(event, ((...args: EngineClientEventMap[K]) => resolve(args)) as never);
    }),
    ms,
    `client event "${String(event)}"`,
  );
}

/** Collects `count` messages from a server session, within `ms`. */
export function collect(
  session: ServerSession,
  count: number,
  ms = 5000,
): Promise<(string | Uint8Array)[]> {
  const got: (string | Uint8Array)[] = [];
  return withTimeout(
    new Promise((resolve) => {
      session.onMessage((data) => {
        got.push(data);
        if (got.length === count) resolve(got);
      });
    }),
    ms,
    `collecting ${count} server messages (got ${got.length})`,
  );
}

/** Collects `count` messages from the client, within `ms`. */
export function collectClient(
  client: EngineClient,
  count: number,
  ms = 5000,
): Promise<(string | ArrayBuffer)[]> {
  const got: (string | ArrayBuffer)[] = [];
  return withTimeout(
    new Promise((resolve) => {
      client.on("message", (data) => {
        got.push(data);
        if (got.length === count) resolve(got);
      });
    }),
    ms,
    `collecting ${count} client messages (got ${got.length})`,
  );
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every few milliseconds until it holds; rejects after `ms`. */
export async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await delay(5);
  }
}

/** Every message the session receives from now on. */
export function record(session: ServerSession): (string | Uint8Array)[] {
  const got: (string | Uint8Array)[] = [];
  session.onMessage((data) => got.push(data));
  return got;
}

/** Every message the client receives from now on. */
export function recordClient(client: EngineClient): (string | ArrayBuffer)[] {
  const got: (string | ArrayBuffer)[] = [];
  client.on("message", (data) => got.push(data));
  return got;
}

/** A request of a {@link RawServer}, with its body read. */
export interface RawRequest {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
  response: ServerResponse;
}

/** An HTTP server whose every request goes to `handler` (a misbehaving Engine.IO peer). */
export interface RawServer {
  url: string;
  port: number;
  requests: RawRequest[];
  close(): Promise<void>;
}

export async function startRawServer(handler: (request: RawRequest) => void): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: RawRequest = {
        method: req.method ?? "",
        url: new URL(req.url ?? "/", "http://localhost"),
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        response: res,
      };
      requests.push(request);
      handler(request);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** The `open` packet of a fake session. */
export function openPacket(fields: {
  sid?: string;
  upgrades?: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload?: number;
}): string {
  return `0${JSON.stringify({
    sid: fields.sid ?? "fake-sid",
    upgrades: fields.upgrades ?? [],
    pingInterval: fields.pingInterval,
    pingTimeout: fields.pingTimeout,
    maxPayload: fields.maxPayload ?? 1_000_000,
  })}`;
}

/** Answers a polling request with a payload. */
export function answer(request: RawRequest, payload: string, status = 200): void {
  request.response.writeHead(status, { "content-type": "text/plain; charset=UTF-8" });
  request.response.end(payload);
}

/** Bytes of an ArrayBuffer or view as a plain array (for deepEqual). */
export function bytes(data: string | ArrayBuffer | Uint8Array): number[] {
  if (typeof data === "string")
    throw new Error(`expected binary, got text ${JSON.stringify(data)}`);
  return [...new Uint8Array(data)];
}

/** What a {@link fakeEngine} does with the polling GETs after the handshake. */
export interface FakeEngineScript {
  /** The handshake payload (default: an open packet with 1 s intervals). */
  handshake?: string;
  /** Status of the handshake answer (default 200). */
  handshakeStatus?: number;
  /** The payload answering GET number `n` (1 = the first after the handshake), or null to hold it. */
  poll?(n: number): string | null;
}

/**
 * A polling-only Engine.IO peer under the test's control. POSTs are answered "ok" and their
 * bodies kept in `posts`; held GETs stay open until the server closes.
 */
export async function fakeEngine(
  script: FakeEngineScript = {},
): Promise<RawServer & { posts: string[] }> {
  const posts: string[] = [];
  let gets = 0;
  const server = await startRawServer((request) => {
    if (request.method === "POST") {
      posts.push(request.body);
      answer(request, "ok");
      return;
    }
    if (!request.url.searchParams.has("sid")) {
      answer(
        request,
        script.handshake ?? openPacket({ pingInterval: 1000, pingTimeout: 1000 }),
        script.handshakeStatus ?? 200,
      );
      return;
    }
    gets++;
    const payload = script.poll?.(gets) ?? null;
    if (payload !== null) answer(request, payload);
  });
  return Object.assign(server, { posts });
}
