/**
 * The few Redis operations the adapters use, over whichever client the user passed: `redis`
 * (node-redis 4 to 6) or `ioredis`, each standalone or in Redis Cluster mode. The user keeps
 * the client's settings (address, TLS, auth, reconnection); duplexio only adds an `error`
 * listener, so that a lost connection never crashes the process, and follows the client's state.
 */
import { type AdapterLogger, TransportLink } from "../core/transport-link.js";

/** Called with each message of a subscription: its payload and the channel it came on. */
export type RedisMessageHandler = (payload: Buffer, channel: string) => void;

/** A stream entry: its id and its fields. */
export interface RedisStreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** Anything with EventEmitter's `on`/`off`. */
interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
  off?(event: string, listener: (...args: never[]) => void): unknown;
  removeListener?(event: string, listener: (...args: never[]) => void): unknown;
}

// The two client libraries, described by what is used of them (no type import: neither is a
// dependency of duplexio).
type Args = (string | Buffer)[];
type Listener = (message: Buffer, channel: Buffer | string) => void;

interface NodeRedisClient extends Emitter {
  isReady: boolean;
  sendCommand(args: Args): Promise<unknown>;
  subscribe(channels: string | string[], listener: Listener, bufferMode: true): Promise<void>;
  unsubscribe(channels: string | string[]): Promise<void>;
  pSubscribe(pattern: string, listener: Listener, bufferMode: true): Promise<void>;
  pUnsubscribe(pattern: string): Promise<void>;
  sSubscribe(channels: string | string[], listener: Listener, bufferMode: true): Promise<void>;
  sUnsubscribe(channels: string | string[]): Promise<void>;
  duplicate(): NodeRedisClient;
  connect(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<void>;
  quit?(): Promise<unknown>;
}

interface NodeRedisCluster extends Omit<NodeRedisClient, "sendCommand" | "duplicate"> {
  masters: unknown[];
  nodeClient(node: unknown): NodeRedisClient | Promise<NodeRedisClient>;
  sendCommand(firstKey: string | undefined, isReadonly: boolean, args: Args): Promise<unknown>;
  duplicate(): NodeRedisCluster;
}

interface IoRedisClient extends Emitter {
  status: string;
  call(command: string, ...args: (string | Buffer | number)[]): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  psubscribe(...patterns: string[]): Promise<unknown>;
  punsubscribe(...patterns: string[]): Promise<unknown>;
  ssubscribe(...channels: string[]): Promise<unknown>;
  sunsubscribe(...channels: string[]): Promise<unknown>;
  duplicate(): IoRedisClient;
  nodes?(role: string): IoRedisClient[];
  disconnect(): void;
  options?: { lazyConnect?: boolean; shardedSubscribers?: boolean };
  connect?(): Promise<void>;
}

function isNodeRedis(client: object): boolean {
  return typeof (client as { sSubscribe?: unknown }).sSubscribe === "function";
}

function isNodeRedisCluster(client: object): boolean {
  return isNodeRedis(client) && Array.isArray((client as { masters?: unknown }).masters);
}

function isIoRedisCluster(client: object): boolean {
  return (
    (client as { isCluster?: unknown }).isCluster === true || client.constructor?.name === "Cluster"
  );
}

/**
 * A Redis client of either library, as the adapters use it.
 *
 * @throws TypeError from {@link RedisConnection.of} when `client` is neither.
 */
export abstract class RedisConnection {
  /** Whether the client is a Redis Cluster client. */
  abstract readonly cluster: boolean;
  /** The user's client. */
  abstract readonly client: object;

  /** Wraps a node-redis or ioredis client (standalone or cluster). */
  static of(client: unknown): RedisConnection {
    if (typeof client !== "object" || client === null) {
      throw new TypeError("a Redis client (from the redis or ioredis package) is required");
    }
    if (isNodeRedis(client)) return new NodeRedisConnection(client as NodeRedisClient);
    if (typeof (client as { call?: unknown }).call === "function") {
      return new IoRedisConnection(client as IoRedisClient);
    }
    throw new TypeError("unsupported Redis client: pass a client of the redis or ioredis package");
  }

  /** Publishes `payload` on `channel` (SPUBLISH when `sharded`). */
  abstract publish(channel: string, payload: Uint8Array, sharded: boolean): Promise<void>;
  /** Subscribes `handler` to `channels` (SSUBSCRIBE when `sharded`). */
  abstract subscribe(
    channels: string[],
    handler: RedisMessageHandler,
    sharded: boolean,
  ): Promise<void>;
  abstract unsubscribe(channels: string[], sharded: boolean): Promise<void>;
  /** Subscribes `handler` to the channels matching `pattern`. */
  abstract psubscribe(pattern: string, handler: RedisMessageHandler): Promise<void>;
  abstract punsubscribe(pattern: string): Promise<void>;
  /** Runs a command (routed by `key` in cluster mode); bulk replies come as strings. */
  abstract command(key: string | undefined, args: (string | Buffer)[]): Promise<unknown>;
  /** Runs a command on every master of a cluster (once when standalone). */
  protected abstract onEveryMaster(args: string[]): Promise<unknown[]>;
  /** A new client with the same settings, connected (the caller closes it). */
  abstract duplicate(): Promise<RedisConnection>;
  /** Whether the client can run commands now. */
  abstract get ready(): boolean;

  /**
   * Whether the client can subscribe to sharded channels: an ioredis Cluster needs its option
   * `shardedSubscribers: true` (without it, SSUBSCRIBE goes to a node that does not hold the
   * channel's slot and fails, and nothing is ever received).
   */
  get canSubscribeSharded(): boolean {
    return true;
  }
  /** Closes a client this module made (a duplicate). */
  abstract close(): void;

  /** Subscriber counts of `channels`, summed over the masters of a cluster. */
  async numsub(channels: string[], sharded: boolean): Promise<number[]> {
    const replies = await this.onEveryMaster([
      "PUBSUB",
      sharded ? "SHARDNUMSUB" : "NUMSUB",
      ...channels,
    ]);
    const counts = channels.map(() => 0);
    for (const reply of replies) {
      // [channel, count, channel, count...] (node-redis may give an object).
      const flat = Array.isArray(reply) ? reply : Object.entries(reply as object).flat();
      for (let i = 0; i < channels.length; i++) counts[i]! += Number(flat[2 * i + 1]) || 0;
    }
    return counts;
  }

  /** XADD with approximate trimming to `maxLen`; resolves with the entry id. */
  async xadd(key: string, fields: Record<string, string>, maxLen: number): Promise<string> {
    const args: string[] = ["XADD", key, "MAXLEN", "~", String(maxLen), "*"];
    for (const [name, value] of Object.entries(fields)) args.push(name, value);
    return String(await this.command(key, args));
  }

  /** XRANGE from `start` to `end`, at most `count` entries. */
  async xrange(
    key: string,
    start: string,
    end: string,
    count: number,
  ): Promise<RedisStreamEntry[]> {
    const reply = await this.command(key, ["XRANGE", key, start, end, "COUNT", String(count)]);
    return toEntries(reply);
  }

  /** XREAD of one stream after `offset`, blocking up to `blockMs`; [] when nothing came. */
  async xread(
    key: string,
    offset: string,
    count: number,
    blockMs: number,
  ): Promise<RedisStreamEntry[]> {
    const reply = await this.command(key, [
      "XREAD",
      "COUNT",
      String(count),
      "BLOCK",
      String(blockMs),
      "STREAMS",
      key,
      offset,
    ]);
    if (reply === null || reply === undefined) return [];
    // ioredis and RESP2: [[key, entries]]; node-redis may map it: { key: entries }.
    const streams = Array.isArray(reply) ? reply : Object.entries(reply as object);
    const first = streams[0] as [string, unknown] | undefined;
    return first === undefined ? [] : toEntries(first[1]);
  }

  /** SET with an expiry in milliseconds. */
  async setPx(key: string, value: string, ms: number): Promise<void> {
    await this.command(key, ["SET", key, value, "PX", String(Math.max(1, Math.round(ms)))]);
  }

  /** GETDEL (Redis 6.2 or newer). */
  async getDel(key: string): Promise<string | null> {
    const reply = await this.command(key, ["GETDEL", key]);
    return reply === null || reply === undefined ? null : String(reply);
  }

  /** Listeners added by {@link watch}, removed when a connection of ours closes. */
  #watching:
    | { states: ConnectionStates; listeners: [string, (...args: never[]) => void][] }
    | undefined;

  /**
   * Follows the client's state into `states` (several connections may feed one link: it is up
   * when all are ready) and keeps its errors from crashing the process.
   */
  watch(states: ConnectionStates): void {
    const listeners = this.#stateListeners((ready, reason) => states.update(this, ready, reason));
    for (const [event, listener] of listeners) (this.client as Emitter).on(event, listener);
    this.#watching = { states, listeners };
    states.start(this, this.ready);
  }

  /** Stops following the client's state (before closing a connection of ours). */
  protected unwatch(): void {
    const watching = this.#watching;
    if (watching === undefined) return;
    this.#watching = undefined;
    for (const [event, listener] of watching.listeners) {
      removeListener(this.client as Emitter, event, listener);
    }
    watching.states.remove(this);
  }

  /**
   * The client's events that tell its state, as listeners calling `update`. Both libraries emit
   * "ready" when usable and "reconnecting"/"end" (ioredis also "close") when not; an "error"
   * while not ready is why.
   */
  #stateListeners(
    update: (ready: boolean, reason?: Error) => void,
  ): [string, (...args: never[]) => void][] {
    const down = (): void => update(false, new Error("connection lost"));
    const onError = (error: Error): void => {
      if (!this.ready) update(false, error);
    };
    return [
      ["error", onError as (...args: never[]) => void],
      ["close", down],
      ["reconnecting", down],
      ["end", down],
      ["ready", () => update(true)],
    ];
  }
}

/** Stream entries from a raw reply: [[id, [field, value, ...]], ...]. */
function toEntries(reply: unknown): RedisStreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: RedisStreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || item.length < 2) continue;
    const [id, flat] = item as [unknown, unknown];
    const fields: Record<string, string> = {};
    if (Array.isArray(flat)) {
      for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    } else if (typeof flat === "object" && flat !== null) {
      for (const [name, value] of Object.entries(flat)) fields[name] = String(value);
    }
    entries.push({ id: String(id), fields });
  }
  return entries;
}

/**
 * The readiness of the connections behind one link: the link is up when every connection is
 * ready, down as soon as one is not.
 */
export class ConnectionStates {
  readonly #link: TransportLink;
  readonly #notReady = new Set<object>();

  constructor(link: TransportLink) {
    this.#link = link;
  }

  /** Connection `key` starts in this state (not ready yet is no outage: it is connecting). */
  start(key: object, ready: boolean): void {
    if (!ready) {
      this.#notReady.add(key);
      // A connection added later to a link that is up: not up until it is ready.
      if (this.#link.up) this.#link.markDown(new Error("connecting"));
    }
  }

  /** Every connection is registered: the link is up if all are ready. */
  started(): void {
    if (this.#notReady.size === 0) this.#link.markUp();
  }

  /** Connection `key` is no longer followed (closed on purpose). */
  remove(key: object): void {
    if (this.#notReady.delete(key) && this.#notReady.size === 0) this.#link.markUp();
  }

  /** Connection `key` is ready (or not, with the reason). */
  update(key: object, ready: boolean, reason?: Error): void {
    if (ready) {
      this.#notReady.delete(key);
      if (this.#notReady.size === 0) this.#link.markUp();
    } else {
      this.#notReady.add(key);
      this.#link.markDown(reason ?? new Error("connection lost"));
    }
  }
}

/** A link followed from Redis connections: up while every one of them is ready. */
export interface RedisLink {
  readonly link: TransportLink;
  /** Follows one more connection (a duplicate made later). */
  add(connection: RedisConnection): void;
}

/**
 * The link of the adapters that share `connections`. One line is logged per change of state (to
 * `logger`, default `console`).
 */
export function redisLink(
  connections: RedisConnection[],
  logger: AdapterLogger | undefined,
): RedisLink {
  const link = new TransportLink("Redis", logger ?? console);
  const states = new ConnectionStates(link);
  for (const connection of connections) connection.watch(states);
  states.started();
  return { link, add: (connection) => connection.watch(states) };
}

function removeListener(emitter: Emitter, event: string, listener: (...args: never[]) => void) {
  if (typeof emitter.off === "function") emitter.off(event, listener);
  else emitter.removeListener?.(event, listener);
}

class NodeRedisConnection extends RedisConnection {
  readonly cluster: boolean;
  readonly client: NodeRedisClient;
  #owned = false;
  /** Cluster mode: the node classic PUBLISH goes through (see {@link publish}). */
  #publisher: Promise<NodeRedisClient> | undefined;

  constructor(client: NodeRedisClient) {
    super();
    this.client = client;
    this.cluster = isNodeRedisCluster(client);
  }

  get ready(): boolean {
    // A cluster client has no single readiness; its commands wait for their node.
    return this.client.isReady !== false;
  }

  async publish(channel: string, payload: Uint8Array, sharded: boolean): Promise<void> {
    const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (sharded || !this.cluster) {
      await this.command(channel, [sharded ? "SPUBLISH" : "PUBLISH", channel, body]);
      return;
    }
    // A Redis Cluster forwards a classic PUBLISH to every node, but cluster clients send each one
    // to a random node, and messages that enter the cluster through different nodes overtake one
    // another. Through one node they arrive in the order they were sent: every publication
    // awaits the same promise, so they also reach that node in order.
    let publisher = this.#publisher;
    if (publisher === undefined) {
      publisher = this.#publishingNode();
      this.#publisher = publisher;
    }
    try {
      await (await publisher).sendCommand(["PUBLISH", channel, body]);
    } catch (error) {
      // The node may have left the cluster: the next publication picks one again.
      if (this.#publisher === publisher) this.#publisher = undefined;
      throw error;
    }
  }

  /** A master of the cluster, for classic PUBLISH (see {@link publish}). */
  async #publishingNode(): Promise<NodeRedisClient> {
    const cluster = this.client as unknown as NodeRedisCluster;
    const master = cluster.masters[0];
    if (master === undefined) throw new Error("no Redis Cluster master known");
    return cluster.nodeClient(master);
  }

  async subscribe(
    channels: string[],
    handler: RedisMessageHandler,
    sharded: boolean,
  ): Promise<void> {
    const listener: Listener = (message, channel) => handler(message, String(channel));
    if (sharded) {
      // One call per channel: a cluster routes each by its slot.
      for (const channel of channels) await this.client.sSubscribe(channel, listener, true);
    } else {
      await this.client.subscribe(channels, listener, true);
    }
  }

  async unsubscribe(channels: string[], sharded: boolean): Promise<void> {
    for (const channel of channels) {
      await (sharded ? this.client.sUnsubscribe(channel) : this.client.unsubscribe(channel));
    }
  }

  async psubscribe(pattern: string, handler: RedisMessageHandler): Promise<void> {
    await this.client.pSubscribe(
      pattern,
      (message, channel) => handler(message, String(channel)),
      true,
    );
  }

  async punsubscribe(pattern: string): Promise<void> {
    await this.client.pUnsubscribe(pattern);
  }

  command(key: string | undefined, args: (string | Buffer)[]): Promise<unknown> {
    if (this.cluster)
      return (this.client as unknown as NodeRedisCluster).sendCommand(key, false, args);
    return this.client.sendCommand(args);
  }

  protected async onEveryMaster(args: string[]): Promise<unknown[]> {
    if (!this.cluster) return [await this.client.sendCommand(args)];
    const cluster = this.client as unknown as NodeRedisCluster;
    return Promise.all(
      cluster.masters.map(async (master) => (await cluster.nodeClient(master)).sendCommand(args)),
    );
  }

  async duplicate(): Promise<RedisConnection> {
    const copy = this.client.duplicate() as NodeRedisClient;
    // Errors are followed through watch(); without a listener they would crash the process.
    copy.on("error", () => undefined);
    await copy.connect();
    const connection = new NodeRedisConnection(copy);
    connection.#owned = true;
    return connection;
  }

  close(): void {
    if (!this.#owned) return;
    this.unwatch();
    const client = this.client;
    if (typeof client.destroy === "function") client.destroy();
    else void client.disconnect?.().catch(() => undefined);
  }
}

/** ioredis delivers messages through client events: one dispatcher per client. */
const ioDispatchers = new WeakMap<object, IoDispatcher>();

class IoDispatcher {
  readonly channels = new Map<string, RedisMessageHandler>();
  readonly patterns = new Map<string, RedisMessageHandler>();

  constructor(client: IoRedisClient) {
    const onMessage = (channel: Buffer, message: Buffer): void => {
      const name = String(channel);
      this.channels.get(name)?.(message, name);
    };
    client.on("messageBuffer", onMessage as (...args: never[]) => void);
    client.on("smessageBuffer", onMessage as (...args: never[]) => void);
    client.on("pmessageBuffer", ((pattern: Buffer, channel: Buffer, message: Buffer) => {
      this.patterns.get(String(pattern))?.(message, String(channel));
    }) as (...args: never[]) => void);
  }

  static for(client: IoRedisClient): IoDispatcher {
    let dispatcher = ioDispatchers.get(client);
    if (dispatcher === undefined) {
      dispatcher = new IoDispatcher(client);
      ioDispatchers.set(client, dispatcher);
    }
    return dispatcher;
  }
}

class IoRedisConnection extends RedisConnection {
  readonly cluster: boolean;
  readonly client: IoRedisClient;
  #owned = false;
  /** Cluster mode: the node classic PUBLISH goes through (see {@link publish}). */
  #publisher: IoRedisClient | undefined;

  constructor(client: IoRedisClient) {
    super();
    this.client = client;
    this.cluster = isIoRedisCluster(client);
  }

  get ready(): boolean {
    return this.client.status === "ready";
  }

  override get canSubscribeSharded(): boolean {
    return !this.cluster || this.client.options?.shardedSubscribers === true;
  }

  async publish(channel: string, payload: Uint8Array, sharded: boolean): Promise<void> {
    const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (sharded || !this.cluster || this.client.nodes === undefined) {
      await this.client.call(sharded ? "SPUBLISH" : "PUBLISH", channel, body);
      return;
    }
    // Through one node of the cluster, so that publications keep their order (see
    // NodeRedisConnection.publish); another one once that node's connection has ended.
    let publisher = this.#publisher;
    if (publisher === undefined || publisher.status === "end") {
      publisher = this.client.nodes("master")[0];
      if (publisher === undefined) throw new Error("no Redis Cluster master known");
      this.#publisher = publisher;
    }
    await publisher.call("PUBLISH", channel, body);
  }

  async subscribe(
    channels: string[],
    handler: RedisMessageHandler,
    sharded: boolean,
  ): Promise<void> {
    const dispatcher = IoDispatcher.for(this.client);
    for (const channel of channels) dispatcher.channels.set(channel, handler);
    if (sharded) {
      for (const channel of channels) await this.client.ssubscribe(channel);
    } else {
      await this.client.subscribe(...channels);
    }
  }

  async unsubscribe(channels: string[], sharded: boolean): Promise<void> {
    const dispatcher = IoDispatcher.for(this.client);
    for (const channel of channels) dispatcher.channels.delete(channel);
    if (sharded) {
      for (const channel of channels) await this.client.sunsubscribe(channel);
    } else {
      await this.client.unsubscribe(...channels);
    }
  }

  async psubscribe(pattern: string, handler: RedisMessageHandler): Promise<void> {
    IoDispatcher.for(this.client).patterns.set(pattern, handler);
    await this.client.psubscribe(pattern);
  }

  async punsubscribe(pattern: string): Promise<void> {
    IoDispatcher.for(this.client).patterns.delete(pattern);
    await this.client.punsubscribe(pattern);
  }

  command(_key: string | undefined, args: (string | Buffer)[]): Promise<unknown> {
    // ioredis routes a cluster command by its key itself.
    const [name, ...rest] = args;
    return this.client.call(String(name), ...rest);
  }

  protected onEveryMaster(args: string[]): Promise<unknown[]> {
    const [name, ...rest] = args;
    const nodes = this.cluster && this.client.nodes ? this.client.nodes("master") : [this.client];
    return Promise.all(nodes.map((node) => node.call(name!, ...rest)));
  }

  async duplicate(): Promise<RedisConnection> {
    const copy = this.client.duplicate();
    copy.on("error", () => undefined);
    // A lazy client (the user's was, so its duplicate is) connects when asked; connect()
    // resolves once it is ready, and its "ready" event is then past.
    if (copy.status !== "ready" && copy.options?.lazyConnect && copy.connect) {
      await copy.connect();
    }
    if (copy.status !== "ready") {
      await new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          removeListener(copy, "ready", onReady);
          removeListener(copy, "end", onEnd);
          resolve();
        };
        const onEnd = (): void => {
          removeListener(copy, "ready", onReady);
          reject(new Error("the duplicated Redis connection closed before it was ready"));
        };
        copy.on("ready", onReady);
        copy.on("end", onEnd);
      });
    }
    const connection = new IoRedisConnection(copy);
    connection.#owned = true;
    return connection;
  }

  close(): void {
    if (!this.#owned) return;
    this.unwatch();
    this.client.disconnect();
  }
}
