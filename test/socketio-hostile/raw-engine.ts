/**
 * Raw Engine.IO v4 access to a Socket.IO server, below any client library: HTTP long-polling
 * requests and WebSocket connections (through the `ws` package, a neutral WebSocket client) whose
 * every byte the test chooses.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import WebSocket from "ws";
import { withTimeout } from "../helpers/timing.js";

/** What the server answered to one HTTP request. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request to `url + path`. The body is written in one piece; if the server answers and
 * closes before reading it all (a 413), the answer is still returned.
 */
export function rawRequest(
  url: string,
  path: string,
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
  ms = 10000,
): Promise<RawResponse> {
  return withTimeout(
    new Promise<RawResponse>((resolve, reject) => {
      const req = request(`${url}${path}`, {
        method: options.method ?? "GET",
        headers: { connection: "close", ...options.headers },
      });
      req.once("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.once("error", reject);
      });
      // A reset while the body is still being written may come before or after the answer.
      req.once("error", reject);
      req.end(options.body);
    }),
    ms,
    `${options.method ?? "GET"} ${path}`,
  );
}

/** The Engine.IO path of the Socket.IO server with `query` appended (EIO=4 unless given). */
export function enginePath(query: Record<string, string>): string {
  return `/socket.io/?${new URLSearchParams({ EIO: "4", ...query })}`;
}

/** The Engine.IO error table: the JSON body of a 400 (403 for code 4) and `connection_error`. */
export const ENGINE_ERRORS = {
  transportUnknown: { code: 0, message: "Transport unknown" },
  sessionIdUnknown: { code: 1, message: "Session ID unknown" },
  badHandshakeMethod: { code: 2, message: "Bad handshake method" },
  badRequest: { code: 3, message: "Bad request" },
  forbidden: { code: 4, message: "Forbidden" },
  unsupportedProtocolVersion: { code: 5, message: "Unsupported protocol version" },
};

/**
 * Asserts that the polling session `sid` ends: polls until the server answers "Session ID
 * unknown". An open session answers each poll within one ping interval, so a few polls suffice.
 */
export async function expectSessionEnds(url: string, sid: string): Promise<void> {
  const answers: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const res = await rawRequest(url, enginePath({ transport: "polling", sid }));
    if (res.status === 400) {
      assert.deepEqual(JSON.parse(res.body), ENGINE_ERRORS.sessionIdUnknown);
      return;
    }
    answers.push(`${res.status} ${JSON.stringify(res.body)}`);
  }
  assert.fail(`the session is still open; polls answered ${answers.join(", ")}`);
}

/** The handshake data of an Engine.IO open packet. */
export interface OpenPacket {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** Parses an open packet ("0" + JSON), failing the test with the text when it is not one. */
export function parseOpen(text: string): OpenPacket {
  if (!text.startsWith("0")) throw new Error(`not an Engine.IO open packet: ${text.slice(0, 200)}`);
  return JSON.parse(text.slice(1)) as OpenPacket;
}

/** A long-polling handshake; returns the new session's open packet. */
export async function pollingHandshake(url: string): Promise<OpenPacket> {
  const res = await rawRequest(url, enginePath({ transport: "polling" }));
  if (res.status !== 200) throw new Error(`handshake answered ${res.status}: ${res.body}`);
  return parseOpen(res.body);
}

/** Messages received on a raw WebSocket, awaited one by one; plus its close. */
export class RawWebSocket {
  private readonly queued: Array<string | Buffer> = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.queued.push(isBinary ? data : data.toString("utf8"));
      this.waiter?.();
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code: number, reason: Buffer) => {
        this.waiter?.();
        resolve({ code, reason: reason.toString() });
      }),
    );
    // A reset by the server is one of the outcomes under test, not a test failure.
    ws.on("error", () => undefined);
  }

  /** Opens `ws://.../socket.io/?EIO=4&transport=websocket` (plus `query`). */
  static async open(url: string, query: Record<string, string> = {}): Promise<RawWebSocket> {
    const ws = new WebSocket(
      `${url.replace(/^http/, "ws")}${enginePath({ transport: "websocket", ...query })}`,
    );
    // Listening from the start: the open packet may arrive in the same read as the 101.
    const raw = new RawWebSocket(ws);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      }),
      10000,
      "the raw WebSocket to open",
    );
    return raw;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The oldest message not taken yet, skipping Engine.IO pings (answered with pongs). */
  async next(ms = 5000): Promise<string | Buffer> {
    const deadline = Date.now() + ms;
    for (;;) {
      const message = this.queued.shift();
      if (message === "2") {
        this.ws.send("3");
        continue;
      }
      if (message !== undefined) return message;
      if (this.ws.readyState >= WebSocket.CLOSING) throw new Error("the connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms`);
      await withTimeout(
        new Promise<void>((resolve) => {
          this.waiter = resolve;
        }),
        left,
        "the next message",
      ).finally(() => {
        this.waiter = undefined;
      });
    }
  }

  /** Every message received and not taken yet, pings left out (for a closed connection). */
  takeAll(): Array<string | Buffer> {
    return this.queued.splice(0).filter((message) => message !== "2");
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Waits for the connection to close (by either side), up to `ms`. */
  waitForClose(ms = 5000): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, ms, "the server to close the connection");
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/**
 * A raw WebSocket with the Engine.IO handshake read and the main namespace connected: what the
 * server sent back for "40" is checked, and the Socket.IO socket id returned.
 */
export async function rawSocketIo(url: string): Promise<{ raw: RawWebSocket; id: string }> {
  const raw = await RawWebSocket.open(url);
  parseOpen(String(await raw.next()));
  raw.send("40");
  const connected = String(await raw.next());
  if (!connected.startsWith("40{")) {
    raw.destroy();
    throw new Error(`expected a CONNECT answer, got ${connected}`);
  }
  return { raw, id: (JSON.parse(connected.slice(2)) as { sid: string }).sid };
}
