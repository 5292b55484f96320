/**
 * Any node serves any Engine.IO request: the engine's {@link SessionForwarder}, implemented over a
 * cluster adapter's transport. Session ids carry the id of the node that opened them; a request
 * for another node's session is relayed to that node, which runs it against the real session as
 * if it had arrived there and sends the answer back; a WebSocket upgrade is accepted where it
 * lands and bridged to the owner, whose session gets the bridged socket as its WebSocket
 * transport.
 *
 * Bounded: forwarded requests in flight (each way) and bridges are counted against
 * `maxForwardedRequests`, every forwarded request has a deadline, and requests waiting for a node
 * that is gone are answered at once.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineErrorCode, respondWithError } from "../../engine/errors.js";
import { answerWithoutBody } from "../../engine/http-answer.js";
import { prepareQuery } from "../../engine/request-query.js";
import type { EngineServer } from "../../engine/server.js";
import type { AcceptUpgrade, SessionForwarder } from "../../engine/session-forwarder.js";
import { WebSocketTransport } from "../../engine/transports/websocket.js";
import {
  decodeForwardFrame,
  encodeForwardFrame,
  type ForwardFrame,
  ForwardFrameKind,
  type HeaderLines,
  markSessionId,
  ownerOfSessionId,
} from "../../protocol/cluster/session-forward.js";
import type { WebSocket } from "../../websocket/websocket.js";
import { ForwardedRequest, ForwardedResponse, requestHeaderLines } from "./forwarded-http.js";
import { RelayedWebSocket } from "./relayed-websocket.js";

/** What forwarding needs of the cluster: this node's id, who is alive, a way to each node. */
export interface ForwardingTransport {
  /** This node's id (the owner mark of its sessions). */
  readonly nodeId: string;
  /** Whether node `nodeId` is alive (heard from within the heartbeat timeout). */
  isLive(nodeId: string): boolean;
  /** Sends `frame` to node `to` only. */
  sendFrame(to: string, frame: Uint8Array): Promise<void>;
}

/** Default most forwarded requests and bridges in flight, each way. */
export const DEFAULT_MAX_FORWARDED_REQUESTS = 1024;

/** Limits of {@link SessionForwarding}. */
export interface SessionForwardingLimits {
  /** Most forwarded requests in flight, and most bridged WebSockets, each way (default 1024). */
  maxForwardedRequests?: number;
  /**
   * Milliseconds beyond the engine's ping interval that a forwarded request waits for the
   * owner's answer before it is answered 503 (default 5000): a long poll is held up to the ping
   * interval.
   */
  forwardTimeoutMargin?: number;
}
/** Bytes a bridged WebSocket may hold unsent for a client that does not read. */
const MAX_BRIDGE_BUFFERED = 8 * 1024 * 1024;
/** Default of {@link SessionForwardingLimits.forwardTimeoutMargin}. */
const DEADLINE_MARGIN_MS = 5000;

/** A request this node forwarded, waiting for the owner's answer. */
interface OutgoingRequest {
  readonly owner: string;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly timer: NodeJS.Timeout;
}

/** A WebSocket this node accepted for another node's session. */
interface Bridge {
  readonly owner: string;
  readonly websocket: WebSocket;
}

/** The owner's end of a bridge or a request being served for another node. */
type Served =
  | { readonly kind: "request"; readonly response: ForwardedResponse }
  | { readonly kind: "bridge"; readonly socket: RelayedWebSocket };

/** See the module comment. */
export class SessionForwarding implements SessionForwarder {
  readonly #engine: EngineServer;
  readonly #transport: ForwardingTransport;
  readonly #max: number;
  readonly #margin: number;
  #nextId = 0;
  readonly #outgoing = new Map<number, OutgoingRequest>();
  readonly #bridges = new Map<number, Bridge>();
  /** Keyed by `<node> <id>`. */
  readonly #served = new Map<string, Served>();

  constructor(
    engine: EngineServer,
    transport: ForwardingTransport,
    limits: SessionForwardingLimits = {},
  ) {
    this.#engine = engine;
    this.#transport = transport;
    this.#max = limits.maxForwardedRequests ?? DEFAULT_MAX_FORWARDED_REQUESTS;
    this.#margin = limits.forwardTimeoutMargin ?? DEADLINE_MARGIN_MS;
  }

  markSessionId(random: string): string {
    return markSessionId(this.#transport.nodeId, random);
  }

  /** The live owner of `sid` when it is another node. */
  #remoteOwner(sid: string): string | undefined {
    const owner = ownerOfSessionId(sid);
    if (owner === undefined || owner === this.#transport.nodeId) return undefined;
    return this.#transport.isLive(owner) ? owner : undefined;
  }

  // --- The receiving node -----------------------------------------------------------------

  forwardRequest(sid: string, request: IncomingMessage, response: ServerResponse): boolean {
    const owner = this.#remoteOwner(sid);
    if (owner === undefined) return false;
    if (this.#outgoing.size >= this.#max) {
      respondWithError(response, EngineErrorCode.BadRequest, { name: "FORWARDING_BUSY" }, 503);
      return true;
    }
    const id = this.#nextId++;
    const limit = this.#engine.opts.maxHttpBufferSize;
    const chunks: Buffer[] = [];
    let total = 0;
    let sent = false;
    const send = (): void => {
      if (sent) return;
      sent = true;
      request.off("data", onData);
      request.off("end", send);
      if (response.destroyed) return;
      // One byte beyond the limit is enough for the owner to refuse the body as too large.
      const body = Buffer.concat(chunks, Math.min(total, limit + 1));
      const timer = setTimeout(
        () => this.#fail(id, { name: "FORWARD_TIMEOUT" }, 503),
        this.#engine.opts.pingInterval + this.#margin,
      );
      this.#outgoing.set(id, { owner, request, response, timer });
      response.once("close", () => {
        if (this.#outgoing.get(id)?.response !== response) return;
        this.#finish(id);
        void this.#send(owner, {
          kind: ForwardFrameKind.HttpAbort,
          from: this.#transport.nodeId,
          id,
        }).catch(() => undefined);
      });
      this.#send(owner, {
        kind: ForwardFrameKind.HttpRequest,
        from: this.#transport.nodeId,
        id,
        method: request.method ?? "GET",
        url: request.url ?? "/",
        headers: requestHeaderLines(request),
        body,
        address: request.socket?.remoteAddress ?? "",
      }).catch(() => this.#fail(id, { name: "FORWARD_FAILED" }, 503));
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      chunks.push(chunk);
      if (total > limit) send();
    };
    request.on("data", onData);
    request.once("end", send);
    return true;
  }

  forwardUpgrade(sid: string, request: IncomingMessage, accept: AcceptUpgrade): boolean {
    const owner = this.#remoteOwner(sid);
    if (owner === undefined || this.#bridges.size >= this.#max) return false;
    accept((websocket) => {
      const id = this.#nextId++;
      const from = this.#transport.nodeId;
      this.#bridges.set(id, { owner, websocket });
      websocket.on("message", (data, isBinary) => {
        const bytes = data as Buffer;
        void this.#send(owner, {
          kind: ForwardFrameKind.WsMessage,
          from,
          id,
          data: isBinary ? bytes : bytes.toString(),
        }).catch(() => websocket.terminate());
      });
      // Errors end in "close".
      websocket.on("error", () => undefined);
      websocket.once("close", () => {
        if (this.#bridges.get(id)?.websocket !== websocket) return;
        this.#bridges.delete(id);
        void this.#send(owner, { kind: ForwardFrameKind.WsClose, from, id }).catch(() => undefined);
      });
      void this.#send(owner, {
        kind: ForwardFrameKind.WsOpen,
        from,
        id,
        url: request.url ?? "/",
        headers: requestHeaderLines(request),
      }).catch(() => websocket.terminate());
    });
    return true;
  }

  /** Answers forwarded request `id` with an error (owner gone, no answer in time...). */
  #fail(id: number, context: { name: string }, status: number): void {
    const pending = this.#finish(id);
    if (pending === undefined) return;
    respondWithError(pending.response, EngineErrorCode.UnknownSid, context, status);
  }

  #finish(id: number): OutgoingRequest | undefined {
    const pending = this.#outgoing.get(id);
    if (pending === undefined) return undefined;
    this.#outgoing.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  #onAnswer(id: number, from: string, status: number, headers: HeaderLines, body: Buffer): void {
    const pending = this.#outgoing.get(id);
    if (pending === undefined || pending.owner !== from) return;
    this.#finish(id);
    const { request, response } = pending;
    if (response.headersSent || response.writableEnded || response.destroyed) return;
    for (const [name, value] of groupHeaders(headers)) response.setHeader(name, value);
    if (request.complete) {
      response.setHeader("Content-Length", body.length);
      response.writeHead(status);
      response.end(body);
    } else {
      // The owner refused a body this node stopped reading: close politely (see http-answer.ts).
      answerWithoutBody(request, response, status, {}, body.toString());
    }
  }

  // --- The owner ----------------------------------------------------------------------------

  #serveRequest(frame: Extract<ForwardFrame, { kind: typeof ForwardFrameKind.HttpRequest }>): void {
    const key = `${frame.from} ${frame.id}`;
    const from = this.#transport.nodeId;
    const reply = (status: number, headers: HeaderLines, body: Uint8Array): void => {
      void this.#send(frame.from, {
        kind: ForwardFrameKind.HttpResponse,
        from,
        id: frame.id,
        status,
        headers,
        body,
      }).catch(() => undefined);
    };
    if (this.#served.size >= this.#max || this.#served.has(key)) {
      reply(
        503,
        [["Content-Type", "application/json"]],
        Buffer.from('{"code":3,"message":"Bad request"}'),
      );
      return;
    }
    const request = new ForwardedRequest(
      frame.method,
      frame.url,
      frame.headers,
      frame.body,
      frame.address,
    );
    const response = new ForwardedResponse(request, reply);
    this.#served.set(key, { kind: "request", response });
    response.once("close", () => {
      if (this.#served.get(key)?.kind === "request") this.#served.delete(key);
    });
    this.#engine.handleRequest(request.asIncomingMessage(), response.asServerResponse());
  }

  #openBridge(frame: Extract<ForwardFrame, { kind: typeof ForwardFrameKind.WsOpen }>): void {
    const key = `${frame.from} ${frame.id}`;
    const from = this.#transport.nodeId;
    const refuse = (): void => {
      void this.#send(frame.from, {
        kind: ForwardFrameKind.WsOwnerClose,
        from,
        id: frame.id,
      }).catch(() => undefined);
    };
    if (this.#served.size >= this.#max || this.#served.has(key)) {
      refuse();
      return;
    }
    const request = new ForwardedRequest("GET", frame.url, frame.headers, null).asIncomingMessage();
    const query = prepareQuery(request);
    const session = this.#engine.clients.get(query.sid ?? "");
    if (
      session === undefined ||
      !this.#engine.opts.allowUpgrades ||
      session.readyState !== "open" ||
      session.transport.name !== "polling" ||
      session.upgrading ||
      session.upgraded
    ) {
      refuse();
      return;
    }
    const socket = new RelayedWebSocket(
      (data) =>
        this.#send(frame.from, { kind: ForwardFrameKind.WsOwnerMessage, from, id: frame.id, data }),
      (remote) => {
        if (this.#served.get(key)?.kind === "bridge") this.#served.delete(key);
        if (!remote) refuse();
      },
    );
    this.#served.set(key, { kind: "bridge", socket });
    const transport = new WebSocketTransport(
      request,
      socket.asWebSocket(),
      session.protocol,
      !query.b64,
      -1,
    );
    session.maybeUpgrade(transport);
  }

  // --- Frames -------------------------------------------------------------------------------

  /** A frame from another node (as received: checked here). Returns false when malformed. */
  receive(bytes: Uint8Array): boolean {
    const frame = decodeForwardFrame(bytes);
    if (frame === null) return false;
    switch (frame.kind) {
      case ForwardFrameKind.HttpRequest:
        this.#serveRequest(frame);
        break;
      case ForwardFrameKind.HttpResponse:
        this.#onAnswer(frame.id, frame.from, frame.status, frame.headers, Buffer.from(frame.body));
        break;
      case ForwardFrameKind.HttpAbort: {
        const served = this.#served.get(`${frame.from} ${frame.id}`);
        if (served?.kind === "request") served.response.destroy();
        break;
      }
      case ForwardFrameKind.WsOpen:
        this.#openBridge(frame);
        break;
      case ForwardFrameKind.WsMessage: {
        const served = this.#served.get(`${frame.from} ${frame.id}`);
        if (served?.kind === "bridge") served.socket.receive(frame.data);
        break;
      }
      case ForwardFrameKind.WsClose: {
        const served = this.#served.get(`${frame.from} ${frame.id}`);
        if (served?.kind === "bridge") served.socket.remoteClosed();
        break;
      }
      case ForwardFrameKind.WsOwnerMessage: {
        const bridge = this.#bridges.get(frame.id);
        if (bridge === undefined || bridge.owner !== frame.from) break;
        const websocket = bridge.websocket;
        websocket.send(frame.data, { binary: typeof frame.data !== "string" });
        // A client that does not read: end its WebSocket rather than queue without bound.
        if (websocket.bufferedAmount > MAX_BRIDGE_BUFFERED) websocket.terminate();
        break;
      }
      case ForwardFrameKind.WsOwnerClose: {
        const bridge = this.#bridges.get(frame.id);
        if (bridge !== undefined && bridge.owner === frame.from) {
          this.#bridges.delete(frame.id);
          bridge.websocket.close();
        }
        break;
      }
    }
    return true;
  }

  /** Node `nodeId` is gone: what waits for it ends now. */
  nodeGone(nodeId: string): void {
    for (const [id, pending] of this.#outgoing) {
      if (pending.owner === nodeId) this.#fail(id, { name: "SESSION_OWNER_GONE" }, 400);
    }
    for (const [id, bridge] of this.#bridges) {
      if (bridge.owner !== nodeId) continue;
      this.#bridges.delete(id);
      bridge.websocket.close();
    }
    const prefix = `${nodeId} `;
    for (const [key, served] of this.#served) {
      if (!key.startsWith(prefix)) continue;
      if (served.kind === "request") served.response.destroy();
      else served.socket.remoteClosed();
    }
  }

  /** Ends everything under way (the adapter closes). */
  close(): void {
    for (const id of [...this.#outgoing.keys()]) this.#fail(id, { name: "FORWARDING_CLOSED" }, 503);
    for (const bridge of this.#bridges.values()) bridge.websocket.close();
    this.#bridges.clear();
    for (const served of [...this.#served.values()]) {
      if (served.kind === "request") served.response.destroy();
      else served.socket.remoteClosed();
    }
  }

  #send(to: string, frame: ForwardFrame): Promise<void> {
    const encoded = encodeForwardFrame(frame);
    if (!(encoded instanceof Uint8Array)) return Promise.reject(new TypeError(encoded.error));
    return this.#transport.sendFrame(to, encoded);
  }
}

/** Header lines as `setHeader` takes them: one name, its values in order. */
function groupHeaders(lines: HeaderLines): Map<string, string | string[]> {
  const grouped = new Map<string, string | string[]>();
  for (const [name, value] of lines) {
    const existing = grouped.get(name);
    if (existing === undefined) grouped.set(name, value);
    else if (Array.isArray(existing)) existing.push(value);
    else grouped.set(name, [existing, value]);
  }
  return grouped;
}
