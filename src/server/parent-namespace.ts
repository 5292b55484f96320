/**
 * Dynamic namespaces: `io.of(/regex/)` or `io.of((name, auth, next) => ...)` returns a parent
 * namespace; each matching name a client connects to becomes a child namespace, created on
 * demand with the parent's middlewares and connection listeners.
 */
import type { OutgoingSocketPacket } from "../protocol/socketio/index.js";
import { removeAcks } from "./acks.js";
import {
  Adapter,
  type AdapterNamespace,
  type BroadcastOptions,
  type NamespaceAdapter,
} from "./adapter.js";
import type { RemoteSocket } from "./broadcast-operator.js";
import { Namespace } from "./namespace.js";
import type { Server } from "./server.js";
import type {
  DefaultEventsMap,
  DefaultSocketData,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
} from "./typed-events.js";

/**
 * Decides whether a dynamic namespace `name` exists: `fn(null, true)` accepts it.
 */
export type ParentNspNameMatchFn = (
  name: string,
  auth: Record<string, unknown>,
  fn: (err: Error | null, success: boolean) => void,
) => void;

let parentCount = 0;

/**
 * The namespace returned by `io.of(regex)` or `io.of(fn)`. Listeners and middlewares set on it
 * apply to the child namespaces created afterwards; broadcasts reach every child.
 *
 * @example
 * const workspaces = io.of(/^\/workspace-\d+$/);
 * workspaces.on("connection", (socket) => {
 *   socket.nsp.emit("joined", socket.id); // only this child namespace, e.g. "/workspace-42"
 * });
 * workspaces.emit("maintenance"); // every child namespace
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** The child namespaces created so far. */
  readonly children: Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Set();

  /** @internal Created by `io.of(regex | fn)`. */
  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, `/_${parentCount++}`);
  }

  /** @internal The parent's adapter forwards broadcasts to the children's adapters. */
  override _initAdapter(): void {
    this.adapter = new ParentBroadcastAdapter(this, () => this.children);
  }

  /** Emits to every socket of every child namespace. */
  override emit<Ev extends EventNamesWithoutAck<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    for (const nsp of this.children) nsp.emit(ev, ...args);
    return true;
  }

  /** @internal Creates the child namespace `name`. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const namespace = new Namespace(this.server, name);
    namespace.ackTimeout = this.ackTimeout;
    for (const fn of this._fns) namespace.use(fn);
    for (const listener of this.listeners("connect")) namespace.on("connect", listener);
    for (const listener of this.listeners("connection")) namespace.on("connection", listener);
    this.children.add(namespace);
    if (this.server.opts.cleanupEmptyChildNamespaces) {
      const remove = namespace._remove.bind(namespace);
      namespace._remove = (socket) => {
        remove(socket);
        if (namespace.sockets.size === 0) this.server._removeChild(namespace, this);
      };
    }
    this.server._nsps.set(name, namespace);
    this.server._emitNewNamespace(namespace);
    return namespace;
  }

  /**
   * Not supported: a parent namespace has no sockets of its own.
   * @throws Error always (as socket.io).
   */
  override fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    throw new Error("fetchSockets() is not supported on parent namespaces");
  }
}

/** Forwards broadcasts to the adapters of the child namespaces. */
class ParentBroadcastAdapter extends Adapter {
  readonly #children: () => Iterable<{ adapter: NamespaceAdapter }>;
  /** Broadcasts with acknowledgement still awaiting answers: the children's packet ids. */
  readonly #pendingAcks = new Map<number, { adapter: NamespaceAdapter; id: number }[]>();

  constructor(nsp: AdapterNamespace, children: () => Iterable<{ adapter: NamespaceAdapter }>) {
    super(nsp);
    this.#children = children;
  }

  override broadcast(packet: OutgoingSocketPacket, opts: BroadcastOptions): void {
    for (const child of this.#children()) child.adapter.broadcast(copyOf(packet), opts);
  }

  override broadcastWithAck(
    packet: OutgoingSocketPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    // The parent's id names the broadcast; each child numbers its packet itself.
    const id = this.nsp._ids++;
    packet.id = id;
    const sent: { adapter: NamespaceAdapter; id: number }[] = [];
    let total = 0;
    let answered = 0;
    const countedAck = (...args: unknown[]): void => {
      if (++answered === total) this.#pendingAcks.delete(id);
      ack(...args);
    };
    for (const child of this.#children()) {
      const childPacket = copyOf(packet);
      childPacket.id = undefined;
      // In-memory children report their count synchronously.
      child.adapter.broadcastWithAck(
        childPacket,
        opts,
        (n) => {
          total += n;
        },
        countedAck,
      );
      if (childPacket.id !== undefined) sent.push({ adapter: child.adapter, id: childPacket.id });
    }
    if (total > 0) this.#pendingAcks.set(id, sent);
    clientCountCallback(total);
  }

  override removeAcks(id: number, opts: BroadcastOptions): void {
    const sent = this.#pendingAcks.get(id);
    if (sent === undefined) return;
    this.#pendingAcks.delete(id);
    for (const child of sent) removeAcks(child.adapter, child.id, opts);
  }
}

/** A copy whose data array a child adapter may extend (with a recovery offset). */
function copyOf(packet: OutgoingSocketPacket): OutgoingSocketPacket {
  const data = Array.isArray(packet.data) ? [...packet.data] : packet.data;
  return { ...packet, data };
}
