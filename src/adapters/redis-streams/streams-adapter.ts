/**
 * One namespace's adapter over Redis Streams, wire-compatible with
 * `@socket.io/redis-streams-adapter`: broadcasts and room operations are stream entries (every
 * node reads the stream), requests and answers go through Pub/Sub (`K#N#` and `K#N#<uid>#`),
 * sessions of disconnected sockets are Redis keys with an expiry.
 *
 * Connection state recovery across nodes: a broadcast's stream id is its offset; a client coming
 * back to any node sends the last offset it processed, and gets the entries after it that were
 * for its rooms, in order. Beyond socket.io's:
 * - local delivery never waits for Redis while it is down (broadcasts go without offset then);
 * - a client that received nothing yet (no offset to send) starts from the stream position its
 *   socket connected at, stored with its session;
 * - a client that comes back before its old node noticed it left: the restoring node asks the
 *   cluster for the session first (`ClaimSession`), and the old node lets the socket go and
 *   stores its session before answering;
 * - packets replayed to a restored socket are not delivered to it a second time by the reader.
 */
import {
  decodeClusterMessage,
  decodeSession,
  decodeStreamEntry,
  encodeClusterMessage,
  encodeSession,
  encodeStreamEntry,
  type StreamEntryFields,
} from "../../protocol/cluster/cluster-format.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterResponse,
  compareStreamIds,
  isStreamId,
  type WirePacket,
} from "../../protocol/cluster/messages.js";
import { forwardChannel } from "../../protocol/cluster/session-forward.js";
import { SocketPacketType } from "../../protocol/socketio/index.js";
import type {
  AdapterNamespace,
  BroadcastOptions,
  PrivateSessionId,
  Room,
  Session,
  SessionToPersist,
  SocketId,
} from "../../server/adapter.js";
import { ClusterAdapter, type ResolvedClusterAdapterOptions } from "../core/cluster-adapter.js";
import type { TransportLink } from "../core/transport-link.js";
import { BUFFER_DECODING } from "../redis/pubsub-adapter.js";
import type { RedisConnection, RedisStreamEntry } from "../redis/redis-connection.js";

/** What a namespace's adapter needs of its factory. */
export interface StreamsContext {
  readonly redis: RedisConnection;
  /** The Pub/Sub connection, once duplicated. */
  readonly subscriber: Promise<RedisConnection>;
  readonly link: TransportLink;
  readonly options: ResolvedClusterAdapterOptions;
  readonly channelPrefix: string;
  readonly sessionKeyPrefix: string;
  readonly maxLen: number;
  readonly sharded: boolean;
  /** The stream of a namespace. */
  streamOf(nsp: string): string;
  /** How far the reader of `stream` has read; undefined while it starts. */
  readerPosition(stream: string): string | undefined;
}

/** Entries read per XRANGE call when a session is restored. */
const RESTORE_PAGE = 100;
/** Most XRANGE calls for one restore (beyond: too much was missed, a fresh session instead). */
const RESTORE_MAX_PAGES = 1000;
/** How long sockets restored with replayed packets are shielded from getting them again. */
const REPLAY_SHIELD_MS = 30_000;
/** Most restored sockets shielded at once. */
const MAX_SHIELDED = 10_000;

type Encoded =
  | { readonly kind: "entry"; readonly fields: StreamEntryFields; readonly size: number }
  | {
      readonly kind: "message";
      readonly channel: string;
      readonly payload: Uint8Array;
      readonly size: number;
    };

/** Messages that go through Pub/Sub (not kept in the stream): requests and heartbeats. */
function isEphemeral(message: ClusterMessage): boolean {
  switch (message.type) {
    case ClusterMessageType.Broadcast:
      return message.data.requestId !== undefined;
    case ClusterMessageType.SocketsJoin:
    case ClusterMessageType.SocketsLeave:
    case ClusterMessageType.DisconnectSockets:
      return false;
    default:
      return true;
  }
}

/** Whether a stored packet was meant for a socket in `rooms` (its own id among them). */
function reaches(opts: { rooms: Room[]; except: Room[] }, rooms: Room[]): boolean {
  if (rooms.some((room) => opts.except.includes(room))) return false;
  return opts.rooms.length === 0 || rooms.some((room) => opts.rooms.includes(room));
}

export class RedisStreamsAdapter extends ClusterAdapter<Encoded> {
  readonly #context: StreamsContext;
  readonly #stream: string;
  readonly #publicChannel: string;
  readonly #ownChannel: string;
  readonly #nodesChannel: string;
  readonly #subscribed: Promise<void>;
  /** Where this node receives session forwarding frames (main namespace only). */
  readonly #forwardChannel: string | null;

  readonly #onForward = (payload: Buffer): void => {
    this.onForwardFrame(payload);
  };
  /**
   * The last offset delivered to this node's clients (from the reader or from this node);
   * undefined until the reader has started.
   */
  #deliveredOffset: string | undefined;
  /** Connected sockets (with recovery): where their session started, and their private id. */
  readonly #started = new Map<
    SocketId,
    { offset: string | undefined; pid: PrivateSessionId | undefined }
  >();
  readonly #sidOfPid = new Map<PrivateSessionId, SocketId>();
  /** Sessions being stored, by private id (a claim waits for them). */
  readonly #persisting = new Map<PrivateSessionId, Promise<void>>();
  /** Restored sockets, to the last offset replayed to them and until when it matters. */
  readonly #replayed = new Map<SocketId, { upTo: string; until: number }>();

  readonly #onPayload = (payload: Buffer): void => {
    const message = decodeClusterMessage(payload, BUFFER_DECODING);
    if (message === null) this.onInvalidMessage();
    else this.onMessage(message);
  };

  constructor(nsp: AdapterNamespace, context: StreamsContext) {
    super(nsp, context.link, context.options);
    this.#context = context;
    this.#stream = context.streamOf(nsp.name);
    const prefix = context.channelPrefix;
    this.#publicChannel = `${prefix}#${nsp.name}#`;
    this.#ownChannel = `${this.#publicChannel}${this.uid}#`;
    this.#nodesChannel = `${prefix}-nodes#${nsp.name}#`;
    this.#forwardChannel = nsp.name === "/" ? forwardChannel(prefix, this.uid) : null;
    const forwarding = this.#forwardChannel;
    this.#subscribed = context.subscriber.then(async (subscriber) => {
      await Promise.all([
        subscriber.subscribe(
          [this.#publicChannel, this.#ownChannel, this.#nodesChannel],
          this.#onPayload,
          context.sharded,
        ),
        forwarding === null
          ? undefined
          : subscriber.subscribe([forwarding], this.#onForward, context.sharded),
      ]);
    });
    this.#subscribed.catch(() => undefined);
  }

  protected override listening(): Promise<void> {
    return this.#subscribed;
  }

  protected override get forwardsSessions(): boolean {
    return this.#forwardChannel !== null;
  }

  protected override sendForwardFrame(to: string, frame: Uint8Array): Promise<void> {
    const context = this.#context;
    return context.redis.publish(forwardChannel(context.channelPrefix, to), frame, context.sharded);
  }

  /** Broadcasts and room operations are stream entries, read by each node from its position. */
  protected override get keepsMessages(): boolean {
    return true;
  }

  /** A stream entry for this namespace (the factory's reader dispatches by namespace). */
  onEntry(entry: RedisStreamEntry): void {
    // This node's own entries went to its clients when they were written: not even decoded.
    if (entry.fields.uid === this.uid) return;
    const message = decodeStreamEntry(entry.fields, BUFFER_DECODING);
    if (message === null) {
      this.onInvalidMessage();
      return;
    }
    this.onMessage(message, entry.id);
    this.delivered(entry.id);
  }

  /** How far local delivery has gone (at least where the reader started). */
  get #delivered(): string | undefined {
    const readerAt = this.#context.readerPosition(this.#stream);
    const own = this.#deliveredOffset;
    if (own === undefined || readerAt === undefined) return own ?? readerAt;
    return compareStreamIds(own, readerAt) >= 0 ? own : readerAt;
  }

  #recovery(): boolean {
    return this.nsp.server.opts.connectionStateRecovery !== undefined;
  }

  protected override needsOffset(packet: WirePacket, opts: BroadcastOptions): boolean {
    return (
      this.#recovery() &&
      packet.type === SocketPacketType.Event &&
      packet.id === undefined &&
      opts.flags?.volatile === undefined
    );
  }

  protected encode(message: ClusterMessage): Encoded | { error: string } {
    if (isEphemeral(message)) {
      const payload = encodeClusterMessage(message, "msgpack");
      if ("error" in payload) return payload;
      const heartbeat =
        message.type === ClusterMessageType.InitialHeartbeat ||
        message.type === ClusterMessageType.Heartbeat ||
        message.type === ClusterMessageType.AdapterClose;
      const channel = heartbeat ? this.#nodesChannel : this.#publicChannel;
      return { kind: "message", channel, payload, size: payload.byteLength };
    }
    const fields = encodeStreamEntry(message);
    if ("error" in fields) return fields;
    const size = fields.uid.length + fields.nsp.length + (fields.data?.length ?? 0) + 8;
    return { kind: "entry", fields, size };
  }

  protected async send(message: Encoded): Promise<string | undefined> {
    const context = this.#context;
    if (message.kind === "message") {
      await context.redis.publish(message.channel, message.payload, context.sharded);
      return undefined;
    }
    return context.redis.xadd(this.#stream, { ...message.fields }, context.maxLen);
  }

  protected async sendResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    const payload = encodeClusterMessage(response, "msgpack");
    if ("error" in payload) throw new TypeError(payload.error);
    const context = this.#context;
    await context.redis.publish(`${this.#publicChannel}${requesterUid}#`, payload, context.sharded);
  }

  /** socket.io's nodes: subscribers of the public channel that send no heartbeats. */
  protected override async countSilentNodes(): Promise<number> {
    const [all, duplexio] = await this.#context.redis.numsub(
      [this.#publicChannel, this.#nodesChannel],
      this.#context.sharded,
    );
    return Math.max(0, all! - duplexio!);
  }

  protected override delivered(offset: string): void {
    const current = this.#deliveredOffset;
    if (current === undefined || compareStreamIds(offset, current) > 0) {
      this.#deliveredOffset = offset;
    }
  }

  protected override alreadyReplayed(offset: string): ReadonlySet<SocketId> | undefined {
    if (this.#replayed.size === 0) return undefined;
    const now = Date.now();
    const shielded = new Set<SocketId>();
    for (const [sid, { upTo, until }] of this.#replayed) {
      if (until < now) this.#replayed.delete(sid);
      else if (compareStreamIds(offset, upTo) <= 0) shielded.add(sid);
    }
    return shielded;
  }

  // --- Sessions -----------------------------------------------------------------------------

  override addAll(id: SocketId, rooms: Set<Room>): void {
    if (this.#recovery() && !this.sids.has(id)) {
      const pid = this.nsp.sockets.get(id)?._pid;
      // A restored socket keeps the start its restore set.
      if (!this.#started.has(id)) this.#started.set(id, { offset: this.#delivered, pid });
      if (pid !== undefined) this.#sidOfPid.set(pid, id);
    }
    super.addAll(id, rooms);
  }

  override delAll(id: SocketId): void {
    const started = this.#started.get(id);
    if (started !== undefined) {
      this.#started.delete(id);
      if (started.pid !== undefined && this.#sidOfPid.get(started.pid) === id) {
        this.#sidOfPid.delete(started.pid);
      }
    }
    super.delAll(id);
  }

  override persistSession(session: SessionToPersist): Promise<void> {
    const recovery = this.nsp.server.opts.connectionStateRecovery;
    if (recovery === undefined) return Promise.resolve();
    const encoded = encodeSession({
      sid: session.sid,
      pid: session.pid,
      rooms: session.rooms,
      data: session.data,
      offset: this.#started.get(session.sid)?.offset,
    });
    if (typeof encoded !== "string") return Promise.resolve();
    const key = this.#context.sessionKeyPrefix + session.pid;
    const stored = this.#context.redis
      .setPx(key, encoded, recovery.maxDisconnectionDuration)
      .catch(() => {
        this.stats.dropped++;
      })
      .finally(() => {
        if (this.#persisting.get(session.pid) === stored) this.#persisting.delete(session.pid);
      });
    this.#persisting.set(session.pid, stored);
    return stored;
  }

  protected override releaseSession(pid: string): Promise<void> {
    const pending = this.#persisting.get(pid);
    if (pending !== undefined) return pending;
    const sid = this.#sidOfPid.get(pid);
    const socket = sid === undefined ? undefined : this.nsp.sockets.get(sid);
    if (socket === undefined) return Promise.resolve();
    // Its client is already back elsewhere: the connection here is a dead one. Closing it at
    // once ("forced close") stores its session (synchronously started).
    socket.conn.close(true);
    return this.#persisting.get(pid) ?? Promise.resolve();
  }

  override async restoreSession(
    pid: PrivateSessionId,
    offset: string | undefined,
  ): Promise<Session | null> {
    const recovery = this.nsp.server.opts.connectionStateRecovery;
    if (recovery === undefined || typeof pid !== "string") return null;
    if (offset !== undefined && !isStreamId(offset)) return null;
    const redis = this.#context.redis;
    // The node that still holds the socket (if one does, this one included) stores its session
    // first.
    await Promise.all([
      this.releaseSession(pid),
      this.ask(ClusterMessageType.ClaimSession, (requestId) => ({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.ClaimSession,
        data: { requestId, pid },
      })),
    ]);
    const raw = await redis.getDel(this.#context.sessionKeyPrefix + pid);
    if (raw === null) return null;
    const session = decodeSession(raw, BUFFER_DECODING);
    if (session === null || session.pid !== pid) return null;
    const start = offset ?? session.offset;
    if (start === undefined) return null;
    // The start must still be in the stream: otherwise packets after it may have been trimmed.
    if (start !== "0-0") {
      const [first] = await redis.xrange(this.#stream, start, start, 1);
      if (first === undefined) return null;
    }
    const missedPackets: unknown[][] = [];
    let cursor = start;
    for (let page = 0; page < RESTORE_MAX_PAGES; page++) {
      const entries = await redis.xrange(this.#stream, `(${cursor}`, "+", RESTORE_PAGE);
      for (const entry of entries) {
        cursor = entry.id;
        const message = decodeStreamEntry(entry.fields, BUFFER_DECODING);
        if (
          message?.type !== ClusterMessageType.Broadcast ||
          message.nsp !== this.nsp.name ||
          message.data.requestId !== undefined
        ) {
          continue;
        }
        const { packet, opts } = message.data;
        if (!this.needsOffset(packet, { rooms: new Set(), flags: opts.flags ?? {} })) continue;
        if (!reaches(opts, session.rooms)) continue;
        if (missedPackets.length >= recovery.maxMissedPacketsPerSession) return null;
        missedPackets.push([...(packet.data as unknown[]), entry.id]);
      }
      // Done once caught up with what this node has delivered: what comes next reaches the
      // socket through the reader (it joins its rooms as soon as this resolves).
      const delivered = this.#delivered ?? cursor;
      if (entries.length < RESTORE_PAGE && compareStreamIds(cursor, delivered) >= 0) break;
    }
    if (missedPackets.length > 0) {
      if (this.#replayed.size >= MAX_SHIELDED) {
        const oldest = this.#replayed.keys().next();
        if (!oldest.done) this.#replayed.delete(oldest.value);
      }
      this.#replayed.set(session.sid, { upTo: cursor, until: Date.now() + REPLAY_SHIELD_MS });
    }
    // Its session now starts here, should it leave again before receiving anything.
    this.#started.set(session.sid, { offset: cursor, pid });
    return { sid: session.sid, pid, rooms: session.rooms, data: session.data, missedPackets };
  }

  protected override async closeTransport(): Promise<void> {
    const subscriber = await this.#context.subscriber.catch(() => undefined);
    const channels = [this.#publicChannel, this.#ownChannel, this.#nodesChannel];
    if (this.#forwardChannel !== null) channels.push(this.#forwardChannel);
    await subscriber?.unsubscribe(channels, this.#context.sharded).catch(() => undefined);
  }
}
