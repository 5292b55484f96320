/**
 * A TCP proxy on 127.0.0.1 between a client and a server, to make network faults on purpose:
 * freezing the current connections (nothing passes either way, nothing is closed: a peer that
 * went silent), and cutting a WebSocket connection when the client starts sending its n-th frame
 * (e.g. during the Engine.IO upgrade).
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { withTimeout } from "../../helpers/timing.js";

/** One client connection and its upstream twin. */
export interface ProxiedConnection {
  client: Socket;
  upstream: Socket;
  /** True once the first request turned out to be a WebSocket upgrade. */
  websocket: boolean;
  /** WebSocket frames the client sent through so far (after its upgrade request). */
  clientFrames: number;
  /** Frozen: bytes are swallowed both ways and closes are not passed on. */
  frozen: boolean;
}

/** A rule applied to each new connection. */
export interface CutRule {
  /** Destroy both sides when the client starts its `frame`-th WebSocket frame (1-based). */
  cutAtClientFrame: number;
  /** How many WebSocket connections the rule applies to (the first ones); default 1. */
  times?: number;
}

/** Whether an HTTP request head asks for a WebSocket upgrade. */
function isWebSocketUpgrade(head: string): boolean {
  return /^upgrade:[ \t]*websocket[ \t]*$/im.test(head);
}

/** Size of the (masked) client frame at the start of `bytes`, or undefined while incomplete. */
function frameSize(bytes: Buffer): number | undefined {
  if (bytes.length < 2) return undefined;
  const masked = (bytes[1]! & 0x80) !== 0;
  const short = bytes[1]! & 0x7f;
  let header = 2;
  let length = short;
  if (short === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    header = 4;
  } else if (short === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(bytes.readBigUInt64BE(2));
    header = 10;
  }
  return header + (masked ? 4 : 0) + length;
}

/** The proxy; every connection is forwarded to 127.0.0.1:`targetPort` unless a fault says not. */
export class TcpProxy {
  readonly connections: ProxiedConnection[] = [];
  /** WebSocket connections cut by the rule so far. */
  cuts = 0;
  #rule: CutRule | undefined;
  #freezing = false;

  private constructor(
    readonly server: Server,
    readonly port: number,
    readonly targetPort: number,
  ) {}

  /** Starts a proxy to `targetPort` on a free port. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no proxy port");
    proxy = new TcpProxy(server, address.port, targetPort);
    return proxy;
  }

  /** `http://127.0.0.1:<proxy port>` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Cuts the next WebSocket connection(s) as `rule` says. */
  cutWebSockets(rule: CutRule): void {
    this.#rule = { times: 1, ...rule };
  }

  /**
   * Freezes every open connection, and the ones opened from now on until {@link thaw} (a client
   * may be opening one right now, e.g. its next long-polling request).
   */
  freeze(): void {
    this.#freezing = true;
    for (const connection of this.connections) connection.frozen = true;
  }

  /** New connections pass normally again; the frozen ones stay frozen. */
  thaw(): void {
    this.#freezing = false;
  }

  /** Closes the proxy and destroys every connection, bounded. */
  async close(): Promise<void> {
    for (const { client, upstream } of this.connections) {
      client.destroy();
      upstream.destroy();
    }
    await withTimeout(
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      5000,
      "closing the proxy",
    );
  }

  private accept(client: Socket): void {
    const upstream = createConnection({ host: "127.0.0.1", port: this.targetPort });
    const connection: ProxiedConnection = {
      client,
      upstream,
      websocket: false,
      clientFrames: 0,
      frozen: this.#freezing,
    };
    this.connections.push(connection);
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", destroyBoth);
    upstream.on("error", destroyBoth);
    // A frozen connection keeps the other side open: the peer just goes silent.
    client.on("close", () => {
      if (!connection.frozen) upstream.destroy();
    });
    upstream.on("close", () => {
      if (!connection.frozen) client.destroy();
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!connection.frozen) client.write(chunk);
    });

    let head = "";
    let headDone = false;
    let cutAt: number | undefined;
    let pending: Buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      if (connection.frozen) return;
      if (!headDone) {
        head += chunk.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) {
          upstream.write(chunk);
          return;
        }
        headDone = true;
        connection.websocket = isWebSocketUpgrade(head.slice(0, end));
        const rule = this.#rule;
        if (connection.websocket && rule !== undefined && this.cuts < (rule.times ?? 1)) {
          cutAt = rule.cutAtClientFrame;
        }
        if (cutAt === undefined) {
          upstream.write(chunk);
          return;
        }
        // The request head goes through; what follows it in the chunk is frames.
        const headBytes = chunk.length - (Buffer.byteLength(head, "latin1") - (end + 4));
        upstream.write(chunk.subarray(0, headBytes));
        chunk = chunk.subarray(headBytes);
      }
      if (cutAt === undefined) {
        upstream.write(chunk);
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length === 0) return;
        if (connection.clientFrames + 1 === cutAt) {
          this.cuts++;
          cutAt = undefined;
          destroyBoth();
          return;
        }
        const size = frameSize(pending);
        if (size === undefined || pending.length < size) return;
        upstream.write(pending.subarray(0, size));
        pending = pending.subarray(size);
        connection.clientFrames++;
      }
    });
  }
}
