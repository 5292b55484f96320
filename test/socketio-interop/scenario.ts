/**
 * The server side of the interop scenario run by the python3-socketio clients (python/*.py):
 * auth-checking middleware on "/" and "/chat", acks both ways, binary both ways, rooms, a
 * server-side namespace disconnect. What the server saw is recorded for the test to assert.
 */
import type { Server, Socket } from "./subject.js";

/** One thing the server saw, with Buffers described as `{ bytes: hex }` to compare as JSON. */
export interface ServerEvent {
  nsp: string;
  event: string;
  args: unknown[];
}

/** JSON-comparable form of a received value (Buffers and typed arrays as hex). */
export function describe(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString("hex") };
  if (value instanceof ArrayBuffer) return { bytes: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(describe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  }
  return value;
}

/** The payload of a CONNECT_ERROR sent when the token is wrong. */
export const REFUSAL = { message: "unauthorized", data: { reason: "bad token" } };

/** Installs the scenario on `io`; returns the live list of what the server saw. */
export function installScenario(io: Server): ServerEvent[] {
  const seen: ServerEvent[] = [];
  const record = (socket: Socket, event: string, args: unknown[]) =>
    seen.push({ nsp: socket.nsp.name, event, args: args.map(describe) });

  for (const name of ["/", "/chat"]) {
    const nsp = io.of(name);
    nsp.use((socket, next) => {
      if (socket.handshake.auth.token === "secret") return next();
      next(Object.assign(new Error(REFUSAL.message), { data: REFUSAL.data }));
    });
    nsp.on("connection", (socket) => {
      record(socket, "connection", [socket.handshake.auth]);
      socket.emit("welcome", {
        nsp: socket.nsp.name,
        id: socket.id,
        user: socket.handshake.auth.user,
      });
      socket.on("disconnect", (reason) => record(socket, "disconnect", [reason]));
    });
  }

  io.of("/").on("connection", (socket) => {
    socket.on("hello", (...args: unknown[]) => record(socket, "hello", args));
    socket.on("add", (a: number, b: number, ack: (...reply: unknown[]) => void) => {
      record(socket, "add", [a, b]);
      ack(a + b, "sum");
    });
    socket.on("ask-me", () => {
      socket.emit("question", "what is 6*7?", (answer: unknown) => {
        record(socket, "question-ack", [answer]);
        socket.emit("answer-received", answer);
      });
    });
    socket.on("bin", (data: Buffer, ack: (reply: unknown) => void) => {
      record(socket, "bin", [data]);
      ack({ size: data.length, reversed: Buffer.from(data).reverse() });
    });
    socket.on("bin-nested", (data: unknown, ack: (reply: unknown) => void) => {
      record(socket, "bin-nested", [data]);
      ack("ok");
    });
    socket.on("ask-bin", () => {
      const inner = [Buffer.from("héllo"), Buffer.alloc(0)];
      socket.emit("server-bin", Buffer.from([1, 2, 3]), { inner, n: 7 }, (reply: unknown) => {
        record(socket, "server-bin-ack", [reply]);
        socket.emit("bin-ack-received", reply);
      });
    });
  });

  const chat = io.of("/chat");
  chat.on("connection", (socket) => {
    socket.on("chat", (text: string, ack: (reply: string) => void) => {
      record(socket, "chat", [text]);
      socket.join("room1");
      ack(`${socket.nsp.name}:${text}`);
      chat.to("room1").emit("room-msg", "to room1");
    });
    socket.on("leave-me", () => socket.disconnect());
  });
  return seen;
}
