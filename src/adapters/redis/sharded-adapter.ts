/**
 * The sharded Redis Pub/Sub adapter (Redis 7): wire-compatible with `@socket.io/redis-adapter`'s
 * `createShardedAdapter`. Messages are whole cluster messages (JSON, MessagePack when binary) on
 * sharded channels, for prefix `K` and namespace `N`:
 * - `K#N#`: every node's messages; `K#N#<room>#`: broadcasts to one room, in the dynamic modes;
 * - `K#N#<uid>#`: answers to node `uid`;
 * - `K-nodes#N#`: duplexio's heartbeats (see the classic format for why).
 */
import {
  decodeClusterMessage,
  encodeClusterMessage,
} from "../../protocol/cluster/cluster-format.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterResponse,
} from "../../protocol/cluster/messages.js";
import { forwardChannel } from "../../protocol/cluster/session-forward.js";
import type { AdapterNamespace, Room } from "../../server/adapter.js";
import { ClusterAdapter, type ResolvedClusterAdapterOptions } from "../core/cluster-adapter.js";
import type { TransportLink } from "../core/transport-link.js";
import { BUFFER_DECODING } from "./pubsub-adapter.js";
import type { RedisConnection } from "./redis-connection.js";

/** Which rooms get a channel of their own. */
export type ShardedSubscriptionMode = "static" | "dynamic" | "dynamic-private";

/** socket.io's ids are 20 characters: rooms that look like one are a socket's own. */
function looksLikeASocketId(room: Room): boolean {
  return typeof room === "string" && room.length === 20;
}

interface Publication {
  readonly channel: string;
  readonly payload: Uint8Array;
  readonly size: number;
}

/** One namespace's adapter over sharded Redis Pub/Sub (see `createShardedAdapter`). */
export class ShardedRedisAdapter extends ClusterAdapter<Publication> {
  readonly #pub: RedisConnection;
  readonly #sub: RedisConnection;
  readonly #mode: ShardedSubscriptionMode;
  readonly #channel: string;
  readonly #ownResponses: string;
  readonly #nodesChannel: string;
  readonly #subscribed: Promise<void>;
  readonly #prefix: string;
  /** Where this node receives session forwarding frames (main namespace only). */
  readonly #forwardChannel: string | null;

  readonly #onForward = (payload: Buffer): void => {
    this.onForwardFrame(payload);
  };
  /** Room channels subscribed to (bounded by this node's rooms). */
  readonly #roomChannels = new Set<string>();

  readonly #onPayload = (payload: Buffer): void => {
    const message = decodeClusterMessage(payload, BUFFER_DECODING);
    if (message === null) this.onInvalidMessage();
    else this.onMessage(message);
  };

  constructor(
    nsp: AdapterNamespace,
    pub: RedisConnection,
    sub: RedisConnection,
    prefix: string,
    mode: ShardedSubscriptionMode,
    link: TransportLink,
    options: ResolvedClusterAdapterOptions,
  ) {
    super(nsp, link, options);
    this.#pub = pub;
    this.#sub = sub;
    this.#mode = mode;
    this.#channel = `${prefix}#${nsp.name}#`;
    this.#ownResponses = `${this.#channel}${this.uid}#`;
    this.#nodesChannel = `${prefix}-nodes#${nsp.name}#`;
    this.#prefix = prefix;
    this.#forwardChannel = nsp.name === "/" ? forwardChannel(prefix, this.uid) : null;
    const forwarding = this.#forwardChannel;
    this.#subscribed = Promise.all([
      sub.subscribe([this.#channel, this.#ownResponses, this.#nodesChannel], this.#onPayload, true),
      forwarding === null ? undefined : sub.subscribe([forwarding], this.#onForward, true),
    ]).then(() => undefined);
    this.#subscribed.catch(() => undefined);
    if (mode !== "static") {
      this.on("create-room", (room: Room) => {
        if (!this.#hasOwnChannel(room)) return;
        const channel = this.#roomChannel(room);
        this.#roomChannels.add(channel);
        void sub.subscribe([channel], this.#onPayload, true).catch(() => undefined);
      });
      this.on("delete-room", (room: Room) => {
        const channel = this.#roomChannel(room);
        if (!this.#roomChannels.delete(channel)) return;
        void sub.unsubscribe([channel], true).catch(() => undefined);
      });
    }
  }

  protected override listening(): Promise<void> {
    return this.#subscribed;
  }

  /** Whether broadcasts to `room` travel on a channel of their own (decided when it is created). */
  #hasOwnChannel(room: Room): boolean {
    // A socket's own room is created after the socket is known: it is not a public room.
    return this.#mode === "dynamic-private" || !this.sids.has(room as string);
  }

  #roomChannel(room: Room): string {
    return `${this.#channel}${room}#`;
  }

  #channelOf(message: ClusterMessage): string {
    switch (message.type) {
      case ClusterMessageType.InitialHeartbeat:
      case ClusterMessageType.Heartbeat:
      case ClusterMessageType.AdapterClose:
        return this.#nodesChannel;
      case ClusterMessageType.Broadcast: {
        // With acknowledgements every node must answer (serverCount() counts them all).
        const { opts, requestId } = message.data;
        if (requestId !== undefined || opts.rooms.length !== 1 || this.#mode === "static") {
          return this.#channel;
        }
        const room = opts.rooms[0]!;
        if (this.#mode === "dynamic" && looksLikeASocketId(room)) return this.#channel;
        return this.#roomChannel(room);
      }
      default:
        return this.#channel;
    }
  }

  protected encode(message: ClusterMessage): Publication | { error: string } {
    const payload = encodeClusterMessage(message, "auto");
    if ("error" in payload) return payload;
    return { channel: this.#channelOf(message), payload, size: payload.byteLength };
  }

  protected async send(message: Publication): Promise<undefined> {
    await this.#pub.publish(message.channel, message.payload, true);
    return undefined;
  }

  protected async sendResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    const payload = encodeClusterMessage(response, "auto");
    if ("error" in payload) throw new TypeError(payload.error);
    await this.#pub.publish(`${this.#channel}${requesterUid}#`, payload, true);
  }

  protected override get forwardsSessions(): boolean {
    return this.#forwardChannel !== null;
  }

  protected override sendForwardFrame(to: string, frame: Uint8Array): Promise<void> {
    return this.#pub.publish(forwardChannel(this.#prefix, to), frame, true);
  }

  /** socket.io's nodes: subscribers of the namespace's channel that send no heartbeats. */
  protected override async countSilentNodes(): Promise<number> {
    const [all, duplexio] = await this.#pub.numsub([this.#channel, this.#nodesChannel], true);
    return Math.max(0, all! - duplexio!);
  }

  protected override async closeTransport(): Promise<void> {
    const channels = [this.#channel, this.#ownResponses, this.#nodesChannel, ...this.#roomChannels];
    if (this.#forwardChannel !== null) channels.push(this.#forwardChannel);
    this.#roomChannels.clear();
    await this.#sub.unsubscribe(channels, true).catch(() => undefined);
  }
}
