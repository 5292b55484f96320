/**
 * One `upgrade` listener per HTTP server, shared by every WebSocketServer attached to it.
 *
 * ws gives each server its own listener, and a server refuses (400) any path it does not own, so
 * two servers on one HTTP server destroy each other's clients. Here the servers attached to one
 * HTTP server are asked in the order they were attached; the first that claims the request gets
 * it. A request nobody claims is refused with 400 only when no other `upgrade` listener exists:
 * a third-party handler (another library, a proxy) may own that path, and its sockets are not
 * ours to end.
 * @module
 */

import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { rejectHandshake } from "./reject-handshake.js";

/** A server taking part in routing. */
export interface UpgradeTarget {
  /** Returns true when it took the request (answered or will answer it, either way). */
  claimUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Routes one source's requests to the targets attached to it. */
export interface TargetRouter {
  attach(target: UpgradeTarget): void;
  /** Returns true when no target is left (the router can be dropped). */
  detach(target: UpgradeTarget): boolean;
}

/**
 * Attaches `target` to `source`'s router in `routers` (made by `make` for the first target).
 * Returns the function that detaches it, dropping the router with its last target.
 */
export function attachToRouter<S extends object>(
  routers: WeakMap<S, TargetRouter>,
  source: S,
  make: (source: S) => TargetRouter,
  target: UpgradeTarget,
): () => void {
  let router = routers.get(source);
  if (!router) {
    router = make(source);
    routers.set(source, router);
  }
  router.attach(target);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    if (routers.get(source)?.detach(target)) routers.delete(source);
  };
}

class UpgradeRouter implements TargetRouter {
  readonly #source: EventEmitter;
  // Replaced, never mutated, so a target detaching during dispatch cannot skip another.
  #targets: readonly UpgradeTarget[] = [];
  readonly #listener: UpgradeListener = (request, socket, head) => {
    for (const target of this.#targets) {
      if (target.claimUpgrade(request, socket, head)) return;
    }
    if (this.#source.listenerCount("upgrade") > 1) return;
    rejectHandshake(socket, 400, "No WebSocket endpoint at this path");
  };

  constructor(source: EventEmitter) {
    this.#source = source;
  }

  attach(target: UpgradeTarget): void {
    this.#targets = [...this.#targets, target];
    // Also re-adds the listener if the application removed it (removeAllListeners("upgrade")).
    if (!this.#source.listeners("upgrade").includes(this.#listener)) {
      this.#source.on("upgrade", this.#listener);
    }
  }

  /** Returns true when no target is left (the router can be dropped). */
  detach(target: UpgradeTarget): boolean {
    this.#targets = this.#targets.filter((t) => t !== target);
    if (this.#targets.length > 0) return false;
    this.#source.off("upgrade", this.#listener);
    return true;
  }
}

const routers = new WeakMap<EventEmitter, TargetRouter>();

/**
 * Routes `server`'s upgrade requests to `target` too (after targets attached earlier).
 * Returns the function that detaches it.
 */
export function attachUpgradeTarget(server: EventEmitter, target: UpgradeTarget): () => void {
  return attachToRouter(routers, server, (source) => new UpgradeRouter(source), target);
}
