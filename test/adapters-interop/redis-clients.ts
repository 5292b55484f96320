/**
 * Redis clients for the adapters, from both libraries the adapter packages accept: `redis`
 * (node-redis) and `ioredis`. Each has an `error` listener (a Redis that goes away must fail a
 * test, not crash the run) and a bounded `close`, which also ends the duplicates adapters made of
 * it and left open (an adapter that leaks one must fail its test, not hang the whole file).
 */
import { Redis } from "ioredis";
import { createClient } from "redis";
import { withTimeout } from "../helpers/timing.js";

export type RedisLibrary = "node-redis" | "ioredis";

/** A connected client and how to end it (and its duplicates). */
export interface RedisHandle<T = unknown> {
  client: T;
  close(): Promise<void>;
}

/** A node-redis client as `createClient({ url })` makes it. */
type NodeRedis = ReturnType<typeof newNodeRedis>;

function newNodeRedis(url: string) {
  return createClient({ url });
}

/** What is used of a node-redis client to end it. */
interface Closable {
  isOpen: boolean;
  close(): Promise<unknown>;
  destroy(): void;
}

/** Makes `client.duplicate()` record the copies it makes. */
function trackDuplicates<T>(client: object): T[] {
  const target = client as { duplicate: (...args: unknown[]) => T };
  const copies: T[] = [];
  const duplicate = target.duplicate.bind(client);
  target.duplicate = (...args: unknown[]) => {
    const copy = duplicate(...args);
    copies.push(copy);
    return copy;
  };
  return copies;
}

async function closeNodeRedis(client: Closable): Promise<void> {
  if (!client.isOpen) return;
  // Gracefully: commands still under way (an adapter unsubscribing as it closes) complete.
  await withTimeout(client.close(), 3000, "node-redis closing").catch(() => client.destroy());
}

/** A connected node-redis client. */
export async function nodeRedis(url: string): Promise<RedisHandle<NodeRedis>> {
  const client = newNodeRedis(url);
  client.on("error", () => undefined);
  const copies = trackDuplicates<Closable>(client);
  await withTimeout(client.connect(), 5000, "node-redis connecting");
  return {
    client,
    close: async () => {
      await closeNodeRedis(client);
      await Promise.all(copies.map(closeNodeRedis));
    },
  };
}

/**
 * A connected ioredis client; with `lazyConnect`, created so and connected by `connect()` (a
 * common set-up, whose duplicates do not connect by themselves).
 */
export async function ioredis(
  url: string,
  { lazyConnect = false }: { lazyConnect?: boolean } = {},
): Promise<RedisHandle<Redis>> {
  const client = new Redis(url, { lazyConnect, maxRetriesPerRequest: 1 });
  client.on("error", () => undefined);
  const copies = trackDuplicates<Redis>(client);
  if (lazyConnect) {
    await withTimeout(client.connect(), 5000, "ioredis connecting");
  } else if (client.status !== "ready") {
    await withTimeout(
      new Promise<void>((resolve) => client.once("ready", () => resolve())),
      5000,
      "ioredis connecting",
    );
  }
  return {
    client,
    close: async () => {
      client.disconnect();
      for (const copy of copies) copy.disconnect();
    },
  };
}

/** A connected client of `library`. */
export function redisClient(library: RedisLibrary, url: string): Promise<RedisHandle> {
  return library === "node-redis" ? nodeRedis(url) : ioredis(url);
}
