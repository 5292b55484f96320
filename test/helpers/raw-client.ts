/**
 * A WebSocket client over a bare TCP socket, for tests that must send what no real client sends:
 * malformed handshakes, bad frames, byte-by-byte splits. It records everything it receives so a
 * test can assert the exact close code and when it arrived.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import {
  encodeFrame,
  FrameReader,
  type FrameSpec,
  Op,
  type ParsedFrame,
  parseClose,
} from "./frames.js";
import { delay, withTimeout } from "./timing.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept value for a key (RFC 6455 section 4.2.2), computed independently. */
export function acceptKeyFor(key: string): string {
  return createHash("sha1")
    .update(key + GUID)
    .digest("base64");
}

/** A parsed HTTP response head. Header names are lower-case; repeated headers are joined by ", ". */
export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
  raw: string;
}

/** How the connection ended, as far as this client saw it. */
export interface CloseOutcome {
  /** The code of the first close frame received (undefined: close frame with empty payload). */
  code: number | undefined;
  reason: Buffer;
  /** A close frame was received at all. */
  gotCloseFrame: boolean;
}

/** Options of {@link RawClient.connect}. */
export interface RawConnectOptions {
  path?: string;
  /** Extra or replacing request headers (lower-case names replace the defaults). */
  headers?: Record<string, string | undefined>;
  /** Milliseconds to wait for the response head. */
  timeoutMs?: number;
}

/** Splits a response head into status and headers. */
export function parseResponseHead(raw: string): ResponseHead {
  const lines = raw.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status, headers, raw };
}

/**
 * A connected raw socket. `frames` grows as frames arrive; `ended` flips when the peer closes
 * TCP (or the socket errors). Create with {@link RawClient.open} (TCP only) or
 * {@link RawClient.connect} (TCP plus a WebSocket handshake).
 */
export class RawClient {
  readonly frames: ParsedFrame[] = [];
  /** Bytes received that were not read as a response head yet (before the handshake). */
  private headBuffer = Buffer.alloc(0);
  private handshakeDone = false;
  private readonly reader: FrameReader;
  private waiters: Array<() => void> = [];
  ended = false;
  /** Milliseconds since the epoch when the first close frame arrived. */
  closeFrameAt: number | undefined;
  /** The response head, once received. */
  response: ResponseHead | undefined;
  /** All bytes received before the handshake completed (for HTTP error responses). */
  rawBeforeHandshake = "";

  private constructor(readonly socket: Socket) {
    this.reader = new FrameReader((frame) => {
      this.frames.push(frame);
      if (frame.opcode === Op.Close && this.closeFrameAt === undefined) {
        this.closeFrameAt = Date.now();
      }
      this.wake();
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const finish = () => {
      this.ended = true;
      this.wake();
    };
    socket.on("end", finish);
    socket.on("close", finish);
    // A reset by the peer is one of the outcomes tests look at, never a crash of the test.
    socket.on("error", finish);
  }

  /** Opens a TCP connection and nothing else. */
  static open(port: number, timeoutMs = 5000): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port });
    return withTimeout(
      new Promise<RawClient>((resolve, reject) => {
        socket.once("connect", () => resolve(new RawClient(socket)));
        socket.once("error", reject);
      }),
      timeoutMs,
      "TCP connect",
    );
  }

  /** Opens a TCP connection, sends an upgrade request and waits for the response head. */
  static async connect(port: number, options: RawConnectOptions = {}): Promise<RawClient> {
    const client = await RawClient.open(port);
    const key = randomBytes(16).toString("base64");
    const headers: Record<string, string | undefined> = {
      host: `127.0.0.1:${port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": key,
      "sec-websocket-version": "13",
      ...options.headers,
    };
    const lines = [`GET ${options.path ?? "/"} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) lines.push(`${name}: ${value}`);
    }
    client.write(`${lines.join("\r\n")}\r\n\r\n`);
    await client.waitForResponse(options.timeoutMs ?? 5000);
    return client;
  }

  /** Waits until a full response head arrived (or the connection ended). */
  async waitForResponse(timeoutMs: number): Promise<ResponseHead | undefined> {
    await this.waitFor(() => this.response !== undefined || this.ended, timeoutMs, "response");
    return this.response;
  }

  private onData(chunk: Buffer): void {
    if (this.handshakeDone) {
      this.reader.push(chunk);
      return;
    }
    this.headBuffer = Buffer.concat([this.headBuffer, chunk]);
    this.rawBeforeHandshake = this.headBuffer.toString("latin1");
    const end = this.headBuffer.indexOf("\r\n\r\n");
    if (end >= 0) {
      this.response = parseResponseHead(this.headBuffer.subarray(0, end).toString("latin1"));
      if (this.response.status === 101) {
        this.handshakeDone = true;
        const rest = this.headBuffer.subarray(end + 4);
        this.headBuffer = Buffer.alloc(0);
        if (rest.length > 0) this.reader.push(rest);
      }
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when `condition` holds, re-checked on every received byte; rejects after `ms`. */
  waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (condition()) resolve();
          else this.waiters.push(check);
        };
        this.waiters.push(check);
      }),
      ms,
      `waiting for ${what}`,
    );
  }

  /** Writes raw bytes; a write after the peer hung up is ignored (the outcome is checked later). */
  write(data: Buffer | string): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Sends one frame, masked unless the spec says otherwise. */
  sendFrame(spec: FrameSpec): Promise<void> {
    return this.write(encodeFrame({ mask: true, ...spec }));
  }

  /** Writes `data` one byte per write with a pause between writes, stopping once the peer closed. */
  async writeSlowly(data: Buffer, pauseMs = 1): Promise<number> {
    let written = 0;
    for (const byte of data) {
      if (this.ended || this.closeFrameAt !== undefined) break;
      await this.write(Buffer.of(byte));
      written++;
      await delay(pauseMs);
    }
    return written;
  }

  /** The first frame received with `opcode`, waiting up to `ms` for it. */
  async nextFrameOf(opcode: number, ms = 5000): Promise<ParsedFrame> {
    let found: ParsedFrame | undefined;
    await this.waitFor(
      () => {
        found = this.frames.find((f) => f.opcode === opcode);
        return found !== undefined || this.ended;
      },
      ms,
      `a frame with opcode ${opcode}`,
    );
    if (!found) throw new Error(`connection ended without a frame with opcode ${opcode}`);
    this.frames.splice(this.frames.indexOf(found), 1);
    return found;
  }

  /** Waits for a close frame from the peer (or the end of TCP) and reports it. */
  async waitForClose(ms = 5000): Promise<CloseOutcome> {
    await this.waitFor(
      () => this.closeFrameAt !== undefined || this.ended,
      ms,
      "a close frame or the end of the connection",
    );
    const frame = this.frames.find((f) => f.opcode === Op.Close);
    if (!frame) return { code: undefined, reason: Buffer.alloc(0), gotCloseFrame: false };
    return { ...parseClose(frame.payload), gotCloseFrame: true };
  }

  /** Waits until the peer closed TCP. */
  waitForEnd(ms = 5000): Promise<void> {
    return this.waitFor(() => this.ended, ms, "the end of the connection");
  }

  /** Sends a text message and returns the text of the next text frame (the echo). */
  async echo(text: string, ms = 5000): Promise<string> {
    await this.sendFrame({ opcode: Op.Text, payload: text });
    const frame = await this.nextFrameOf(Op.Text, ms);
    return frame.payload.toString("utf8");
  }

  /** Destroys the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}
