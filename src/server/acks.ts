/**
 * Acknowledgements: a callback as an emit's last argument asks the client(s) to answer. Ids come
 * from the namespace's counter; a socket keeps pending handlers in its `acks` map; `timeout(ms)`
 * adds an Error as the callback's first argument ("operation has timed out", or null).
 */

import type { OutgoingSocketPacket } from "../protocol/socketio/index.js";
import type { AckHandler, BroadcastOptions, NamespaceAdapter } from "./adapter.js";

/** The message of the Error given to acknowledgement callbacks whose time ran out. */
export const ACK_TIMEOUT_MESSAGE = "operation has timed out";

/** A timeout Error; `emitWithAck` on broadcasts adds the responses that did arrive. */
export interface AckTimeoutError extends Error {
  responses?: unknown;
}

/**
 * Registers `ack` for packet `id`. Without `timeout`, the handler gets the client's arguments;
 * with one, it gets `(null, ...args)`, or `(Error)` once `timeout` ms passed without answer (the
 * handler is then forgotten).
 */
export function registerAck(
  acks: Map<number, AckHandler>,
  id: number,
  ack: AckHandler,
  timeout: number | undefined,
  thisArg: unknown,
): void {
  if (timeout === undefined) {
    acks.set(id, ack);
    return;
  }
  const timer = setTimeout(() => {
    acks.delete(id);
    ack.call(thisArg, new Error(ACK_TIMEOUT_MESSAGE));
  }, timeout);
  acks.set(id, (...args: unknown[]) => {
    clearTimeout(timer);
    ack.call(thisArg, null, ...args);
  });
}

/**
 * Broadcasts `packet` expecting an acknowledgement from every recipient: `ack(null, responses)`
 * once all answered (the first argument of each client's answer, in arrival order), or
 * `ack(Error, responsesSoFar)` after `flags.timeout` ms. With `expectSingleResponse` (an emit to
 * one RemoteSocket) the response itself is given instead of an array.
 *
 * As in socket.io, the timer runs with `flags.timeout` even when it is undefined (then it fires
 * on the next timer turn): broadcasts with acknowledgement are meant to be used with `timeout()`.
 */
export function broadcastWithAck(
  adapter: NamespaceAdapter,
  packet: OutgoingSocketPacket,
  opts: BroadcastOptions,
  ack: (err: Error | null, responses: unknown) => void,
): void {
  const single = opts.flags?.expectSingleResponse === true;
  const responses: unknown[] = [];
  let done = false;
  let expectedServerCount = -1;
  let actualServerCount = 0;
  let expectedClientCount = 0;

  const timer = setTimeout(() => {
    done = true;
    // Clients that never answer would otherwise keep the handler in their acks map.
    if (packet.id !== undefined) removeAcks(adapter, packet.id, opts);
    ack(new Error(ACK_TIMEOUT_MESSAGE), single ? null : responses);
  }, opts.flags?.timeout);

  const checkCompleteness = (): void => {
    // At least the expected servers: a cluster adapter may report a node that went away between
    // the broadcast and serverCount() (with no clients, so the counts still add up).
    if (
      !done &&
      expectedServerCount !== -1 &&
      actualServerCount >= expectedServerCount &&
      responses.length === expectedClientCount
    ) {
      done = true;
      clearTimeout(timer);
      ack(null, single ? responses[0] : responses);
    }
  };

  try {
    adapter.broadcastWithAck(
      packet,
      opts,
      (clientCount) => {
        // Each server of a cluster reports how many of its clients got the packet.
        expectedClientCount += clientCount;
        actualServerCount++;
        checkCompleteness();
      },
      (clientResponse) => {
        if (done) return;
        responses.push(clientResponse);
        checkCompleteness();
      },
    );
  } catch (error) {
    clearTimeout(timer);
    throw error;
  }

  adapter.serverCount().then(
    (serverCount) => {
      expectedServerCount = serverCount;
      checkCompleteness();
    },
    () => {
      // Without a server count the broadcast can only end by its timeout.
    },
  );
}

/**
 * Forgets the acknowledgement handlers of broadcast `id` on this server's sockets, through the
 * adapter when it can (only the targeted sockets), else on every socket of the namespace (ids are
 * unique within a namespace, so no other handler is touched).
 */
export function removeAcks(adapter: NamespaceAdapter, id: number, opts: BroadcastOptions): void {
  if (adapter.removeAcks !== undefined) {
    adapter.removeAcks(id, opts);
    return;
  }
  for (const socket of adapter.nsp.sockets.values()) socket.acks.delete(id);
}
