/**
 * Type-level test of the client's typed events (compiled, never run): what socket.io-client v4
 * users write must compile, the mistakes its types catch must fail (each `@ts-expect-error` must
 * find an error, or tsc fails), and inferred types are checked exactly.
 * Checked by typed-events.test.ts (and by the project's `tsc --noEmit`).
 */
import {
  type ConnectError,
  type DefaultEventsMap,
  type DisconnectDescription,
  type DisconnectReason,
  io,
  Manager,
  type Socket,
} from "../../../src/client/index.js";

/** True when A and B are the same type. */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** True when A is `any`. */
type IsAny<A> = 0 extends 1 & A ? true : false;
function assertTrue<T extends true>(): T | undefined {
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Without events maps: any event, any arguments; annotated listeners and inline callbacks work.

export async function untyped(): Promise<void> {
  const socket = io("http://localhost:3000");
  assertTrue<Equals<typeof socket, Socket<DefaultEventsMap, DefaultEventsMap>>>();
  socket.on("chat", (text: string, ack: (ok: boolean) => void) => ack(text.length > 0));
  socket.on("anything", (...args) => {
    // Unannotated parameters are `any`, as with socket.io-client's DefaultEventsMap.
    assertTrue<IsAny<(typeof args)[number]>>();
  });
  socket.emit("chat", "hi", { nested: [1n] }, (reply) => {
    assertTrue<IsAny<typeof reply>>();
  });
  socket.timeout(100).emit("chat", (err: Error, reply: string) => [err, reply]);
  const answer = await socket.emitWithAck("question", 1);
  assertTrue<IsAny<typeof answer>>();
  socket.send("a", 1);
  socket.onAny((event, ...args) => [event.toUpperCase(), args]);
  socket.onAnyOutgoing((event: string, n: number) => [event, n]);
  socket.compress(false).volatile.emit("x");
  const buffered: unknown = socket.sendBuffer[0]?.data;
  void buffered;
}

// ---------------------------------------------------------------------------------------------
// With events maps.

interface ServerToClientEvents {
  hello: (greeting: string) => void;
  count: (n: number, ack: (seen: boolean) => void) => void;
}

interface ClientToServerEvents {
  double: (n: number, ack: (doubled: number) => void) => void;
  notify: (message: string) => void;
  noAnswer: (ack: () => void) => void;
}

export async function typed(): Promise<void> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
  socket.on("hello", (greeting) => {
    assertTrue<Equals<typeof greeting, string>>();
  });
  socket.on("count", (n, ack) => {
    assertTrue<Equals<typeof n, number>>();
    ack(true);
  });
  // @ts-expect-error wrong parameter type
  socket.on("hello", (greeting: number) => greeting);
  // @ts-expect-error unknown event
  socket.on("goodbye", () => {});

  socket.emit("notify", "text");
  socket.emit("double", 2, (doubled) => {
    assertTrue<Equals<typeof doubled, number>>();
  });
  // @ts-expect-error wrong argument type
  socket.emit("double", "2", () => {});
  // @ts-expect-error unknown event
  socket.emit("nope");
  // @ts-expect-error missing argument
  socket.emit("notify");

  socket.timeout(1000).emit("double", 2, (err, doubled) => {
    assertTrue<Equals<typeof err, Error>>();
    assertTrue<Equals<typeof doubled, number>>();
  });
  const doubled = await socket.emitWithAck("double", 2);
  assertTrue<Equals<typeof doubled, number>>();
  const timed = await socket.timeout(10).emitWithAck("double", 3);
  assertTrue<Equals<typeof timed, number>>();
  // @ts-expect-error no acknowledgement to wait for
  await socket.emitWithAck("notify", "x");

  socket.on("connect", () => {});
  socket.on("connect_error", (err) => {
    assertTrue<Equals<typeof err, ConnectError>>();
    const data: unknown = err.data;
    void data;
  });
  socket.on("disconnect", (reason, description) => {
    assertTrue<Equals<typeof reason, DisconnectReason>>();
    assertTrue<Equals<typeof description, DisconnectDescription | undefined>>();
  });
  // @ts-expect-error reserved listener with a wrong signature
  socket.on("connect", (x: string) => x);

  const manager = socket.io;
  manager.on("reconnect_attempt", (attempt) => {
    assertTrue<Equals<typeof attempt, number>>();
  });
  manager.on("error", (err) => {
    assertTrue<Equals<typeof err, Error>>();
  });
  // @ts-expect-error a Manager has no user events
  manager.on("hello", () => {});
  manager.reconnectionDelay(500).reconnectionAttempts(3);
  const delay: number = manager.reconnectionDelay();
  void delay;

  const other = new Manager<ServerToClientEvents, ClientToServerEvents>("http://h").socket("/x");
  assertTrue<Equals<typeof other, Socket<ServerToClientEvents, ClientToServerEvents>>>();
}
