/**
 * The demo as a cluster: with `--redis URL`, several demo servers share rooms, presence and
 * messages through the Redis Streams adapter (which also recovers a client's session on another
 * server), and tell each other their figures so that every dashboard lists the cluster's nodes.
 *
 * The `redis` client package is loaded only when a Redis URL is given.
 * @module
 */

import { randomBytes } from "node:crypto";
import type { ClusterAdapter } from "../adapters/core/cluster-adapter.js";
import { createAdapter } from "../adapters/redis-streams/index.js";
import type { AdapterConstructor } from "../server/index.js";
import type { DemoIo } from "./chat.js";
import type { ClusterSnapshot, NodeSummary } from "./events.js";

/** Most other servers listed: a cluster bigger than this shows its most recent ones. */
const MAX_PEERS = 64;
/** Milliseconds to reach Redis at start-up before giving up with an error. */
const CONNECT_TIMEOUT_MS = 5000;

/** A connection to Redis for the demo's adapter. */
export interface DemoRedis {
  readonly adapter: AdapterConstructor;
  /** Closes the Redis client (after the server). */
  close(): Promise<void>;
}

/** Redis cannot serve the demo: node-redis is not installed, or the server cannot be reached. */
export class DemoRedisError extends Error {
  override name = "DemoRedisError";
}

/**
 * node-redis, which only the demo's `--redis` needs: an optional peer dependency, so a library
 * user who never shares the demo through Redis does not install it.
 *
 * @throws DemoRedisError naming the package to install when it is absent.
 */
async function importRedis(): Promise<typeof import("redis")> {
  try {
    return await import("redis");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new DemoRedisError('--redis needs the "redis" package (node-redis): npm install redis');
  }
}

/**
 * Connects to Redis at `url` and makes the Streams adapter.
 *
 * @throws DemoRedisError when node-redis is absent or Redis cannot be reached within a few seconds.
 */
export async function connectDemoRedis(url: string): Promise<DemoRedis> {
  const { createClient } = await importRedis();
  const client = createClient({ url, socket: { connectTimeout: CONNECT_TIMEOUT_MS } });
  // Errors are reported by the adapter (once per outage); until it exists they are the
  // connect() rejection's.
  client.on("error", () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new DemoRedisError(`cannot reach Redis at ${url}`)),
          CONNECT_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    client.destroy();
    throw error instanceof DemoRedisError
      ? error
      : new DemoRedisError(
          `cannot reach Redis at ${url}: ${error instanceof Error ? error.message : error}`,
        );
  } finally {
    clearTimeout(timer);
  }
  return {
    adapter: createAdapter(client),
    close: async () => {
      client.destroy();
    },
  };
}

/** The other servers' latest summaries, and this one's. */
export class ClusterView {
  /** This process's id among the servers. */
  readonly id = randomBytes(6).toString("hex");
  readonly #io: DemoIo;
  readonly #clustered: boolean;
  readonly #adapterName: "redis-streams" | "cluster";
  readonly #expireAfterMs: number;
  readonly #peers = new Map<string, { summary: NodeSummary; heardAt: number }>();

  /**
   * @param adapter - the cross-server adapter in use, if any
   * @param intervalMs - how often servers announce themselves: one missed 3 times is dropped
   */
  constructor(io: DemoIo, adapter: "redis-streams" | "cluster" | undefined, intervalMs: number) {
    this.#io = io;
    const clustered = adapter !== undefined;
    this.#clustered = clustered;
    this.#adapterName = adapter ?? "redis-streams";
    this.#expireAfterMs = 3 * intervalMs;
    if (clustered) {
      io.on("node", (summary: unknown) => this.#heard(summary));
    }
  }

  /** Tells the other servers this one's figures (nothing to do for a single server). */
  announce(summary: NodeSummary): void {
    if (this.#clustered) this.#io.serverSideEmit("node", summary);
  }

  /** The cluster as this server sees it, `self` first. */
  snapshot(self: NodeSummary): ClusterSnapshot {
    const adapter = this.#io.of("/").adapter as Partial<ClusterAdapter>;
    if (!this.#clustered || adapter.transportUp === undefined) {
      return {
        adapter: "in-memory",
        state: "single",
        nodes: [self],
        crossNode: { published: 0, received: 0, dropped: 0 },
      };
    }
    const now = performance.now();
    for (const [id, peer] of this.#peers) {
      if (now - peer.heardAt > this.#expireAfterMs) this.#peers.delete(id);
    }
    const crossNode = { published: 0, received: 0, dropped: 0 };
    for (const nsp of this.#io._nsps.values()) {
      const stats = (nsp.adapter as Partial<ClusterAdapter>).stats;
      if (stats === undefined) continue;
      crossNode.published += stats.published;
      crossNode.received += stats.received;
      crossNode.dropped += stats.dropped;
    }
    return {
      adapter: this.#adapterName,
      state: adapter.transportUp ? "up" : "down",
      nodes: [self, ...[...this.#peers.values()].map((peer) => peer.summary)],
      crossNode,
    };
  }

  #heard(value: unknown): void {
    const summary = checkSummary(value);
    if (summary === undefined || summary.id === this.id) return;
    this.#peers.delete(summary.id);
    if (this.#peers.size >= MAX_PEERS) {
      const oldest = this.#peers.keys().next();
      if (!oldest.done) this.#peers.delete(oldest.value);
    }
    this.#peers.set(summary.id, { summary, heardAt: performance.now() });
  }
}

/** A summary from another server, checked (anything else on Redis may look like one). */
function checkSummary(value: unknown): NodeSummary | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { id, url, clients, messagesOutPerSecond, rss } = value as Record<string, unknown>;
  if (typeof id !== "string" || id.length > 32 || typeof url !== "string" || url.length > 200) {
    return undefined;
  }
  const numbers = [clients, messagesOutPerSecond, rss];
  if (!numbers.every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0)) {
    return undefined;
  }
  return {
    id,
    url,
    clients: clients as number,
    messagesOutPerSecond: messagesOutPerSecond as number,
    rss: rss as number,
  };
}
