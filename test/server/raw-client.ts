/**
 * A raw Engine.IO v4 WebSocket client (through the `ws` package) for what no Socket.IO client
 * library would send: malformed packets, missing CONNECT, unanswered pings.
 */
import WebSocket from "ws";
import { withTimeout } from "../helpers/timing.js";

/** One raw connection; text messages are strings, binary ones Buffers. */
export class RawClient {
  readonly ws: WebSocket;
  /** Answer the server's pings (set to false to provoke a ping timeout). */
  autoPong = true;
  readonly #queue: (string | Buffer)[] = [];
  readonly #waiters: ((message: string | Buffer) => void)[] = [];
  readonly closed: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("message", (data, isBinary) => {
      const message = isBinary ? (data as Buffer) : data.toString();
      if (message === "2" && this.autoPong) {
        ws.send("3");
        return;
      }
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
  }

  /** Opens a WebSocket session and reads the Engine.IO open packet. */
  static async open(port: number, path = "/socket.io/"): Promise<RawClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?EIO=4&transport=websocket`);
    ws.on("error", () => {
      // Reported through "close".
    });
    const client = new RawClient(ws);
    const open = await client.next();
    if (typeof open !== "string" || !open.startsWith("0{")) {
      throw new Error(`expected the open packet, got ${String(open)}`);
    }
    return client;
  }

  /** The next message (pings excluded while autoPong is on); rejects after `ms`. */
  next(ms = 5000): Promise<string | Buffer> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return withTimeout(
      new Promise((resolve) => this.#waiters.push(resolve)),
      ms,
      "waiting for a message",
    );
  }

  /** Sends one Engine.IO message (text or binary). */
  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Sends a Socket.IO CONNECT for `nsp` and returns the server's answer. */
  async connect(nsp = "/", auth?: Record<string, unknown>): Promise<string> {
    const prefix = nsp === "/" ? "" : `${nsp},`;
    this.send(`40${prefix}${auth === undefined ? "" : JSON.stringify(auth)}`);
    return String(await this.next());
  }

  /** The WebSocket close code, once the server closed the connection; rejects after `ms`. */
  waitClosed(ms = 5000): Promise<number> {
    return withTimeout(this.closed, ms, "waiting for the connection to close");
  }

  close(): void {
    this.ws.terminate();
  }
}
