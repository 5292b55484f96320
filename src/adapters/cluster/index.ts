/**
 * `duplexio/adapters/cluster`: the workers of Node's cluster module (every core of one machine)
 * act as one server, through the IPC channel to the primary, without Redis. A drop-in for
 * `@socket.io/cluster-adapter` (same import shape, same messages: its workers and duplexio's
 * may share a primary, set up by either package's `setupPrimary`).
 *
 * ```ts
 * import cluster from "node:cluster";
 * import { availableParallelism } from "node:os";
 * import { Server } from "duplexio";
 * import { createAdapter, setupPrimary } from "duplexio/adapters/cluster";
 *
 * if (cluster.isPrimary) {
 *   setupPrimary();
 *   for (let i = 0; i < availableParallelism(); i++) cluster.fork();
 * } else {
 *   const io = new Server(3000, { adapter: createAdapter() });
 * }
 * ```
 *
 * Binary values cross the IPC channel intact only with `cluster.setupPrimary({ serialization:
 * "advanced" })` (Node's default, JSON, turns a Buffer into `{ type: "Buffer", data: [...] }`).
 * HTTP long-polling needs no sticky sessions: a request for another worker's session is relayed to
 * that worker through the primary (duplexio's `setupPrimary` routes them), and a WebSocket
 * upgrade landing on another worker is bridged to it.
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import {
  type ClusterMessage,
  type ClusterResponse,
  isClusterResponse,
  parseClusterMessage,
} from "../../protocol/cluster/messages.js";
import type { AdapterNamespace } from "../../server/adapter.js";
import {
  ClusterAdapter,
  type ClusterAdapterOptions,
  type ResolvedClusterAdapterOptions,
  resolveClusterAdapterOptions,
} from "../core/cluster-adapter.js";
import { type AdapterLogger, TransportLink } from "../core/transport-link.js";

export type { ClusterAdapterOptions } from "../core/cluster-adapter.js";
export type { ClusterAnswer } from "../core/pending-requests.js";
export type { AdapterLogger } from "../core/transport-link.js";

/** What marks the adapters' messages among a process's IPC messages (socket.io's value). */
const MESSAGE_SOURCE = "_sio_adapter";
/** What marks session forwarding frames (duplexio's own; routed by duplexio's primary only). */
const FORWARD_SOURCE = "_duplexio_forward";

/**
 * A session forwarding frame on the IPC channel: `to` the node it is for, `uid` the sender, the
 * frame in base64 (intact whatever the channel's serialization).
 */
interface ForwardIpcMessage {
  source: typeof FORWARD_SOURCE;
  uid: string;
  to: string;
  frame: string;
}

/** An IPC message of the adapters. */
type IpcMessage = ClusterMessage & { source: string; requesterUid?: string };

interface Encoded {
  readonly message: IpcMessage;
  /** IPC serializes the message itself: not measured (the queue is bounded by count). */
  readonly size: number;
}

/** Options of {@link createAdapter}. */
export interface NodeClusterAdapterOptions extends ClusterAdapterOptions {
  /** Where the adapter reports losing the IPC channel (default `console`). */
  logger?: AdapterLogger;
}

/** The namespaces' adapters of this worker, fed by one `message` listener while there are any. */
const workerAdapters = new Map<string, Set<NodeClusterAdapter>>();

/** One namespace's adapter in a worker. */
export class NodeClusterAdapter extends ClusterAdapter<Encoded> {
  /** The process's one `message` listener while this worker has adapters: IPC to the adapters. */
  static readonly #onProcessMessage = (message: unknown): void => {
    const source = (message as { source?: unknown } | null)?.source;
    if (source === FORWARD_SOURCE) {
      const { to, frame } = message as { to?: unknown; frame?: unknown };
      if (typeof to !== "string" || typeof frame !== "string") return;
      for (const adapter of workerAdapters.get("/") ?? []) {
        if (adapter.uid === to) adapter.onForwardFrame(Buffer.from(frame, "base64"));
      }
      return;
    }
    if (source !== MESSAGE_SOURCE) return;
    const nsp = (message as { nsp?: unknown }).nsp;
    if (typeof nsp !== "string") return;
    const adapters = workerAdapters.get(nsp);
    if (adapters === undefined) return;
    const parsed = parseClusterMessage(message);
    for (const adapter of adapters) {
      if (parsed === null) adapter.onInvalidMessage();
      else adapter.onMessage(parsed);
    }
  };

  constructor(nsp: AdapterNamespace, link: TransportLink, options: ResolvedClusterAdapterOptions) {
    super(nsp, link, options);
    let adapters = workerAdapters.get(nsp.name);
    if (adapters === undefined) {
      adapters = new Set();
      workerAdapters.set(nsp.name, adapters);
    }
    if (!process.listeners("message").includes(NodeClusterAdapter.#onProcessMessage)) {
      process.on("message", NodeClusterAdapter.#onProcessMessage);
    }
    adapters.add(this);
  }

  protected override get forwardsSessions(): boolean {
    return this.nsp.name === "/";
  }

  protected override sendForwardFrame(to: string, frame: Uint8Array): Promise<void> {
    const message: ForwardIpcMessage = {
      source: FORWARD_SOURCE,
      uid: this.uid,
      to,
      frame: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("base64"),
    };
    return sendToPrimary(message);
  }

  protected encode(message: ClusterMessage): Encoded {
    return { message: { ...message, source: MESSAGE_SOURCE }, size: 0 };
  }

  protected send(encoded: Encoded): Promise<undefined> {
    return sendToPrimary(encoded.message);
  }

  protected sendResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    return sendToPrimary({ ...response, source: MESSAGE_SOURCE, requesterUid });
  }

  protected override closeTransport(): void {
    const adapters = workerAdapters.get(this.nsp.name);
    if (adapters === undefined) return;
    adapters.delete(this);
    if (adapters.size === 0) workerAdapters.delete(this.nsp.name);
    if (workerAdapters.size === 0) process.off("message", NodeClusterAdapter.#onProcessMessage);
  }
}

function sendToPrimary(message: IpcMessage | ForwardIpcMessage): Promise<undefined> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined || !process.connected) {
      reject(new Error("no IPC channel"));
      return;
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve(undefined)));
  });
}

/** The IPC link of this worker: up while the channel to the primary is connected. */
let processLink: TransportLink | undefined;

function ipcLink(logger: AdapterLogger): TransportLink {
  if (processLink !== undefined) return processLink;
  const link = new TransportLink("the IPC channel to the primary", logger);
  link.markUp();
  process.once("disconnect", () => link.markDown(new Error("the primary is gone")));
  processLink = link;
  return link;
}

/**
 * An adapter for a worker of Node's cluster module (or any child process with an IPC channel to
 * a parent that routes like {@link setupPrimary}).
 *
 * @throws TypeError outside a process with an IPC channel, or for an invalid option.
 */
export function createAdapter(
  opts: NodeClusterAdapterOptions = {},
): (nsp: AdapterNamespace) => NodeClusterAdapter {
  if (typeof process.send !== "function") {
    throw new TypeError(
      "the cluster adapter runs in a worker of node:cluster (a process with an IPC channel); call setupPrimary() in the primary",
    );
  }
  const options = resolveClusterAdapterOptions(opts);
  const link = ipcLink(opts.logger ?? console);
  return (nsp) => new NodeClusterAdapter(nsp, link, options);
}

let primarySetUp = false;

/**
 * Routes the adapters' messages between the workers; call it once in the primary. Answers go to
 * the worker that asked, session forwarding frames to the worker they are for, everything else to
 * every worker but the sender.
 */
export function setupPrimary(): void {
  if (primarySetUp) return;
  primarySetUp = true;
  /** Node ids (one per namespace and worker) to their worker. */
  const workerOf = new Map<string, Worker>();
  cluster.on("exit", (worker) => {
    for (const [uid, owner] of workerOf) if (owner === worker) workerOf.delete(uid);
  });
  cluster.on("message", (worker: Worker, message: unknown) => {
    const source = (message as { source?: unknown } | null)?.source;
    if (source !== FORWARD_SOURCE && source !== MESSAGE_SOURCE) return;
    const { uid } = message as { uid?: unknown };
    // Learnt from every message, forwarding frames included: a worker just (re)started may
    // forward a request before its first heartbeat, and the answer must find it.
    if (typeof uid === "string" && uid.length <= 64 && workerOf.get(uid) !== worker) {
      workerOf.set(uid, worker);
    }
    if (source === FORWARD_SOURCE) {
      const { to } = message as { to?: unknown };
      if (typeof to !== "string") return;
      const target = workerOf.get(to);
      if (target !== undefined) {
        if (target !== worker && target.isConnected()) {
          target.send(message as object, undefined, ignoreError);
        }
        return;
      }
      // Not heard from yet: every other worker gets it, and only the one it is for reads it.
      sendToOthers(worker, message as object);
      return;
    }
    const { requesterUid } = message as { requesterUid?: unknown };
    const checked = parseClusterMessage(message);
    if (checked === null) return;
    if (isClusterResponse(checked) && typeof requesterUid === "string") {
      const requester = workerOf.get(requesterUid);
      if (requester !== undefined) {
        if (requester.isConnected()) requester.send(message as object, undefined, ignoreError);
        return;
      }
    }
    sendToOthers(worker, message as object);
  });
}

/** Sends `message` to every connected worker but `sender`. */
function sendToOthers(sender: Worker, message: object): void {
  for (const other of Object.values(cluster.workers ?? {})) {
    if (other !== undefined && other !== sender && other.isConnected()) {
      other.send(message, undefined, ignoreError);
    }
  }
}

function ignoreError(): void {}
