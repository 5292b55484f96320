/**
 * Peers and plumbing for the WebSocketServer tests: ws's client for well-behaved peers, a raw TCP
 * peer for what ws would never send (bad handshakes, ignored pings, unanswered closes).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { connect, type Socket } from "node:net";
import { type ClientOptions, WebSocket as WsClient } from "ws";
import type { WebSocketServer } from "../../src/websocket/server.js";

/** Rejects when `promise` has not settled after `ms` (so a broken server fails, not hangs). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition()` holds, checking every 5 ms; rejects after `ms`. */
export function eventually(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (condition()) resolve();
        else timer = setTimeout(check, 5);
      };
      let timer: NodeJS.Timeout | undefined;
      check();
      // The bounded wait below rejects; this keeps the poll from outliving it.
      setTimeout(() => clearTimeout(timer), ms).unref();
    }),
    ms,
    what,
  );
}

/** Listens on 127.0.0.1, a free port; returns the port. */
export function listen(server: HttpServer | HttpsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

/** Closes an http server and every connection it still has. */
export function closeHttp(server: HttpServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Closes a WebSocketServer (ignoring "not running"). */
export function closeWss(wss: WebSocketServer): Promise<void> {
  return withTimeout(new Promise((resolve) => wss.close(() => resolve())), 10_000, "wss.close");
}

/** The port a port-mode server listens on, once it listens. */
export async function wssPort(wss: WebSocketServer): Promise<number> {
  if (!wss.address()) {
    await withTimeout(
      new Promise((resolve) => wss.once("listening", () => resolve(null))),
      5000,
      "listening",
    );
  }
  const address = wss.address();
  if (!address || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** Opens a ws client and waits for `open`; rejects with the HTTP status when refused. */
export function openClient(
  url: string,
  protocols?: string | string[],
  options?: ClientOptions,
): Promise<WsClient> {
  const client = new WsClient(url, protocols, options);
  return withTimeout(
    new Promise((resolve, reject) => {
      client.once("open", () => resolve(client));
      client.once("error", reject);
      client.once("unexpected-response", (_request, response) => {
        reject(new Error(`unexpected response ${response.statusCode}`));
        response.resume();
        client.terminate();
      });
    }),
    5000,
    `open ${url}`,
  );
}

/** What a refused ws client saw. */
export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Connects a ws client that must be refused; resolves with the HTTP answer. */
export function refusal(
  url: string,
  protocols?: string | string[],
  options?: ClientOptions,
): Promise<Refusal> {
  const client = new WsClient(url, protocols, options);
  return withTimeout(
    new Promise((resolve, reject) => {
      client.once("open", () => {
        client.terminate();
        reject(new Error("connection was accepted"));
      });
      client.once("error", reject);
      client.once("unexpected-response", (_request, response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
          client.terminate();
        });
      });
    }),
    5000,
    `refusal of ${url}`,
  );
}

/** Resolves with the code and reason of a ws client's `close` event. */
export function closed(client: WsClient, ms = 5000): Promise<{ code: number; reason: string }> {
  if (client.readyState === WsClient.CLOSED) {
    return Promise.reject(new Error("already closed: listen before it closes"));
  }
  return withTimeout(
    new Promise((resolve) => {
      client.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    }),
    ms,
    "client close",
  );
}

/** Sends `text` and resolves with the next message, as text. */
export function roundTrip(client: WsClient, text: string | Buffer): Promise<string> {
  return withTimeout(
    new Promise((resolve) => {
      client.once("message", (data) => resolve(String(data)));
      client.send(text);
    }),
    5000,
    "round trip",
  );
}

/** A valid upgrade request head with optional replaced or removed (undefined) headers. */
export function upgradeRequest(
  port: number,
  options: { path?: string; method?: string; headers?: Record<string, string | undefined> } = {},
): string {
  const headers: Record<string, string | undefined> = {
    host: `127.0.0.1:${port}`,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": randomBytes(16).toString("base64"),
    "sec-websocket-version": "13",
    ...options.headers,
  };
  const lines = [`${options.method ?? "GET"} ${options.path ?? "/"} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) lines.push(`${name}: ${value}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** The Sec-WebSocket-Accept for `key`, computed here independently of the code under test. */
export function acceptFor(key: string): string {
  return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
}

/** An HTTP response read off a raw socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseResponse(text: string): RawResponse {
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end);
  const lines = head.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: end === -1 ? "" : text.slice(end + 4) };
}

/** Sends raw bytes and collects everything until the server ends the connection. */
export function rawExchange(port: number, data: string | Buffer, ms = 5000): Promise<RawResponse> {
  const socket = connect({ host: "127.0.0.1", port });
  const chunks: Buffer[] = [];
  return withTimeout(
    new Promise<RawResponse>((resolve) => {
      socket.on("connect", () => socket.write(data));
      const finish = (): void => resolve(parseResponse(Buffer.concat(chunks).toString("latin1")));
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        // A keep-alive answer (plain HTTP) is complete once Content-Length bytes of body are in.
        const text = Buffer.concat(chunks).toString("latin1");
        const response = parseResponse(text);
        const length = Number(response.headers["content-length"]);
        const end = text.indexOf("\r\n\r\n");
        if (
          end !== -1 &&
          Number.isInteger(length) &&
          Buffer.byteLength(response.body, "latin1") >= length
        ) {
          finish();
        }
      });
      socket.on("error", () => {});
      socket.on("close", finish);
    }),
    ms,
    "raw exchange",
  ).finally(() => socket.destroy());
}

/** One server frame (unmasked), as read by {@link RawPeer}. */
export interface Frame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client on a bare TCP socket that answers nothing unless told: no pongs, no close
 * replies. Reads the 101 response, then server frames.
 */
export class RawPeer {
  readonly frames: Frame[] = [];
  response: RawResponse | undefined;
  ended = false;
  /** Set when the reader gave up on the stream. */
  error: string | undefined;
  #buffer = Buffer.alloc(0);
  #upgraded = false;
  #wake: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.ended = true;
      this.#notify();
    });
  }

  /** Connects and sends `request` (a full upgrade request, maybe followed by frames). */
  static async connect(port: number, request: string | Buffer): Promise<RawPeer> {
    const socket = connect({ host: "127.0.0.1", port });
    await withTimeout(
      new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      5000,
      "tcp connect",
    );
    const peer = new RawPeer(socket);
    socket.write(request);
    return peer;
  }

  /** Connects with a valid upgrade request and waits for the 101. */
  static async upgrade(port: number, path = "/"): Promise<RawPeer> {
    const peer = await RawPeer.connect(port, upgradeRequest(port, { path }));
    await peer.until(() => peer.response !== undefined || peer.ended, "101 response");
    if (peer.response?.status !== 101) throw new Error(`not upgraded: ${peer.response?.status}`);
    return peer;
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = [];
    for (const wake of waiting) wake();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (!this.#upgraded) {
      const end = this.#buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      this.response = parseResponse(this.#buffer.subarray(0, end + 4).toString("latin1"));
      this.#buffer = this.#buffer.subarray(end + 4);
      this.#upgraded = this.response.status === 101;
      if (!this.#upgraded) {
        this.#notify();
        return;
      }
    }
    // Server frames are unmasked; this reader needs only the 7- and 16-bit length forms.
    while (this.#buffer.length >= 2) {
      const short = this.#buffer[1] & 0x7f;
      const headerLength = short === 126 ? 4 : 2;
      if (short === 127) {
        this.error = "a frame with a 64-bit length (this reader stops there)";
        this.socket.destroy();
        return;
      }
      if (this.#buffer.length < headerLength) break;
      const length = short === 126 ? this.#buffer.readUInt16BE(2) : short;
      if (this.#buffer.length < headerLength + length) break;
      this.frames.push({
        opcode: this.#buffer[0] & 0x0f,
        payload: Buffer.from(this.#buffer.subarray(headerLength, headerLength + length)),
      });
      this.#buffer = this.#buffer.subarray(headerLength + length);
    }
    this.#notify();
  }

  /** Waits until `condition` holds (checked on each arrival), at most `ms`. */
  until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
    if (condition()) return Promise.resolve();
    return withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (condition()) resolve();
          else this.#wake.push(check);
        };
        this.#wake.push(check);
      }),
      ms,
      what,
    );
  }

  /** Sends a masked frame (clients must mask). */
  send(opcode: number, payload: Buffer | string = Buffer.alloc(0)): void {
    this.socket.write(maskedFrame(opcode, payload));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A client frame (FIN set, masked) with a payload under 126 bytes. */
export function maskedFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  if (data.length > 125) throw new Error("maskedFrame: payload too long for this helper");
  const key = randomBytes(4);
  const frame = Buffer.alloc(6 + data.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | data.length;
  key.copy(frame, 2);
  for (let i = 0; i < data.length; i++) frame[6 + i] = data[i] ^ key[i & 3];
  return frame;
}
