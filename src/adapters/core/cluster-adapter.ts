/**
 * The node-to-node core shared by duplexio's adapters (Redis Pub/Sub, Redis Streams, Node
 * cluster): one namespace's adapter on one node of a cluster. It speaks the cluster message model
 * (`protocol/cluster/messages.ts`); a transport subclass only encodes, sends and receives.
 *
 * What it adds to the in-memory adapter, and where it differs from socket.io-adapter's
 * `ClusterAdapter`:
 * - Local delivery first: a broadcast reaches this node's clients at once, whatever the
 *   transport is doing (socket.io's waits for the publication).
 * - Nodes known from what they send (every message counts, heartbeats fill silences), so that
 *   requests wait only for live nodes, and a node gone mid-request ends the wait for it. Requests
 *   never reject for a slow or dead node: they resolve with the answers that came, marked with
 *   {@link ClusterAnswer}.
 * - Transport outages: while the link is down, messages that can wait (broadcasts, joins,
 *   leaves, disconnects, events between servers without acknowledgement) are queued within
 *   bounds and sent when it returns; requests answer at once with what this node has.
 * - Every queue and map is bounded; nothing a peer sends can crash the process.
 * - Any node serves any Engine.IO request: the main namespace's adapter relays requests for other
 *   nodes' sessions to their owner (`session-forwarding.ts`), where socket.io needs sticky
 *   sessions.
 */
import { randomBytes } from "node:crypto";
import type { EngineServer } from "../../engine/server.js";
import type { EngineBinding } from "../../engine/session-forwarder.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterResponse,
  type ClusterRoom,
  isClusterResponse,
  type WireBroadcastOptions,
  type WirePacket,
  type WireSocket,
} from "../../protocol/cluster/messages.js";
import { EMITTER_UID } from "../../protocol/cluster/redis-pubsub-format.js";
import type { OutgoingSocketPacket } from "../../protocol/socketio/index.js";
import {
  type AckHandler,
  Adapter,
  type AdapterNamespace,
  type AdapterSocket,
  type BroadcastOptions,
  type Room,
  type SocketDetails,
  type SocketId,
} from "../../server/adapter.js";
import { clusterMessageName, debug } from "./debug.js";
import { NodeRegistry } from "./node-registry.js";
import {
  type ClusterAnswer,
  DEFAULT_MAX_PENDING_REQUESTS,
  markAnswer,
  PendingRequests,
} from "./pending-requests.js";
import { DEFAULT_MAX_FORWARDED_REQUESTS, SessionForwarding } from "./session-forwarding.js";
import type { TransportLink } from "./transport-link.js";

/** Options shared by duplexio's cluster adapters; every one has a default. */
export interface ClusterAdapterOptions {
  /** Milliseconds between heartbeats of a node that publishes nothing else (default 5000). */
  heartbeatInterval?: number;
  /** Milliseconds of silence after which a node is considered gone (default 10000). */
  heartbeatTimeout?: number;
  /**
   * Milliseconds requests (`fetchSockets()`, `serverSideEmit` with acknowledgement, ...) wait for
   * the other nodes (default 5000; `io.timeout(ms).fetchSockets()` sets it per call).
   */
  requestsTimeout?: number;
  /** Most requests waiting for answers at once, per namespace (default 1024). */
  maxPendingRequests?: number;
  /** Most messages queued while the transport is down (default 10000; oldest dropped first). */
  maxQueuedMessages?: number;
  /** Most bytes of messages queued while the transport is down (default 16 MiB). */
  maxQueuedBytes?: number;
  /**
   * Most messages handed to the transport and not yet confirmed (default 4096): more wait in the
   * queue, so that a transport that stalls without failing cannot hold unbounded memory.
   */
  maxInFlightMessages?: number;
  /**
   * Milliseconds a broadcast that needs a position in the transport's log (connection state
   * recovery with Redis Streams) waits for it before going to this node's clients without one
   * (default 500). Broadcasts to this node's clients keep their order meanwhile.
   */
  offsetWaitTimeout?: number;
  /**
   * Most requests of other nodes' sessions relayed at once by this node, and most relayed to it;
   * likewise for bridged WebSockets (default 1024). Beyond, requests are answered 503.
   */
  maxForwardedRequests?: number;
}

/** The options with every default filled in. */
export type ResolvedClusterAdapterOptions = Required<ClusterAdapterOptions>;

/** Default options. */
export const DEFAULT_CLUSTER_ADAPTER_OPTIONS: ResolvedClusterAdapterOptions = Object.freeze({
  heartbeatInterval: 5000,
  heartbeatTimeout: 10_000,
  requestsTimeout: 5000,
  maxPendingRequests: DEFAULT_MAX_PENDING_REQUESTS,
  maxQueuedMessages: 10_000,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxInFlightMessages: 4096,
  offsetWaitTimeout: 500,
  maxForwardedRequests: DEFAULT_MAX_FORWARDED_REQUESTS,
});

/**
 * Resolves the options.
 * @throws TypeError for a value that is not a positive number.
 */
export function resolveClusterAdapterOptions(
  options: ClusterAdapterOptions = {},
): ResolvedClusterAdapterOptions {
  const resolved: Record<string, number> = { ...DEFAULT_CLUSTER_ADAPTER_OPTIONS };
  for (const key of Object.keys(DEFAULT_CLUSTER_ADAPTER_OPTIONS)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new TypeError(`adapter option ${key} must be a positive number`);
    }
    resolved[key] = value;
  }
  return resolved as unknown as ResolvedClusterAdapterOptions;
}

/** A message encoded by the transport, ready to send; `size` is its byte count. */
export interface EncodedMessage {
  readonly size: number;
}

/** Counters of one adapter, for metrics. */
export interface ClusterAdapterStats {
  /** Messages handed to the transport and confirmed. */
  published: number;
  /** Messages received from other nodes (valid ones). */
  received: number;
  /** Messages received that were malformed, or could not be applied. */
  invalid: number;
  /** Messages lost: queue overflow while the transport was down, or a failed send. */
  dropped: number;
}

/** A broadcast waiting for its offset before it goes to this node's clients. */
interface LocalDelivery {
  readonly packet: OutgoingSocketPacket;
  readonly opts: BroadcastOptions;
  readonly deadline: number;
  offset: string | undefined;
  ready: boolean;
}

/** A broadcast with acknowledgements sent to the other nodes. */
interface AckRequest {
  readonly clientCountCallback: (clientCount: number) => void;
  readonly ack: AckHandler;
  /** Nodes counted when it was sent, to the clients they reported and the acks that came. */
  readonly nodes: Map<string, { reported: number; acked: number } | null>;
  readonly timer: NodeJS.Timeout;
}

/** Message types that may wait in the queue while the transport is down. */
const QUEUEABLE: ReadonlySet<number> = new Set([
  ClusterMessageType.Broadcast,
  ClusterMessageType.SocketsJoin,
  ClusterMessageType.SocketsLeave,
  ClusterMessageType.DisconnectSockets,
  ClusterMessageType.ServerSideEmit,
]);

/**
 * Requests of duplexio's own (not socket.io-adapter's): socket.io's nodes, which send no
 * heartbeats and are counted by subscriptions, do not know them and never answer.
 */
const DUPLEXIO_REQUESTS: ReadonlySet<number> = new Set([ClusterMessageType.ClaimSession]);

/** Longest wait for the transport's cleanup when an adapter closes. */
const CLOSE_TRANSPORT_WAIT_MS = 2000;

/** Makes a node or request id: 16 hex characters. */
export function randomId(): string {
  return randomBytes(8).toString("hex");
}

/** Broadcast options as they travel. */
export function toWireOptions(opts: BroadcastOptions): WireBroadcastOptions {
  return {
    rooms: [...opts.rooms],
    except: opts.except === undefined ? [] : [...opts.except],
    flags: opts.flags ?? {},
  };
}

/** Broadcast options as received. */
export function fromWireOptions(opts: WireBroadcastOptions): BroadcastOptions {
  return { rooms: new Set(opts.rooms), except: new Set(opts.except), flags: opts.flags ?? {} };
}

/** A socket as `fetchSockets()` answers carry it (without the handshake's `sessionStore`). */
function toWireSocket(socket: AdapterSocket | SocketDetails): WireSocket {
  const { sessionStore: _omitted, ...handshake } = socket.handshake as unknown as Record<
    string,
    unknown
  >;
  return {
    id: socket.id,
    handshake,
    rooms: [...socket.rooms] as ClusterRoom[],
    data: socket.data,
  };
}

/**
 * See the module comment. Transports implement {@link encode}, {@link send} and
 * {@link sendResponse}, and call {@link onMessage} with what they receive.
 */
export abstract class ClusterAdapter<Encoded extends EncodedMessage = EncodedMessage>
  extends Adapter
  implements EngineBinding
{
  /** This node's id in this namespace. */
  readonly uid: string = randomId();
  /** Counters, for metrics. */
  readonly stats: ClusterAdapterStats = { published: 0, received: 0, invalid: 0, dropped: 0 };
  readonly #options: ResolvedClusterAdapterOptions;
  readonly #link: TransportLink;
  readonly #nodes: NodeRegistry;
  readonly #requests: PendingRequests;
  readonly #ackRequests = new Map<string, AckRequest>();
  /** Messages waiting for the transport (down, or too many in flight), oldest first. */
  #queue: Encoded[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #inFlight = 0;
  /** Peers known when the link went down: how many a request could not ask. */
  #peersWhenDown = 0;
  /**
   * Peers known when the link went down and not heard from since it came back: the queue waits
   * for them (see {@link #onLinkUp}).
   */
  readonly #awaitedPeers = new Set<string>();
  /** Set while the queue waits for {@link #awaitedPeers}: ends the wait at the latest. */
  #holdTimer: NodeJS.Timeout | undefined;
  #lastHeartbeatAt = 0;
  readonly #timer: NodeJS.Timeout;
  #localDeliveries: LocalDelivery[] = [];
  #localTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Serving other nodes' sessions (main namespace, once the server binds its engine). */
  #forwarding: { readonly engine: EngineServer; readonly sessions: SessionForwarding } | null =
    null;

  readonly #onLinkUp = (downForMs: number): void => {
    // Peers are found again by asking for their heartbeats.
    void this.#publish({
      uid: this.uid,
      nsp: this.nsp.name,
      type: ClusterMessageType.InitialHeartbeat,
    });
    if (this.#awaitedPeers.size > 0 && !this.keepsMessages) {
      // What waited is sent, in order, once the peers are back: Pub/Sub keeps nothing for a
      // subscriber that has not reconnected yet, and the other nodes reconnect at their own pace
      // (each announces itself as soon as its own link is up). A peer that never comes back
      // holds the queue for a heartbeat timeout at most. A transport that keeps messages (a
      // stream, read from where each node stopped) needs no wait.
      this.#holdTimer = setTimeout(() => this.#releaseQueue(), this.#options.heartbeatTimeout);
      this.#holdTimer.unref();
    } else {
      this.#pump();
    }
    this.emit("transport-up", downForMs);
  };

  readonly #onLinkDown = (reason: Error): void => {
    // Nobody can be heard: requests stop waiting, broadcasts stop waiting for offsets.
    this.#peersWhenDown = Math.max(1, this.#nodes.size);
    for (const uid of this.#nodes.uids()) this.#awaitedPeers.add(uid);
    if (this.#holdTimer !== undefined) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
    for (const uid of this.#nodes.clear()) this.#nodeGone(uid);
    for (const delivery of this.#localDeliveries) delivery.ready = true;
    this.#drainLocalDeliveries();
    this.emit("transport-down", reason);
  };

  constructor(nsp: AdapterNamespace, link: TransportLink, options: ResolvedClusterAdapterOptions) {
    super(nsp);
    this.#options = options;
    this.#link = link;
    this.#nodes = new NodeRegistry(options.heartbeatTimeout);
    this.#requests = new PendingRequests(options.maxPendingRequests);
    link.on("up", this.#onLinkUp);
    link.on("down", this.#onLinkDown);
    const period = Math.max(10, Math.min(1000, options.heartbeatInterval / 2));
    this.#timer = setInterval(() => this.#tick(Date.now()), period);
    // Housekeeping must not keep the process alive.
    this.#timer.unref();
  }

  // --- The transport's part ---------------------------------------------------------------

  /** Encodes a message for the transport (a broadcast: once, whatever the number of nodes). */
  protected abstract encode(message: ClusterMessage): Encoded | { error: string };

  /** Sends an encoded message to the other nodes; resolves with its offset, if the transport keeps a log. */
  protected abstract send(message: Encoded): Promise<string | undefined>;

  /** Sends an answer to node `requesterUid` only. */
  protected abstract sendResponse(requesterUid: string, response: ClusterResponse): Promise<void>;

  /**
   * How many nodes answer requests but send no heartbeats (socket.io's own nodes, on transports
   * where they count nodes by subscriptions instead): requests wait for that many anonymous
   * answers too. 0 unless the transport can tell.
   */
  protected countSilentNodes(): Promise<number> {
    return Promise.resolve(0);
  }

  /**
   * Whether a broadcast needs its offset (its position in the transport's log) in its data before
   * it reaches clients: connection state recovery with a log-based transport. False here.
   */
  protected needsOffset(_packet: WirePacket, _opts: BroadcastOptions): boolean {
    return false;
  }

  /**
   * Whether the transport keeps what is sent for nodes that are not listening right now (a log
   * they read from where they stopped), so that queued messages need not wait for them after an
   * outage. False here (Pub/Sub, IPC).
   */
  protected get keepsMessages(): boolean {
    return false;
  }

  /** Resolves once this node receives the other nodes' messages (its subscriptions are made). */
  protected listening(): Promise<void> {
    return Promise.resolve();
  }

  /** Releases the transport's resources for this namespace (unsubscribes...). */
  protected closeTransport(): Promise<void> | void {}

  /**
   * Another node restores session `pid`: if this node still holds its socket, let it go and
   * store its session; resolve once stored. Nothing to do here.
   */
  protected releaseSession(_pid: string): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A broadcast with `offset` went to this node's clients (log-based transports track how far
   * local delivery has gone). Nothing here.
   */
  protected delivered(_offset: string): void {}

  /**
   * Sockets that must not get the broadcast at `offset` again: they were just restored with it
   * among their missed packets. None here.
   */
  protected alreadyReplayed(_offset: string): ReadonlySet<SocketId> | undefined {
    return undefined;
  }

  /**
   * Whether the transport carries session forwarding frames ({@link sendForwardFrame},
   * {@link onForwardFrame}). False here.
   */
  protected get forwardsSessions(): boolean {
    return false;
  }

  /** Sends a session forwarding frame to node `to` only. */
  protected sendForwardFrame(_to: string, _frame: Uint8Array): Promise<void> {
    return Promise.reject(new Error("this transport does not forward sessions"));
  }

  /** A session forwarding frame for this node arrived. */
  protected onForwardFrame(frame: Uint8Array): void {
    try {
      if (this.#forwarding?.sessions.receive(frame) === false) this.stats.invalid++;
    } catch {
      // A frame that passed the checks but could not be applied: dropped, the others go on.
      this.stats.invalid++;
    }
  }

  /**
   * Called by the Socket.IO server with its Engine.IO server: the main namespace's adapter then
   * makes any node serve any request (session ids name their node; requests for another node's
   * session are relayed to it, WebSocket upgrades bridged). No-op for other namespaces and for
   * transports that cannot relay.
   */
  bindEngine(engine: EngineServer): void {
    if (this.nsp.name !== "/" || !this.forwardsSessions || this.#closed) return;
    this.#unbindEngine();
    const sessions = new SessionForwarding(
      engine,
      {
        nodeId: this.uid,
        isLive: (uid) => this.#nodes.has(uid),
        sendFrame: (to, frame) => this.sendForwardFrame(to, frame),
      },
      { maxForwardedRequests: this.#options.maxForwardedRequests },
    );
    engine.sessionForwarder = sessions;
    this.#forwarding = { engine, sessions };
  }

  #unbindEngine(): void {
    const forwarding = this.#forwarding;
    if (forwarding === null) return;
    this.#forwarding = null;
    forwarding.sessions.close();
    if (forwarding.engine.sessionForwarder === forwarding.sessions) {
      forwarding.engine.sessionForwarder = null;
    }
  }

  // --- Receiving ----------------------------------------------------------------------------

  /**
   * A message from the transport (already checked by `parseClusterMessage`). Messages of this
   * node and of other namespaces are ignored.
   *
   * @param offset - the message's position in the transport's log, if it keeps one
   */
  protected onMessage(message: ClusterMessage, offset?: string): void {
    if (this.#closed || message.uid === this.uid || message.nsp !== this.nsp.name) return;
    debug?.(`${this.nsp.name}: receive ${clusterMessageName(message.type)} from ${message.uid}`);
    this.stats.received++;
    if (message.uid !== EMITTER_UID && message.uid !== "") {
      const heartbeat =
        message.type === ClusterMessageType.InitialHeartbeat ||
        message.type === ClusterMessageType.Heartbeat;
      this.#nodes.seen(message.uid, Date.now(), heartbeat);
      // A node publishes only while its link is up (subscriptions included): it hears us again.
      if (
        this.#awaitedPeers.delete(message.uid) &&
        this.#awaitedPeers.size === 0 &&
        this.#holdTimer !== undefined
      ) {
        this.#releaseQueue();
      }
    }
    try {
      this.#handle(message, offset);
    } catch {
      // Data that passed the shape checks but cannot be applied (e.g. an event packet whose data
      // our encoder refuses): dropped, the others go on.
      this.stats.invalid++;
    }
  }

  /** A malformed message arrived (counted; the transport drops it). */
  protected onInvalidMessage(): void {
    this.stats.invalid++;
  }

  #handle(message: ClusterMessage, offset: string | undefined): void {
    const requester = message.uid;
    switch (message.type) {
      case ClusterMessageType.InitialHeartbeat:
        this.#publish({ uid: this.uid, nsp: this.nsp.name, type: ClusterMessageType.Heartbeat });
        return;
      case ClusterMessageType.Heartbeat:
        return;
      case ClusterMessageType.AdapterClose:
        if (this.#nodes.remove(requester)) this.#nodeGone(requester);
        return;
      case ClusterMessageType.Broadcast: {
        const { packet, opts, requestId } = message.data;
        const local = packet as OutgoingSocketPacket;
        const options = fromWireOptions(opts);
        if (requestId === undefined) {
          if (offset === undefined || !this.needsOffset(packet, options)) {
            super.broadcast(local, options);
          } else {
            (local.data as unknown[]).push(offset);
            super.broadcast(local, this.#skipReplayed(options, offset));
          }
          if (offset !== undefined) this.delivered(offset);
          return;
        }
        super.broadcastWithAck(
          local,
          options,
          (clientCount) =>
            this.#respond(requester, {
              uid: this.uid,
              nsp: this.nsp.name,
              type: ClusterMessageType.BroadcastClientCount,
              data: { requestId, clientCount },
            }),
          (arg) =>
            this.#respond(requester, {
              uid: this.uid,
              nsp: this.nsp.name,
              type: ClusterMessageType.BroadcastAck,
              data: { requestId, packet: arg },
            }),
        );
        return;
      }
      case ClusterMessageType.SocketsJoin:
        super.addSockets(fromWireOptions(message.data.opts), message.data.rooms);
        return;
      case ClusterMessageType.SocketsLeave:
        super.delSockets(fromWireOptions(message.data.opts), message.data.rooms);
        return;
      case ClusterMessageType.DisconnectSockets:
        super.disconnectSockets(fromWireOptions(message.data.opts), message.data.close);
        return;
      case ClusterMessageType.FetchSockets: {
        const { requestId } = message.data;
        void super.fetchSockets(fromWireOptions(message.data.opts)).then((sockets) => {
          this.#respond(requester, {
            uid: this.uid,
            nsp: this.nsp.name,
            type: ClusterMessageType.FetchSocketsResponse,
            data: { requestId, sockets: sockets.map(toWireSocket) },
          });
        });
        return;
      }
      case ClusterMessageType.ServerSideEmit: {
        const { packet, requestId } = message.data;
        if (requestId === undefined) {
          this.nsp._onServerSideEmit(packet);
          return;
        }
        let answered = false;
        const callback = (arg: unknown): void => {
          // One answer per node.
          if (answered) return;
          answered = true;
          this.#respond(requester, {
            uid: this.uid,
            nsp: this.nsp.name,
            type: ClusterMessageType.ServerSideEmitResponse,
            data: { requestId, packet: arg },
          });
        };
        this.nsp._onServerSideEmit([...packet, callback]);
        return;
      }
      case ClusterMessageType.AllRooms:
        this.#respond(requester, {
          uid: this.uid,
          nsp: this.nsp.name,
          type: ClusterMessageType.AllRoomsResponse,
          data: { requestId: message.data.requestId, rooms: [...this.rooms.keys()] },
        });
        return;
      case ClusterMessageType.ClaimSession: {
        const { requestId, pid } = message.data;
        void this.releaseSession(pid)
          .catch(() => undefined)
          .then(() =>
            this.#respond(requester, {
              uid: this.uid,
              nsp: this.nsp.name,
              type: ClusterMessageType.ClaimSessionResponse,
              data: { requestId },
            }),
          );
        return;
      }
      case ClusterMessageType.SocketIds: {
        const { requestId, rooms } = message.data;
        void super.sockets(new Set(rooms)).then((ids) => {
          this.#respond(requester, {
            uid: this.uid,
            nsp: this.nsp.name,
            type: ClusterMessageType.SocketIdsResponse,
            data: { requestId, sockets: [...ids] },
          });
        });
        return;
      }
      default:
        if (isClusterResponse(message)) this.#onResponse(message);
    }
  }

  /** An answer to one of this node's requests. */
  #onResponse(response: ClusterResponse): void {
    if (this.#closed) return;
    if (response.type === ClusterMessageType.BroadcastClientCount) {
      const request = this.#ackRequests.get(response.data.requestId);
      if (request === undefined) return;
      const node = request.nodes.get(response.uid);
      if (node !== undefined) {
        // A node counted when the broadcast was sent; once.
        if (node !== null) return;
        request.nodes.set(response.uid, { reported: response.data.clientCount, acked: 0 });
      } else if (this.#nodes.has(response.uid)) {
        // A node that appeared after the broadcast was sent: serverCount() did not count it.
        return;
      }
      // Otherwise a node without heartbeats, which serverCount() counts among the silent ones.
      request.clientCountCallback(response.data.clientCount);
      return;
    }
    if (response.type === ClusterMessageType.BroadcastAck) {
      const request = this.#ackRequests.get(response.data.requestId);
      if (request === undefined) return;
      const node = request.nodes.get(response.uid);
      if (node) node.acked++;
      request.ack(response.data.packet);
      return;
    }
    this.#requests.answer(response, this.#nodes.has(response.uid));
  }

  /** The kind of this node's request `requestId`, for transports whose answers do not say. */
  protected requestKind(requestId: string): ClusterMessageType | undefined {
    return this.#requests.kindOf(requestId);
  }

  #respond(requesterUid: string, response: ClusterResponse): void {
    if (!this.#link.up || requesterUid === EMITTER_UID) return;
    debug?.(`${this.nsp.name}: answer ${clusterMessageName(response.type)} to ${requesterUid}`);
    this.sendResponse(requesterUid, response).then(
      () => {
        this.stats.published++;
      },
      () => {
        this.stats.dropped++;
      },
    );
  }

  // --- Nodes --------------------------------------------------------------------------------

  #tick(now: number): void {
    // Every interval, even while other messages flow: not every node hears every message
    // (per-room channels), so other messages cannot stand in for heartbeats.
    if (this.#link.up && now - this.#lastHeartbeatAt >= this.#options.heartbeatInterval) {
      this.#lastHeartbeatAt = now;
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.Heartbeat,
      });
    }
    for (const uid of this.#nodes.expire(now)) this.#nodeGone(uid);
    this.#expireLocalDeliveries(now);
  }

  /** Node `uid` is gone: nothing waits for it any longer. */
  #nodeGone(uid: string): void {
    this.#requests.nodeGone(uid);
    this.#forwarding?.sessions.nodeGone(uid);
    for (const request of this.#ackRequests.values()) {
      const node = request.nodes.get(uid);
      if (node === undefined) continue;
      request.nodes.delete(uid);
      // Counted by serverCount() but it will not report: it reported nobody. Reported but some
      // of its clients will never answer: they are no longer expected.
      request.clientCountCallback(node === null ? 0 : node.acked - node.reported);
    }
    this.emit("node-gone", uid);
  }

  /** Whether the transport between the nodes is up (cross-node messages flow). */
  get transportUp(): boolean {
    return this.#link.up;
  }

  /** The number of other nodes known alive (nodes without heartbeats not included). */
  get liveNodeCount(): number {
    return this.#nodes.size;
  }

  override async serverCount(): Promise<number> {
    const silent = this.#link.up ? await this.countSilentNodes().catch(() => 0) : 0;
    return 1 + this.#nodes.size + silent;
  }

  // --- Publishing ---------------------------------------------------------------------------

  /**
   * Encodes and sends `message` (or queues it while the transport cannot take it). Resolves with
   * its offset, or undefined when it has none (queued, lost, or a transport without a log).
   *
   * @throws TypeError when the message cannot be encoded (a broadcast of circular data...).
   */
  #publish(message: ClusterMessage): Promise<string | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    debug?.(`${this.nsp.name}: publish ${clusterMessageName(message.type)} (node ${this.uid})`);
    const encoded = this.encode(message);
    if ("error" in encoded) {
      throw new TypeError(`cannot encode the message for the other nodes: ${encoded.error}`);
    }
    const queueable = QUEUEABLE.has(message.type);
    const canSend = this.#link.up && this.#inFlight < this.#options.maxInFlightMessages;
    // Messages that can wait keep their order behind those waiting; the others (heartbeats,
    // requests, answers) go at once or not at all: they mean nothing later, and a heartbeat
    // stuck behind the queue would keep the peers it waits for from hearing this node.
    const waiting = this.#queueHead < this.#queue.length || this.#holdTimer !== undefined;
    if (canSend && !(queueable && waiting)) return this.#send(encoded);
    if (queueable) this.#enqueue(encoded);
    return Promise.resolve(undefined);
  }

  /** The peers are back (or the wait for them is over): what waited is sent. */
  #releaseQueue(): void {
    if (this.#holdTimer !== undefined) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
    this.#awaitedPeers.clear();
    this.#pump();
  }

  #send(encoded: Encoded): Promise<string | undefined> {
    this.#inFlight++;
    return this.send(encoded).then(
      (offset) => {
        this.#inFlight--;
        this.stats.published++;
        this.#pump();
        return offset;
      },
      () => {
        // At most once: a send that failed is not retried (it may have been applied).
        this.#inFlight--;
        this.stats.dropped++;
        this.#pump();
        return undefined;
      },
    );
  }

  #enqueue(encoded: Encoded): void {
    this.#queue.push(encoded);
    this.#queuedBytes += encoded.size;
    const { maxQueuedMessages, maxQueuedBytes } = this.#options;
    while (
      this.#queue.length - this.#queueHead > maxQueuedMessages ||
      (this.#queuedBytes > maxQueuedBytes && this.#queue.length - this.#queueHead > 1)
    ) {
      const dropped = this.#queue[this.#queueHead++]!;
      this.#queuedBytes -= dropped.size;
      this.stats.dropped++;
    }
  }

  /** Sends what waits in the queue, in order, while the transport takes it. */
  #pump(): void {
    while (
      this.#link.up &&
      this.#holdTimer === undefined &&
      this.#inFlight < this.#options.maxInFlightMessages &&
      this.#queueHead < this.#queue.length
    ) {
      const next = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead++] = undefined as unknown as Encoded;
      this.#queuedBytes -= next.size;
      void this.#send(next);
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** Messages waiting for the transport. */
  get queuedMessages(): number {
    return this.#queue.length - this.#queueHead;
  }

  // --- The adapter API, cluster-wide ----------------------------------------------------------

  /**
   * Announces this node once it hears the others (its subscriptions are in place): they answer
   * with heartbeats, so it knows them at once, and they know it. Of two nodes starting together,
   * the one that subscribes last is heard by the other, whose answer it hears.
   */
  override init(): void {
    void this.listening().then(
      () =>
        this.#publish({
          uid: this.uid,
          nsp: this.nsp.name,
          type: ClusterMessageType.InitialHeartbeat,
        }),
      () => undefined,
    );
  }

  override broadcast(packet: OutgoingSocketPacket, opts: BroadcastOptions): void {
    packet.nsp = this.nsp.name;
    if (opts.flags?.local === true || this.#closed) {
      this.#deliverLocally(packet, opts);
      return;
    }
    const needsOffset = this.needsOffset(packet, opts);
    if (!needsOffset && this.#isLocalSocketRoom(opts)) {
      // A socket's own room lives on one node: nobody else needs it.
      this.#deliverLocally(packet, opts);
      return;
    }
    const message: ClusterMessage = {
      uid: this.uid,
      nsp: this.nsp.name,
      type: ClusterMessageType.Broadcast,
      data: { packet: { ...packet }, opts: toWireOptions(opts) },
    };
    if (!needsOffset) {
      this.#deliverLocally(packet, opts);
      void this.#publish(message);
      return;
    }
    // Encoded (and so checked) before anything is queued: an emit that cannot be encoded throws.
    const published = this.#publish(message);
    const delivery: LocalDelivery = {
      packet,
      opts,
      deadline: Date.now() + this.#options.offsetWaitTimeout,
      offset: undefined,
      ready: false,
    };
    this.#localDeliveries.push(delivery);
    if (this.#localTimer === undefined) this.#armLocalTimer();
    void published.then((offset) => {
      delivery.offset = offset;
      delivery.ready = true;
      this.#drainLocalDeliveries();
    });
  }

  /** `opts` without the sockets restored with the broadcast at `offset` already replayed. */
  #skipReplayed(opts: BroadcastOptions, offset: string): BroadcastOptions {
    const replayed = this.alreadyReplayed(offset);
    if (replayed === undefined || replayed.size === 0) return opts;
    const except = new Set<Room>(opts.except);
    for (const id of replayed) except.add(id);
    return { ...opts, except };
  }

  /** Whether the broadcast targets just one socket of this node (its own room). */
  #isLocalSocketRoom(opts: BroadcastOptions): boolean {
    if (opts.rooms.size !== 1) return false;
    for (const room of opts.rooms) return this.sids.has(room as SocketId);
    return false;
  }

  /** Delivers to this node's clients, after any broadcast still waiting for its offset. */
  #deliverLocally(packet: OutgoingSocketPacket, opts: BroadcastOptions): void {
    if (this.#localDeliveries.length === 0) {
      super.broadcast(packet, opts);
      return;
    }
    this.#localDeliveries.push({ packet, opts, deadline: 0, offset: undefined, ready: true });
  }

  #drainLocalDeliveries(): void {
    const queue = this.#localDeliveries;
    let i = 0;
    for (; i < queue.length && queue[i]!.ready; i++) {
      const { packet, opts, offset } = queue[i]!;
      try {
        if (offset === undefined) {
          super.broadcast(packet, opts);
        } else {
          (packet.data as unknown[]).push(offset);
          super.broadcast(packet, this.#skipReplayed(opts, offset));
          this.delivered(offset);
        }
      } catch {
        // Its data was checked when it was encoded for the other nodes; a getter or toJSON that
        // throws the second time is all that is left.
        this.stats.dropped++;
      }
    }
    if (i > 0) this.#localDeliveries = queue.slice(i);
    if (this.#localDeliveries.length === 0 && this.#localTimer !== undefined) {
      clearTimeout(this.#localTimer);
      this.#localTimer = undefined;
    }
  }

  #armLocalTimer(): void {
    const head = this.#localDeliveries.find((delivery) => !delivery.ready);
    if (head === undefined) return;
    this.#localTimer = setTimeout(
      () => {
        this.#localTimer = undefined;
        this.#expireLocalDeliveries(Date.now());
      },
      Math.max(0, head.deadline - Date.now()),
    );
    this.#localTimer.unref();
  }

  /** Broadcasts whose offset did not come in time go without one. */
  #expireLocalDeliveries(now: number): void {
    let expired = false;
    for (const delivery of this.#localDeliveries) {
      if (!delivery.ready && delivery.deadline <= now) {
        delivery.ready = true;
        expired = true;
      }
    }
    if (expired) this.#drainLocalDeliveries();
    if (this.#localTimer === undefined && this.#localDeliveries.length > 0) this.#armLocalTimer();
  }

  override broadcastWithAck(
    packet: OutgoingSocketPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: AckHandler,
  ): void {
    packet.nsp = this.nsp.name;
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
    // With the link down serverCount() counts no other node: this node's clients are all.
    if (opts.flags?.local === true || !this.#link.up) return;
    if (this.#ackRequests.size >= this.#options.maxPendingRequests) return;
    const requestId = randomId();
    const nodes = new Map<string, { reported: number; acked: number } | null>();
    for (const uid of this.#nodes.uids()) nodes.set(uid, null);
    const timer = setTimeout(
      () => this.#ackRequests.delete(requestId),
      opts.flags?.timeout ?? this.#options.requestsTimeout,
    );
    timer.unref();
    this.#ackRequests.set(requestId, { clientCountCallback, ack, nodes, timer });
    try {
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.Broadcast,
        data: { packet: { ...packet }, opts: toWireOptions(opts), requestId },
      });
    } catch (error) {
      clearTimeout(timer);
      this.#ackRequests.delete(requestId);
      throw error;
    }
  }

  override async fetchSockets(
    opts: BroadcastOptions,
  ): Promise<(AdapterSocket | SocketDetails)[] & ClusterAnswer> {
    const local = await super.fetchSockets(opts);
    if (opts.flags?.local === true) return markAnswer(local, 0);
    const { answers, missing } = await this.ask(
      ClusterMessageType.FetchSockets,
      (requestId) => ({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.FetchSockets,
        data: { opts: toWireOptions(opts), requestId },
      }),
      opts.flags?.timeout,
    );
    const all: (AdapterSocket | SocketDetails)[] = local;
    for (const answer of answers) {
      if (answer.type !== ClusterMessageType.FetchSocketsResponse) continue;
      for (const socket of answer.data.sockets) {
        all.push(socket as unknown as SocketDetails);
      }
    }
    return markAnswer(all, missing);
  }

  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (opts.flags?.local !== true) {
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.SocketsJoin,
        data: { opts: toWireOptions(opts), rooms },
      });
    }
    super.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (opts.flags?.local !== true) {
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.SocketsLeave,
        data: { opts: toWireOptions(opts), rooms },
      });
    }
    super.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    if (opts.flags?.local !== true) {
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.DisconnectSockets,
        data: { opts: toWireOptions(opts), close },
      });
    }
    super.disconnectSockets(opts, close);
  }

  /**
   * Sends an event to the other nodes. With an acknowledgement callback (last element) it gets
   * `(null, responses)` once every live node answered, or at the timeout with the answers that
   * came (`responses.complete` tells which: see {@link ClusterAnswer}).
   */
  override serverSideEmit(packet: unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last !== "function") {
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.ServerSideEmit,
        data: { packet },
      });
      return;
    }
    const ack = last as (err: Error | null, responses: unknown[]) => void;
    const args = packet.slice(0, -1);
    void this.ask(ClusterMessageType.ServerSideEmit, (requestId) => ({
      uid: this.uid,
      nsp: this.nsp.name,
      type: ClusterMessageType.ServerSideEmit,
      data: { packet: args, requestId },
    })).then(({ answers, missing }) => {
      const responses = answers.map(
        (answer) => (answer as { data: { packet: unknown } }).data.packet,
      );
      ack(null, markAnswer(responses, missing));
    });
  }

  /** The rooms of every node (socket ids included, as `@socket.io/redis-adapter`'s). */
  async allRooms(): Promise<Set<Room> & ClusterAnswer> {
    const rooms = new Set<Room>(this.rooms.keys());
    const { answers, missing } = await this.ask(ClusterMessageType.AllRooms, (requestId) => ({
      uid: this.uid,
      nsp: this.nsp.name,
      type: ClusterMessageType.AllRooms,
      data: { requestId },
    }));
    for (const answer of answers) {
      if (answer.type !== ClusterMessageType.AllRoomsResponse) continue;
      for (const room of answer.data.rooms) rooms.add(room);
    }
    return markAnswer(rooms, missing);
  }

  /**
   * Sends a request built by `build` (given its id) and waits for the answers of the live nodes
   * and the silent ones (not for duplexio's own requests, which they cannot answer); never
   * rejects. `missing` counts the nodes that did not answer.
   */
  protected async ask(
    kind: ClusterMessageType,
    build: (requestId: string) => ClusterMessage,
    timeoutMs: number = this.#options.requestsTimeout,
  ): Promise<{ answers: ClusterResponse[]; missing: number }> {
    if (this.#closed) return { answers: [], missing: 0 };
    if (!this.#link.up) return { answers: [], missing: this.#peersWhenDown };
    const silent = DUPLEXIO_REQUESTS.has(kind) ? 0 : await this.countSilentNodes().catch(() => 0);
    if (this.#nodes.size === 0 && silent === 0) return { answers: [], missing: 0 };
    const requestId = randomId();
    debug?.(
      `${this.nsp.name}: request ${clusterMessageName(kind)} ${requestId} to ${this.#nodes.size} nodes (+${silent} silent), ${timeoutMs} ms`,
    );
    return new Promise((resolve) => {
      const started = this.#requests.start(
        requestId,
        kind,
        this.#nodes.uids(),
        silent,
        timeoutMs,
        (answers, missing) => resolve({ answers, missing }),
      );
      if (!started) {
        resolve({ answers: [], missing: this.#nodes.size + silent });
        return;
      }
      try {
        void this.#publish(build(requestId));
      } catch {
        // The request's own data cannot be encoded: nobody was asked.
        this.#requests.finish(requestId);
      }
    });
  }

  override close(): Promise<void> | void {
    if (this.#closed) return;
    if (this.#link.up) {
      void this.#publish({
        uid: this.uid,
        nsp: this.nsp.name,
        type: ClusterMessageType.AdapterClose,
      });
    }
    this.#closed = true;
    this.#unbindEngine();
    clearInterval(this.#timer);
    if (this.#localTimer !== undefined) clearTimeout(this.#localTimer);
    if (this.#holdTimer !== undefined) clearTimeout(this.#holdTimer);
    for (const delivery of this.#localDeliveries) delivery.ready = true;
    this.#drainLocalDeliveries();
    this.#requests.finishAll();
    for (const request of this.#ackRequests.values()) clearTimeout(request.timer);
    this.#ackRequests.clear();
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    this.#link.off("up", this.#onLinkUp);
    this.#link.off("down", this.#onLinkDown);
    // Unsubscribing waits for Redis, which may be away: closing the server must not hang on it.
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TRANSPORT_WAIT_MS);
      void Promise.resolve()
        .then(() => this.closeTransport())
        .catch(() => undefined)
        .then(() => {
          clearTimeout(timer);
          resolve();
        });
    });
  }
}
