/**
 * Which other nodes of the cluster are alive, from what they send: a node becomes known by its
 * heartbeats (sent every interval), every message of a known node counts as a sign of life, and
 * a node silent for longer than the timeout is considered gone. Pure bookkeeping: the caller
 * passes the time.
 */

/** Default most nodes tracked: more uids than this are ignored (hostile or broken senders). */
export const DEFAULT_MAX_NODES = 10_000;

export class NodeRegistry {
  /** Node id to the time it was last heard from, oldest first (re-inserted on each message). */
  readonly #lastSeen = new Map<string, number>();
  readonly #timeoutMs: number;
  readonly #maxNodes: number;

  /**
   * @param timeoutMs - silence after which a node is gone
   * @param maxNodes - most nodes tracked at once
   */
  constructor(timeoutMs: number, maxNodes = DEFAULT_MAX_NODES) {
    this.#timeoutMs = timeoutMs;
    this.#maxNodes = maxNodes;
  }

  /** The number of live nodes. */
  get size(): number {
    return this.#lastSeen.size;
  }

  /** The live nodes' ids. */
  uids(): IterableIterator<string> {
    return this.#lastSeen.keys();
  }

  /** Whether node `uid` is alive. */
  has(uid: string): boolean {
    return this.#lastSeen.has(uid);
  }

  /**
   * Node `uid` was heard from at `now`. A node becomes known by a heartbeat (`heartbeat` true):
   * other messages only keep known nodes alive, since nodes without heartbeats (socket.io's own,
   * on some transports) are counted another way. Returns true when the node is new.
   */
  seen(uid: string, now: number, heartbeat: boolean): boolean {
    const known = this.#lastSeen.delete(uid);
    if (!known && (!heartbeat || this.#lastSeen.size >= this.#maxNodes)) return false;
    this.#lastSeen.set(uid, now);
    return !known;
  }

  /** Forgets node `uid` (it said it closes). Returns true when it was known. */
  remove(uid: string): boolean {
    return this.#lastSeen.delete(uid);
  }

  /** Forgets the nodes silent since before `now - timeout`; returns their ids. */
  expire(now: number): string[] {
    const threshold = now - this.#timeoutMs;
    const gone: string[] = [];
    for (const [uid, lastSeen] of this.#lastSeen) {
      // Ordered by last message: the first recent one ends the sweep.
      if (lastSeen >= threshold) break;
      gone.push(uid);
    }
    for (const uid of gone) this.#lastSeen.delete(uid);
    return gone;
  }

  /** Forgets every node (the transport was lost: nobody can be heard). */
  clear(): string[] {
    const gone = [...this.#lastSeen.keys()];
    this.#lastSeen.clear();
    return gone;
  }
}
