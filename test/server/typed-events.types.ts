/**
 * Type-level test of the server's typed events (compiled, never run): what socket.io v4 users
 * write must compile, the mistakes its types catch must fail (each `@ts-expect-error` must find
 * an error, or tsc fails), and inferred types are checked exactly (`assertTrue<Equals<A, B>>()`).
 * Checked by typed-events.test.ts (and by the project's `tsc --noEmit`).
 */
import {
  type DefaultEventsMap,
  type DisconnectReason,
  type Namespace,
  type RemoteSocket,
  Server,
  type Socket,
} from "../../src/index.js";

/** True when A and B are the same type. */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** True when A is `any` (socket.io's default for `socket.data`, `handshake.auth` values). */
type IsAny<A> = 0 extends 1 & A ? true : false;
function expectType<T>(value: T): T {
  return value;
}
function assertTrue<T extends true>(): T | undefined {
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Without events maps: any event, any arguments; annotated listeners and inline callbacks work.

export function untyped(io: Server): void {
  io.on("connection", (socket) => {
    assertTrue<Equals<typeof socket, Socket<DefaultEventsMap, DefaultEventsMap>>>();
    socket.on("disconnect", (reason) => {
      assertTrue<Equals<typeof reason, DisconnectReason>>();
    });
    socket.on("disconnecting", (reason, description) => {
      assertTrue<Equals<typeof reason, DisconnectReason>>();
      assertTrue<Equals<typeof description, unknown>>();
    });
    socket.on("chat", (text: string, ack: (ok: boolean) => void) => {
      ack(text.length > 0);
    });
    socket.on("loose", (value, ack) => {
      // Unannotated parameters are `any`, as with socket.io's DefaultEventsMap.
      assertTrue<IsAny<typeof value>>();
      ack(value.anything);
    });
    socket.on("any-args", (...args: unknown[]) => args.length);

    socket.emit("random", 1, "2", [3], { four: 4 }, Buffer.from("5"));
    socket.emit("no-args");
    socket.emit("with-ack", 1, (response) => {
      assertTrue<IsAny<typeof response>>();
    });
    socket.emit("typed-ack", (n: number, s: string) => n + s.length);
    socket.timeout(1000).emit("with-timeout", (err, response) => {
      if (err) return;
      assertTrue<IsAny<typeof response>>();
    });
    void socket.emitWithAck("question", 1).then((answer) => assertTrue<IsAny<typeof answer>>());
    void socket.timeout(100).emitWithAck("question");
    socket.send("hello", 1);
    socket.volatile.compress(false).emit("fast");

    socket.to("room").emit("to-room", 1);
    socket.broadcast.except("other").emit("broadcast", true);
    socket.data.anything = "goes";
    assertTrue<IsAny<typeof socket.data>>();
    socket.use(([event, ...args], next) => {
      assertTrue<Equals<typeof event, string>>();
      assertTrue<Equals<typeof args, unknown[]>>();
      next(event === "bad" ? new Error("refused") : undefined);
    });
    socket.onAny((event, ...args) => {
      assertTrue<Equals<typeof event, string>>();
      return args;
    });
    socket.onAnyOutgoing((event: string, first: number) => event.length + first);
    void socket.join(["a", "b"]);
    void socket.leave("a");
    socket.disconnect(true);
  });

  io.emit("random", 1, 2, Function, Boolean);
  io.of("/").emit("random2", 2, "string", Server);
  io.to("room").emit("x", 1);
  io.timeout(1000).emit("x", (err, responses) => {
    if (err) return;
    assertTrue<IsAny<typeof responses>>();
  });
  void io
    .to("1")
    .timeout(10)
    .emitWithAck("random", "test")
    .then((responses) => assertTrue<IsAny<typeof responses>>());
  io.send(1, "2", [3]);
  io.send();
  io.use((socket, next) => {
    assertTrue<IsAny<typeof socket.handshake.auth.token>>();
    next(Object.assign(new Error("refused"), { data: { code: 1 } }));
  });
  io.of("/admin").use((_socket, next) => next());
  io.on("new_namespace", (nsp) => {
    assertTrue<Equals<typeof nsp, Namespace<DefaultEventsMap, DefaultEventsMap>>>();
  });
  io.of(/^\/dynamic-\d+$/).on("connection", (socket) => socket.nsp.emit("hello"));
  io.of((name, auth, next) => next(null, name.length > 0 && auth.ok === true));
  io.serverSideEmit("ping", 1);
  io.serverSideEmit("ping", (err, responses) => {
    if (err) return;
    assertTrue<IsAny<typeof responses>>();
  });
  void io.serverSideEmitWithAck("ping");
  void io.fetchSockets().then((sockets) => {
    for (const socket of sockets) {
      socket.emit("hello");
      socket.join("room");
      socket.leave("room");
      socket.disconnect();
      assertTrue<Equals<typeof socket.id, string>>();
    }
  });
  io.in("room").socketsJoin(["a", "b"]);
  io.except("room").socketsLeave("a");
  io.local.disconnectSockets(true);
}

// ---------------------------------------------------------------------------------------------
// With events maps (socket.io's documented example).

interface ClientToServerEvents {
  noArgs: () => void;
  helloFromClient: (message: string) => void;
  ackFromClient: (a: string, b: number, ack: (c: string, d: number) => void) => void;
}

interface ServerToClientEvents {
  noArgs: () => void;
  helloFromServer: (message: string, x: number) => void;
  ackFromServer: (a: boolean, b: string, ack: (c: boolean, d: string) => void) => void;
  ackFromServerSingleArg: (a: boolean, b: string, ack: (c: string) => void) => void;
  onlyCallback: (a: () => void) => void;
}

interface InterServerEvents {
  ping: (n: number) => void;
  withAck: (ack: (value: string) => void) => void;
}

interface SocketData {
  name: string;
  age: number;
}

export function typed(
  io: Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>,
): void {
  io.on("connection", (socket) => {
    expectType<Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>>(
      socket,
    );
    socket.on("helloFromClient", (message) => {
      assertTrue<Equals<typeof message, string>>();
    });
    socket.on("ackFromClient", (a, b, ack) => {
      assertTrue<Equals<typeof a, string>>();
      assertTrue<Equals<typeof b, number>>();
      ack("c", 1);
      // @ts-expect-error the acknowledgement takes (string, number)
      ack(1, "c");
    });
    // @ts-expect-error not a client-to-server event
    socket.on("helloFromServer", () => undefined);
    // @ts-expect-error too many parameters
    socket.on("helloFromClient", (_a: string, _b: number) => undefined);

    socket.emit("helloFromServer", "hi", 1);
    // @ts-expect-error wrong argument types
    socket.emit("helloFromServer", 1, "hi");
    // @ts-expect-error unknown event
    socket.emit("nope");
    socket.emit("ackFromServer", true, "b", (c, d) => {
      assertTrue<Equals<typeof c, boolean>>();
      assertTrue<Equals<typeof d, string>>();
    });
    socket.timeout(100).emit("ackFromServerSingleArg", true, "b", (err, c) => {
      assertTrue<Equals<typeof err, Error>>();
      assertTrue<Equals<typeof c, string>>();
    });
    void socket.emitWithAck("ackFromServerSingleArg", true, "b").then((c) => {
      assertTrue<Equals<typeof c, string>>();
    });
    void socket
      .timeout(100)
      .emitWithAck("ackFromServer", true, "b")
      .then((c) => assertTrue<Equals<typeof c, boolean>>());
    // @ts-expect-error "helloFromServer" takes no acknowledgement
    void socket.emitWithAck("helloFromServer", "a", 1);

    socket.data.name = "ada";
    // @ts-expect-error age is a number
    socket.data.age = "old";
    socket.broadcast.emit("helloFromServer", "hi", 2);
    socket
      .to("room")
      .timeout(100)
      .emit("ackFromServerSingleArg", true, "x", (err, answers) => {
        assertTrue<Equals<typeof err, Error>>();
        assertTrue<Equals<typeof answers, string[]>>();
      });
  });

  io.emit("helloFromServer", "everyone", 0);
  io.emit("noArgs");
  // @ts-expect-error a broadcast without timeout cannot take acknowledgements
  io.emit("ackFromServer", true, "b", () => undefined);
  io.timeout(100).emit("ackFromServer", true, "b", (err, c) => {
    assertTrue<Equals<typeof err, Error>>();
    assertTrue<Equals<typeof c, boolean[]>>();
  });
  void io
    .timeout(100)
    .emitWithAck("ackFromServerSingleArg", true, "b")
    .then((answers) => assertTrue<Equals<typeof answers, string[]>>());
  void io
    .to("room")
    .timeout(1)
    .emitWithAck("ackFromServer", false, "x")
    .then((answers) => assertTrue<Equals<typeof answers, boolean[]>>());
  // @ts-expect-error the map has no "message" event
  io.send(1);

  io.serverSideEmit("ping", 1);
  // @ts-expect-error ping takes a number
  io.serverSideEmit("ping", "1");
  io.serverSideEmit("withAck", (err, values) => {
    assertTrue<Equals<typeof err, Error>>();
    assertTrue<Equals<typeof values, string[]>>();
  });
  void io
    .serverSideEmitWithAck("withAck")
    .then((values) => assertTrue<Equals<typeof values, string[]>>());
  io.on("ping", (n) => assertTrue<Equals<typeof n, number>>());

  void io.fetchSockets().then((sockets) => {
    assertTrue<Equals<typeof sockets, RemoteSocket<ServerToClientEvents, SocketData>[]>>();
    const [first] = sockets;
    if (first) {
      assertTrue<Equals<typeof first.data, SocketData>>();
      first.emit("helloFromServer", "you", 3);
      first.timeout(100).emit("ackFromServerSingleArg", true, "b", (err, c) => {
        assertTrue<Equals<typeof err, Error>>();
        assertTrue<Equals<typeof c, string>>();
      });
    }
  });

  const admin = io.of("/admin");
  admin.on("connection", (socket) => {
    socket.emit("noArgs");
  });
  admin.use((socket, next) => {
    assertTrue<Equals<typeof socket.data, SocketData>>();
    next();
  });
}

// ---------------------------------------------------------------------------------------------
// Inferred generics and the message event.

export function messages(): void {
  const io = new Server<Record<never, never>, { message: (a: number, b: string) => void }>();
  io.send(1, "2");
  // @ts-expect-error message requires arguments
  io.send();
  // @ts-expect-error message requires the right arguments
  io.send(1, 2);
  io.on("connection", (socket) => {
    socket.send(1, "x");
  });
  assertTrue<Equals<Parameters<typeof io.send>, [a: number, b: string]>>();
}
