/**
 * The engine's hook for sessions held by another process of a cluster (any node serves any
 * request, no sticky sessions): a request whose session id is unknown here goes to the
 * forwarder, which serves it through the owner of the session if it can. The engine knows only
 * this interface; cluster adapters implement it (`adapters/core/session-forwarding.ts`).
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebSocket } from "../websocket/websocket.js";
import type { EngineServer } from "./server.js";

/** Accepts the pending WebSocket upgrade (after the engine's checks); `onOpen` gets the socket. */
export type AcceptUpgrade = (onOpen: (websocket: WebSocket) => void) => void;

/** What the engine asks of a session forwarder. */
export interface SessionForwarder {
  /** The id of a new session of this process, made from the engine's random id. */
  markSessionId(random: string): string;
  /**
   * A polling request (or any HTTP request) for session `sid`, unknown here. Returns true when
   * the forwarder took it (it answers it, always, within a bounded time); false to let the
   * engine refuse it as an unknown session.
   */
  forwardRequest(sid: string, request: IncomingMessage, response: ServerResponse): boolean;
  /**
   * A WebSocket upgrade for session `sid`, unknown here, that passed the engine's checks.
   * Returns true when the forwarder took it (it calls `accept`, then bridges the socket to the
   * session's owner); false to let the engine refuse it.
   */
  forwardUpgrade(sid: string, request: IncomingMessage, accept: AcceptUpgrade): boolean;
}

/**
 * An adapter that may install a {@link SessionForwarder} on the engine: the Socket.IO server hands
 * its engine to the main namespace's adapter when it has this method.
 */
export interface EngineBinding {
  bindEngine(engine: EngineServer): void;
}
