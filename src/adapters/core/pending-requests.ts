/**
 * Requests to the other nodes that are waiting for answers (`fetchSockets()`, `serverSideEmit`
 * with acknowledgement, ...). A request waits for the nodes known alive when it was sent, and for
 * a number of anonymous answers (nodes that send no heartbeats: socket.io's own nodes on some
 * transports). It ends as soon as all of them answered, when a node it waits for is gone, or at
 * its timeout: then with the answers that arrived and the number of nodes that did not answer.
 * A request never fails because one node is slow or gone.
 */
import type { ClusterMessageType, ClusterResponse } from "../../protocol/cluster/messages.js";

export { type ClusterAnswer, markAnswer } from "../../server/adapter.js";

/** Default most requests waiting at once per adapter. */
export const DEFAULT_MAX_PENDING_REQUESTS = 1024;

/** Called once when a request ends: the answers (in arrival order), and the nodes missing. */
export type RequestDone = (answers: ClusterResponse[], missingNodes: number) => void;

interface PendingRequest {
  readonly kind: ClusterMessageType;
  readonly waitingFor: Set<string>;
  /** Nodes it waited for that went away before answering: they count as missing. */
  gone: number;
  anonymousLeft: number;
  readonly answers: ClusterResponse[];
  readonly timer: NodeJS.Timeout;
  readonly done: RequestDone;
}

export class PendingRequests {
  readonly #requests = new Map<string, PendingRequest>();
  readonly #maxPending: number;

  constructor(maxPending = DEFAULT_MAX_PENDING_REQUESTS) {
    this.#maxPending = maxPending;
  }

  /** The number of requests waiting. */
  get size(): number {
    return this.#requests.size;
  }

  /**
   * Starts waiting for the answers to request `requestId`. Returns false (and calls nothing)
   * when too many requests are waiting already; ends at once when there is nobody to wait for.
   *
   * @param kind - the request's message type (to read answers that do not say what they answer)
   * @param nodes - the ids of the nodes expected to answer
   * @param anonymous - how many answers without a node id are expected
   */
  start(
    requestId: string,
    kind: ClusterMessageType,
    nodes: Iterable<string>,
    anonymous: number,
    timeoutMs: number,
    done: RequestDone,
  ): boolean {
    if (this.#requests.size >= this.#maxPending) return false;
    const waitingFor = new Set(nodes);
    if (waitingFor.size === 0 && anonymous <= 0) {
      done([], 0);
      return true;
    }
    const timer = setTimeout(() => this.finish(requestId), timeoutMs);
    // A pending request must not keep the process alive.
    timer.unref();
    this.#requests.set(requestId, {
      kind,
      waitingFor,
      gone: 0,
      anonymousLeft: anonymous,
      answers: [],
      timer,
      done,
    });
    return true;
  }

  /** The message type of request `requestId`, if it is waiting. */
  kindOf(requestId: string): ClusterMessageType | undefined {
    return this.#requests.get(requestId)?.kind;
  }

  /**
   * Records an answer. Its node is one the request waits for; or a node without heartbeats
   * (`known` false: one of the anonymous answers expected); or a node that appeared after the
   * request was sent (kept without counting). A second answer from a node is ignored.
   *
   * @param known - whether the answering node sends heartbeats (is in the node registry)
   */
  answer(response: ClusterResponse, known: boolean): void {
    const requestId = response.data.requestId;
    const request = this.#requests.get(requestId);
    if (request === undefined) return;
    const uid = response.uid;
    if (uid !== "" && request.answers.some((answer) => answer.uid === uid)) return;
    if (!request.waitingFor.delete(uid) && (uid === "" || !known)) request.anonymousLeft--;
    request.answers.push(response);
    this.#finishIfComplete(requestId, request);
  }

  /**
   * Node `uid` is gone: no request waits for it any longer. It did not answer, so the requests
   * that waited for it end incomplete (it counts among their missing nodes).
   */
  nodeGone(uid: string): void {
    for (const [requestId, request] of this.#requests) {
      if (!request.waitingFor.delete(uid)) continue;
      request.gone++;
      this.#finishIfComplete(requestId, request);
    }
  }

  /** Ends every request now, with the answers that arrived (the adapter closes). */
  finishAll(): void {
    for (const requestId of [...this.#requests.keys()]) this.finish(requestId);
  }

  #finishIfComplete(requestId: string, request: PendingRequest): void {
    if (request.waitingFor.size === 0 && request.anonymousLeft <= 0) this.finish(requestId);
  }

  /** Ends request `requestId` now, with the answers that arrived. */
  finish(requestId: string): void {
    const request = this.#requests.get(requestId);
    if (request === undefined) return;
    this.#requests.delete(requestId);
    clearTimeout(request.timer);
    request.done(
      request.answers,
      request.waitingFor.size + request.gone + Math.max(0, request.anonymousLeft),
    );
  }
}
