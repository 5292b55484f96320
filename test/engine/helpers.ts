/**
 * Helpers for the Engine.IO server tests: a server on 127.0.0.1 port 0, raw HTTP requests that
 * show the exact wire, and promise-based waiting with a bound.
 */

import type { EventEmitter } from "node:events";
import {
  createServer,
  type Server as HttpServer,
  type IncomingHttpHeaders,
  request,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Socket as ClientSocket, type SocketOptions } from "engine.io-client";
import { attach, type EngineServer, type EngineServerOptions } from "../../src/engine/index.js";

export interface TestServer {
  engine: EngineServer;
  http: HttpServer;
  port: number;
  /** Closes the engine (every session) and the HTTP server. */
  close(): Promise<void>;
}

/** An HTTP server with an Engine.IO server attached, listening on 127.0.0.1, port 0. */
export async function startServer(
  options: EngineServerOptions = {},
  onRequest?: Parameters<typeof createServer>[1],
): Promise<TestServer> {
  const http = onRequest ? createServer(onRequest) : createServer();
  const engine = attach(http, options);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    engine,
    http,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One HTTP request on its own connection; resolves with the whole (undecoded) response. */
export function httpRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString(),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The parsed JSON of an Engine.IO open packet ("0{...}"). */
export interface OpenData {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** A polling handshake: the response and the session id. */
export async function pollingHandshake(
  port: number,
  query = "EIO=4&transport=polling",
  headers?: Record<string, string>,
): Promise<{ response: RawResponse; open: OpenData; sid: string }> {
  const response = await httpRequest(port, `/engine.io/?${query}`, { headers });
  if (response.status !== 200)
    throw new Error(`handshake failed: ${response.status} ${response.text}`);
  const text = response.text;
  // Revision 3 prefixes the packet with its length ("96:0{...}").
  const packet = text.startsWith("0") ? text : text.slice(text.indexOf(":") + 1);
  const end = packet.indexOf("\x1e");
  const open = JSON.parse(packet.slice(1, end === -1 ? undefined : end)) as OpenData;
  return { response, open, sid: open.sid };
}

/** GET on a session (a poll). */
export function poll(
  port: number,
  sid: string,
  query = "EIO=4&transport=polling",
): Promise<RawResponse> {
  return httpRequest(port, `/engine.io/?${query}&sid=${sid}`);
}

/** POST a payload to a session. */
export function post(
  port: number,
  sid: string,
  body: string | Uint8Array,
  query = "EIO=4&transport=polling",
  headers?: Record<string, string>,
): Promise<RawResponse> {
  return httpRequest(port, `/engine.io/?${query}&sid=${sid}`, { method: "POST", body, headers });
}

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
export function once<T extends unknown[] = unknown[]>(
  emitter: EventEmitter | { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), ms);
    (emitter as EventEmitter).once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

/** Resolves once `predicate` holds, checking every 5 ms; rejects after `ms`. */
export async function until(
  predicate: () => boolean,
  ms = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** `promise`, or a rejection after `ms` (the timer is cleared either way). */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = "operation",
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An official engine.io-client connected to the test server. */
export function connectClient(port: number, options: Partial<SocketOptions> = {}): ClientSocket {
  return new ClientSocket(`http://127.0.0.1:${port}`, options);
}

/** Waits for the client's `open`. */
export async function openClient(
  port: number,
  options: Partial<SocketOptions> = {},
): Promise<ClientSocket> {
  const client = connectClient(port, options);
  await once(client as unknown as EventEmitter, "open");
  return client;
}

/** Splits a revision 4 polling payload into its packets. */
export function packets(payload: string): string[] {
  return payload.split("\x1e");
}
