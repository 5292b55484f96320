/**
 * `duplexio/adapters/redis-streams`: many duplexio servers act as one through Redis Streams, with
 * connection state recovery across nodes; a drop-in for `@socket.io/redis-streams-adapter` (same
 * import shape, same wire format: socket.io nodes may share the cluster).
 *
 * ```ts
 * import { createClient } from "redis"; // or: import { Redis } from "ioredis";
 * import { Server } from "duplexio";
 * import { createAdapter } from "duplexio/adapters/redis-streams";
 *
 * const redisClient = createClient({ url: "redis://localhost:6379" });
 * await redisClient.connect();
 * const io = new Server({ adapter: createAdapter(redisClient), connectionStateRecovery: {} });
 * ```
 *
 * Needs Redis 6.2 or newer (GETDEL, exclusive XRANGE); `useShardedPubSub` needs Redis 7.
 * @module
 */
import type { AdapterNamespace } from "../../server/adapter.js";
import {
  type ClusterAdapterOptions,
  resolveClusterAdapterOptions,
} from "../core/cluster-adapter.js";
import type { AdapterLogger } from "../core/transport-link.js";
import { RedisConnection, redisLink } from "../redis/redis-connection.js";
import { StreamReaders } from "./stream-reader.js";
import { RedisStreamsAdapter, type StreamsContext } from "./streams-adapter.js";

export type { ClusterAdapterOptions } from "../core/cluster-adapter.js";
export type { ClusterAnswer } from "../core/pending-requests.js";
export type { AdapterLogger } from "../core/transport-link.js";
export { RedisStreamsAdapter };

/** Options of {@link createAdapter}, with `@socket.io/redis-streams-adapter`'s names and defaults. */
export interface RedisStreamsAdapterOptions extends ClusterAdapterOptions {
  /** The stream's name (default "socket.io"). */
  streamName?: string;
  /** Streams to spread the namespaces over (default 1; "<streamName>-<i>" when more). */
  streamCount?: number;
  /** The prefix of the Pub/Sub channels (default "socket.io"). */
  channelPrefix?: string;
  /** Use sharded Pub/Sub for requests and answers (default false; Redis 7). */
  useShardedPubSub?: boolean;
  /** Approximate length the stream is trimmed to (default 10000): how much can be recovered. */
  maxLen?: number;
  /** Entries read at once (default 100). */
  readCount?: number;
  /** Milliseconds a read waits for entries (default 5000). */
  blockTimeInMs?: number;
  /** The prefix of the session keys (default "sio:session:"). */
  sessionKeyPrefix?: string;
  /** Accepted for compatibility: duplexio writes JSON unless the data holds binary values. */
  onlyPlaintext?: boolean;
  /** Where the adapter reports Redis going away and coming back (default `console`). */
  logger?: AdapterLogger;
}

/** socket.io's hash for spreading namespaces over streams (kept as is for compatibility). */
function hashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) {
    hash = hash * 31 + text.charCodeAt(i);
    hash |= 0;
  }
  return hash;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive whole number`);
  }
  return value;
}

/**
 * An adapter over Redis Streams. `redisClient` (a `redis` or `ioredis` client, standalone or
 * cluster) publishes and runs commands; duplexio makes two duplicates of it (one reads the
 * stream, one subscribes), which it closes when the last namespace's adapter closes.
 *
 * @throws TypeError for a client of neither library, `useShardedPubSub` with an ioredis Cluster
 * without `shardedSubscribers: true`, or an invalid option.
 */
export function createAdapter(
  redisClient: unknown,
  opts: RedisStreamsAdapterOptions = {},
): (nsp: AdapterNamespace) => RedisStreamsAdapter {
  const redis = RedisConnection.of(redisClient);
  if (opts.useShardedPubSub === true && !redis.canSubscribeSharded) {
    throw new TypeError(
      "useShardedPubSub with an ioredis Cluster needs its option shardedSubscribers: true",
    );
  }
  const options = resolveClusterAdapterOptions({ ...opts });
  const streamName = opts.streamName ?? "socket.io";
  const streamCount = positiveInteger("streamCount", opts.streamCount, 1);
  const readCount = positiveInteger("readCount", opts.readCount, 100);
  const blockMs = positiveInteger("blockTimeInMs", opts.blockTimeInMs, 5000);
  const maxLen = positiveInteger("maxLen", opts.maxLen, 10_000);
  const streamOf = (nsp: string): string =>
    streamCount === 1 ? streamName : `${streamName}-${hashCode(nsp) % streamCount}`;

  const adapters = new Map<string, RedisStreamsAdapter>();
  const { link, add } = redisLink([redis], opts.logger);
  const subscriber = redis.duplicate();
  void subscriber.then(add, () => undefined);
  const readers = new StreamReaders(
    redis,
    readCount,
    blockMs,
    (entry) => {
      const nsp = entry.fields.nsp;
      if (nsp !== undefined) adapters.get(nsp)?.onEntry(entry);
    },
    add,
  );

  const context: StreamsContext = {
    redis,
    subscriber,
    link,
    options,
    channelPrefix: opts.channelPrefix ?? "socket.io",
    sessionKeyPrefix: opts.sessionKeyPrefix ?? "sio:session:",
    maxLen,
    sharded: opts.useShardedPubSub === true,
    streamOf,
    readerPosition: (stream) => readers.position(stream),
  };

  return (nsp) => {
    readers.ensure(streamOf(nsp.name));
    const adapter = new RedisStreamsAdapter(nsp, context);
    adapters.set(nsp.name, adapter);
    const close = adapter.close.bind(adapter);
    adapter.close = () => {
      if (adapters.get(nsp.name) === adapter) adapters.delete(nsp.name);
      const closed = close();
      if (adapters.size === 0) {
        readers.stop();
        void subscriber.then(
          (connection) => connection.close(),
          () => undefined,
        );
      }
      return closed;
    };
    return adapter;
  };
}
