/**
 * The Redis Pub/Sub adapter: wire-compatible with `@socket.io/redis-adapter` 8's `createAdapter`
 * (classic Pub/Sub, see `protocol/cluster/redis-pubsub-format.ts`), so socket.io nodes, duplexio
 * nodes and `@socket.io/redis-emitter` share one cluster.
 */
import {
  type ClusterMessage,
  type ClusterResponse,
  parseClusterMessage,
} from "../../protocol/cluster/messages.js";
import {
  decodePubSubBroadcast,
  decodePubSubRequest,
  decodePubSubResponse,
  encodePubSubMessage,
  encodePubSubResponse,
  PubSubChannels,
} from "../../protocol/cluster/redis-pubsub-format.js";
import { forwardChannel } from "../../protocol/cluster/session-forward.js";
import { decodeMsgpack, type MsgpackDecodeOptions } from "../../protocol/msgpack.js";
import type { AdapterNamespace } from "../../server/adapter.js";
import { ClusterAdapter, type ResolvedClusterAdapterOptions } from "../core/cluster-adapter.js";
import type { TransportLink } from "../core/transport-link.js";
import type { RedisConnection } from "./redis-connection.js";

/** Binary values from Redis become Buffers (views on the message, no copy). */
export const BUFFER_DECODING: MsgpackDecodeOptions = {
  binary: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
};

/** An encoded message and the channel it goes to. */
interface Publication {
  readonly channel: string;
  readonly payload: Uint8Array;
  readonly size: number;
}

/** Decimal numbers name numeric rooms on the wire ("42" for room 42). */
function isNumeric(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

/** One namespace's adapter over Redis Pub/Sub (see `createAdapter` in ./index.ts). */
export class RedisAdapter extends ClusterAdapter<Publication> {
  readonly #pub: RedisConnection;
  readonly #sub: RedisConnection;
  readonly #channels: PubSubChannels;
  readonly #ownResponses: string;
  readonly #prefix: string;
  /** Where this node receives session forwarding frames (main namespace only). */
  readonly #forwardChannel: string | null;
  readonly #subscribed: Promise<void>;

  readonly #onForward = (payload: Buffer): void => {
    this.onForwardFrame(payload);
  };

  readonly #onBroadcast = (payload: Buffer, channel: string): void => {
    const room = this.#channels.roomOf(channel);
    if (room === undefined) return;
    // Per-room channels of rooms this node does not have are skipped before decoding.
    if (
      room !== "" &&
      !this.rooms.has(room) &&
      !(isNumeric(room) && this.rooms.has(Number(room)))
    ) {
      return;
    }
    const message = decodePubSubBroadcast(payload, this.nsp.name, BUFFER_DECODING);
    if (message === null) this.onInvalidMessage();
    else this.onMessage(message);
  };

  readonly #onChannelMessage = (payload: Buffer, channel: string): void => {
    const channels = this.#channels;
    let message: ClusterMessage | null;
    if (channel === channels.request) {
      message = decodePubSubRequest(payload, this.nsp.name, BUFFER_DECODING);
    } else if (channel === this.#ownResponses || channel === channels.response) {
      message = decodePubSubResponse(payload, this.nsp.name, BUFFER_DECODING, (requestId) =>
        this.requestKind(requestId),
      );
      // The shared channel carries answers to other nodes' requests too, some of which cannot be
      // read without knowing the request: not malformed, just not ours.
      if (message === null && channel === channels.response) return;
    } else if (channel === channels.nodes) {
      const decoded = decodeMsgpack(payload, BUFFER_DECODING);
      message = decoded.ok ? parseClusterMessage(decoded.value) : null;
    } else {
      return;
    }
    if (message === null) this.onInvalidMessage();
    else this.onMessage(message);
  };

  constructor(
    nsp: AdapterNamespace,
    pub: RedisConnection,
    sub: RedisConnection,
    prefix: string,
    link: TransportLink,
    options: ResolvedClusterAdapterOptions,
  ) {
    super(nsp, link, options);
    this.#pub = pub;
    this.#sub = sub;
    this.#channels = new PubSubChannels(prefix, nsp.name);
    this.#ownResponses = this.#channels.responseFor(this.uid);
    this.#prefix = prefix;
    this.#forwardChannel = nsp.name === "/" ? forwardChannel(prefix, this.uid) : null;
    const channels = this.#channels;
    this.#subscribed = Promise.all([
      this.#forwardChannel === null
        ? undefined
        : sub.subscribe([this.#forwardChannel], this.#onForward, false),
      sub.psubscribe(channels.broadcastPattern, this.#onBroadcast),
      sub.subscribe(
        [channels.request, channels.response, this.#ownResponses, channels.nodes],
        this.#onChannelMessage,
        false,
      ),
    ]).then(() => undefined);
    // A failed subscription is the client's to retry (it resubscribes on reconnection).
    this.#subscribed.catch(() => undefined);
  }

  protected override listening(): Promise<void> {
    return this.#subscribed;
  }

  protected override get forwardsSessions(): boolean {
    return this.#forwardChannel !== null;
  }

  protected override sendForwardFrame(to: string, frame: Uint8Array): Promise<void> {
    return this.#pub.publish(forwardChannel(this.#prefix, to), frame, false);
  }

  /** The namespace's channels (for tests and tools). */
  get channels(): PubSubChannels {
    return this.#channels;
  }

  protected encode(message: ClusterMessage): Publication | { error: string } {
    const publication = encodePubSubMessage(message, this.#channels);
    if ("error" in publication) return publication;
    return { ...publication, size: publication.payload.byteLength };
  }

  protected async send(message: Publication): Promise<undefined> {
    await this.#pub.publish(message.channel, message.payload, false);
    return undefined;
  }

  protected async sendResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    const publication = encodePubSubResponse(response, this.#channels, requesterUid);
    if ("error" in publication) throw new TypeError(publication.error);
    await this.#pub.publish(publication.channel, publication.payload, false);
  }

  /** socket.io's nodes: subscribers of the request channel that are not on duplexio's heartbeat channel. */
  protected override async countSilentNodes(): Promise<number> {
    const [all, duplexio] = await this.#pub.numsub(
      [this.#channels.request, this.#channels.nodes],
      false,
    );
    return Math.max(0, all! - duplexio!);
  }

  protected override async closeTransport(): Promise<void> {
    const channels = this.#channels;
    await Promise.allSettled([
      this.#forwardChannel === null
        ? undefined
        : this.#sub.unsubscribe([this.#forwardChannel], false),
      this.#sub.punsubscribe(channels.broadcastPattern),
      this.#sub.unsubscribe(
        [channels.request, channels.response, this.#ownResponses, channels.nodes],
        false,
      ),
    ]);
  }
}
