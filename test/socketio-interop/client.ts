/**
 * socket.io-client (the official v4 client) for the Socket.IO suites: bounded connect, and an
 * emit-with-ack round trip that proves a connection still works.
 */
import assert from "node:assert/strict";
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { withTimeout } from "../helpers/timing.js";

export type ClientSocket = Socket;

/**
 * Connects a fresh client (no shared Manager, no reconnection: a test sees every failure) and
 * resolves once the namespace is connected; rejects with the connect_error otherwise.
 */
export async function connectClient(
  url: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
  ms = 10000,
): Promise<ClientSocket> {
  const socket = io(url, { forceNew: true, reconnection: false, ...options });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      }),
      ms,
      `socket.io-client connecting to ${url}`,
    );
  } catch (error) {
    socket.disconnect();
    throw error;
  }
  return socket;
}

/** Emits `event` with `args` and resolves to the ack's arguments, rejecting after `ms`. */
export function emitWithAck(
  socket: ClientSocket,
  event: string,
  args: unknown[],
  ms = 5000,
): Promise<unknown[]> {
  return withTimeout(
    new Promise<unknown[]>((resolve) =>
      socket.emit(event, ...args, (...reply: unknown[]) => resolve(reply)),
    ),
    ms,
    `the ack of "${event}"`,
  );
}

/** The next `event` received by `socket`, as its argument list. */
export function nextClientEvent(
  socket: ClientSocket,
  event: string,
  ms = 5000,
): Promise<unknown[]> {
  return withTimeout(
    new Promise<unknown[]>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args))),
    ms,
    `waiting for "${event}" on the client`,
  );
}

/**
 * Asserts that `socket` is connected and that an "echo" emit (text and binary) comes back through
 * the server's ack, as the servers of the hostile and example suites answer it.
 */
export async function expectEchoes(socket: ClientSocket, tag: string): Promise<void> {
  assert.equal(socket.connected, true, `${tag}: the client is still connected`);
  const bytes = Buffer.from(tag);
  const reply = await emitWithAck(socket, "echo", [tag, bytes]);
  assert.equal(reply[0], tag);
  assert.deepEqual(Buffer.from(reply[1] as Uint8Array), bytes);
}
