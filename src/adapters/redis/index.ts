/**
 * `duplexio/adapters/redis`: many duplexio servers act as one through Redis Pub/Sub, a drop-in
 * for `@socket.io/redis-adapter` 8 (same import shape, same wire format: socket.io nodes and
 * `@socket.io/redis-emitter` may share the cluster).
 *
 * ```ts
 * import { createClient } from "redis"; // or: import { Redis } from "ioredis";
 * import { Server } from "duplexio";
 * import { createAdapter } from "duplexio/adapters/redis";
 *
 * const pubClient = createClient({ url: "redis://localhost:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server({ adapter: createAdapter(pubClient, subClient) });
 * ```
 * @module
 */
import type { AdapterNamespace } from "../../server/adapter.js";
import {
  type ClusterAdapterOptions,
  resolveClusterAdapterOptions,
} from "../core/cluster-adapter.js";
import type { AdapterLogger } from "../core/transport-link.js";
import { RedisAdapter } from "./pubsub-adapter.js";
import { RedisConnection, redisLink } from "./redis-connection.js";
import { ShardedRedisAdapter, type ShardedSubscriptionMode } from "./sharded-adapter.js";

export type { ClusterAdapterOptions } from "../core/cluster-adapter.js";
export type { ClusterAnswer } from "../core/pending-requests.js";
export type { AdapterLogger } from "../core/transport-link.js";
export { RedisAdapter, ShardedRedisAdapter, type ShardedSubscriptionMode };

/** Options of {@link createAdapter}. */
export interface RedisAdapterOptions extends ClusterAdapterOptions {
  /** The prefix of the channels (default "socket.io", as `@socket.io/redis-adapter`'s). */
  key?: string;
  /**
   * Accepted for compatibility with `@socket.io/redis-adapter`: duplexio always answers on the
   * requesting node's own channel, which its nodes and socket.io's both listen to.
   */
  publishOnSpecificResponseChannel?: boolean;
  /** Where the adapter reports Redis going away and coming back (default `console`). */
  logger?: AdapterLogger;
}

/** An adapter factory, for `new Server({ adapter })` or `io.adapter(...)`. */
export type RedisAdapterFactory = (nsp: AdapterNamespace) => RedisAdapter;

/**
 * An adapter over Redis Pub/Sub. `pubClient` publishes and runs commands; `subClient` is put in
 * subscriber mode (pass a duplicate). Both may be `redis` or `ioredis` clients, standalone or
 * cluster; they stay the caller's (duplexio adds an `error` listener to each).
 *
 * @throws TypeError for a client of neither library, or an invalid option.
 */
export function createAdapter(
  pubClient: unknown,
  subClient: unknown,
  opts: RedisAdapterOptions = {},
): RedisAdapterFactory {
  const pub = RedisConnection.of(pubClient);
  const sub = RedisConnection.of(subClient);
  const options = resolveClusterAdapterOptions(opts);
  const { link } = redisLink([pub, sub], opts.logger);
  const prefix = opts.key ?? "socket.io";
  return (nsp) => new RedisAdapter(nsp, pub, sub, prefix, link, options);
}

/** Options of {@link createShardedAdapter}. */
export interface ShardedRedisAdapterOptions extends ClusterAdapterOptions {
  /** The prefix of the channels (default "socket.io"). */
  channelPrefix?: string;
  /**
   * Which rooms get a channel of their own (default "dynamic"): "static" none (every broadcast
   * goes on the namespace's channel), "dynamic" the rooms that are not a socket's own,
   * "dynamic-private" every room.
   */
  subscriptionMode?: ShardedSubscriptionMode;
  /** Where the adapter reports Redis going away and coming back (default `console`). */
  logger?: AdapterLogger;
}

/**
 * An adapter over sharded Redis Pub/Sub (Redis 7: SPUBLISH/SSUBSCRIBE, each channel on one shard
 * of a Redis Cluster), wire-compatible with `@socket.io/redis-adapter`'s `createShardedAdapter`.
 *
 * @throws TypeError for a client of neither library, an ioredis Cluster `subClient` without
 * `shardedSubscribers: true`, or an invalid option.
 */
export function createShardedAdapter(
  pubClient: unknown,
  subClient: unknown,
  opts: ShardedRedisAdapterOptions = {},
): (nsp: AdapterNamespace) => ShardedRedisAdapter {
  const pub = RedisConnection.of(pubClient);
  const sub = RedisConnection.of(subClient);
  if (!sub.canSubscribeSharded) {
    throw new TypeError(
      "sharded Pub/Sub with an ioredis Cluster needs its option shardedSubscribers: true",
    );
  }
  const options = resolveClusterAdapterOptions(opts);
  const { link } = redisLink([pub, sub], opts.logger);
  const prefix = opts.channelPrefix ?? "socket.io";
  const mode = opts.subscriptionMode ?? "dynamic";
  if (mode !== "static" && mode !== "dynamic" && mode !== "dynamic-private") {
    throw new TypeError(`invalid subscriptionMode "${String(mode)}"`);
  }
  return (nsp) => new ShardedRedisAdapter(nsp, pub, sub, prefix, mode, link, options);
}
