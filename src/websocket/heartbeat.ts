/**
 * Opt-in detection of dead peers: ping every client at an interval and terminate those that do
 * not answer with a pong in time. A half-open TCP connection (peer vanished without FIN) is
 * otherwise only noticed when a write fails, which may be never.
 * @module
 */

import { debugLogger } from "./debug.js";
import type { WebSocket } from "./websocket.js";

const debug = debugLogger("duplexio:websocket");

/** Timer functions, injectable so tests can drive time by hand. */
export interface HeartbeatTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link startHeartbeat}. */
export interface HeartbeatSettings {
  /** Ms between pings. */
  interval: number;
  /** Ms a peer has to answer a ping (default: `interval`). */
  timeout?: number;
  /** Timer functions (default: the global ones, with timers unref'd so they never hold the process). */
  timers?: HeartbeatTimers;
}

/** A running heartbeat. */
export interface Heartbeat {
  /** Stops pinging and removes the pong listeners it added. */
  stop(): void;
}

const defaultTimers: HeartbeatTimers = {
  setInterval(callback, ms) {
    return setInterval(callback, ms).unref();
  },
  clearInterval(handle) {
    clearInterval(handle as NodeJS.Timeout);
  },
  setTimeout(callback, ms) {
    return setTimeout(callback, ms).unref();
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Per-socket state: the round of the unanswered ping (0: none) and the listeners added. */
interface PeerState {
  awaitedRound: number;
  onPong: () => void;
  onClose: () => void;
}

/**
 * Every `interval` ms, pings each OPEN socket of `clients` (read afresh each time, so a live Set
 * works) that is not already awaiting a pong; a socket that has not answered `timeout` ms after
 * its ping is terminated (its `close` reports 1006). Any pong counts as an answer.
 */
export function startHeartbeat(
  clients: Iterable<WebSocket>,
  settings: HeartbeatSettings,
): Heartbeat {
  const timers = settings.timers ?? defaultTimers;
  const timeout = settings.timeout ?? settings.interval;
  const peers = new Map<WebSocket, PeerState>();
  const deadlines = new Set<unknown>();
  let round = 0;
  let stopped = false;

  function forget(socket: WebSocket): void {
    const state = peers.get(socket);
    if (state === undefined) return;
    socket.off("pong", state.onPong);
    socket.off("close", state.onClose);
    peers.delete(socket);
  }

  function track(socket: WebSocket): PeerState {
    let state = peers.get(socket);
    if (state === undefined) {
      const created: PeerState = {
        awaitedRound: 0,
        onPong: () => {
          created.awaitedRound = 0;
        },
        onClose: () => forget(socket),
      };
      state = created;
      peers.set(socket, state);
      socket.on("pong", state.onPong);
      socket.on("close", state.onClose);
    }
    return state;
  }

  function tick(): void {
    round++;
    const current = round;
    let pinged = false;
    for (const socket of clients) {
      if (socket.readyState !== socket.OPEN) continue;
      const state = track(socket);
      if (state.awaitedRound !== 0) continue;
      state.awaitedRound = current;
      pinged = true;
      try {
        socket.ping();
      } catch {
        // The socket closed between the state check and the ping: nothing to watch.
        forget(socket);
      }
    }
    if (!pinged) return;
    const handle = timers.setTimeout(() => {
      deadlines.delete(handle);
      if (stopped) return;
      for (const [socket, state] of peers) {
        if (state.awaitedRound !== current) continue;
        debug?.(`heartbeat missed: no pong within ${timeout} ms, terminating`);
        socket.terminate();
      }
    }, timeout);
    deadlines.add(handle);
  }

  const interval = timers.setInterval(tick, settings.interval);
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      timers.clearInterval(interval);
      for (const handle of deadlines) timers.clearTimeout(handle);
      deadlines.clear();
      for (const socket of [...peers.keys()]) forget(socket);
    },
  };
}
