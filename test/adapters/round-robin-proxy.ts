/**
 * A load balancer without stickiness, for the session forwarding tests: every HTTP request, and
 * every WebSocket upgrade, goes to the next node in turn (a new connection to the node each time,
 * whatever the client's keep-alive). It records, from the handshake answers, which node opened
 * each session, so that a test can count the requests and upgrades that landed elsewhere, and it
 * counts "Session ID unknown" answers.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";

export interface ProxyStats {
  requests: number;
  /** Requests of a session that landed on a node other than its owner. */
  forwarded: number;
  upgrades: number;
  /** Upgrades that landed on a node other than the session's owner. */
  bridged: number;
  unknownSid: number;
  /** Answers with another status than 200 (and 101 for upgrades), by status. */
  errors: Record<number, number>;
}

export class RoundRobinProxy {
  readonly #server: Server;
  readonly #targets: { port: number }[];
  #next = 0;
  /** Session id to the index of the node that opened it. */
  readonly owners = new Map<string, number>();
  readonly stats: ProxyStats = {
    requests: 0,
    forwarded: 0,
    upgrades: 0,
    bridged: 0,
    unknownSid: 0,
    errors: {},
  };
  readonly #sockets = new Set<Socket>();
  /** HTTP requests not answered yet. */
  pending = 0;

  private constructor(targets: { port: number }[]) {
    this.#targets = targets;
    this.#server = createServer((req, res) => this.#onRequest(req, res));
    this.#server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(targets: { port: number }[]): Promise<RoundRobinProxy> {
    const proxy = new RoundRobinProxy(targets);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Nodes taken out of the rotation (as a load balancer's health checks would). */
  readonly #removed = new Set<number>();

  /** Stops sending to node `index`. */
  remove(index: number): void {
    this.#removed.add(index);
  }

  #pick(): number {
    let index = this.#next;
    for (let tries = 0; tries < this.#targets.length && this.#removed.has(index); tries++) {
      index = (index + 1) % this.#targets.length;
    }
    this.#next = (index + 1) % this.#targets.length;
    return index;
  }

  #sidOf(url: string | undefined): string | undefined {
    return new URL(url ?? "/", "http://x").searchParams.get("sid") ?? undefined;
  }

  #onRequest(req: IncomingMessage, res: import("node:http").ServerResponse): void {
    const index = this.#pick();
    this.stats.requests++;
    this.pending++;
    res.once("close", () => this.pending--);
    const sid = this.#sidOf(req.url);
    if (sid !== undefined && this.owners.has(sid) && this.owners.get(sid) !== index) {
      this.stats.forwarded++;
    }
    const upstream = httpRequest(
      {
        host: "127.0.0.1",
        port: this.#targets[index]!.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        const status = answer.statusCode ?? 0;
        if (status !== 200) this.stats.errors[status] = (this.stats.errors[status] ?? 0) + 1;
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          const text = body.toString("latin1");
          if (text.includes("Session ID unknown")) this.stats.unknownSid++;
          if (sid === undefined && status === 200) {
            // A handshake: the open packet names the session.
            const match = /"sid":"([^"]+)"/.exec(text);
            if (match) this.owners.set(match[1]!, index);
          }
          res.writeHead(status, answer.rawHeaders);
          res.end(body);
        });
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }

  #onUpgrade(req: IncomingMessage, client: Socket, head: Buffer): void {
    const index = this.#pick();
    this.stats.upgrades++;
    const sid = this.#sidOf(req.url);
    if (sid !== undefined && this.owners.has(sid) && this.owners.get(sid) !== index) {
      this.stats.bridged++;
    }
    const upstream = connect(this.#targets[index]!.port, "127.0.0.1");
    this.#sockets.add(upstream);
    upstream.once("close", () => this.#sockets.delete(upstream));
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    const end = (): void => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", end);
    client.on("error", end);
    upstream.on("close", end);
    client.on("close", end);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
