/**
 * The chat on the main namespace: nicknames, rooms, messages with acknowledgements, presence,
 * a typing indicator and the periodic clock tick.
 *
 * Handlers never trust their arguments (see validation.ts) and never throw: a bad request gets an
 * error in its acknowledgement (or a "notice" event when it sent no callback), and everyone else
 * keeps being served.
 * @module
 */

import { randomBytes } from "node:crypto";
import type { Server, Socket } from "../server/index.js";
import type {
  ChatClientEvents,
  ChatMessage,
  ChatSocketData,
  DemoClusterEvents,
  DemoServerEvents,
} from "./events.js";
import { TokenBucket } from "./rate-limit.js";
import { checkMessageText, checkNickname, checkRoomName } from "./validation.js";

/** The demo's Socket.IO server, with its event types. */
export type DemoIo = Server<ChatClientEvents, DemoServerEvents, DemoClusterEvents, ChatSocketData>;
type ChatSocket = Socket<ChatClientEvents, DemoServerEvents, DemoClusterEvents, ChatSocketData>;

/** The room everyone starts in. */
export const LOBBY = "lobby";
/** Most rooms one socket may be in: rooms cost server memory, so a script cannot make millions. */
export const MAX_ROOMS_PER_SOCKET = 10;

/** A token bucket's settings. */
export interface RateLimit {
  capacity: number;
  refillPerSecond: number;
}

/** Options of {@link attachChat}. */
export interface ChatOptions {
  /** Milliseconds between two clock ticks (5000 in the classic Socket.IO example). */
  tickIntervalMs: number;
  /** Chat messages per socket: a burst of `capacity`, then `refillPerSecond`. */
  messageRateLimit: RateLimit;
  /** Joins, leaves and typing notifications per socket. */
  actionRateLimit: RateLimit;
  /** The rate limiters' clock, in milliseconds (tests move it by hand). */
  now?: () => number;
}

/** The running chat; `close()` stops the tick (the sockets are the server's to close). */
export interface Chat {
  close(): void;
}

/** Wires the chat into `io`'s main namespace. */
export function attachChat(io: DemoIo, options: ChatOptions): Chat {
  // Message ids are unique across the servers of a cluster: this server's prefix, then a count.
  const idPrefix = randomBytes(4).toString("hex");
  let nextMessageId = 1;

  // The nickname is checked once, before the socket joins the namespace: a refused client gets a
  // `connect_error` with this message. A recovered socket skips middlewares (its data, nickname
  // included, comes back with it), as connectionStateRecovery's `skipMiddlewares` says.
  io.use((socket, next) => {
    const nickname = checkNickname(socket.handshake.auth.nickname);
    if (!nickname.ok) {
      next(new Error(nickname.error));
      return;
    }
    socket.data.nickname = nickname.value;
    next();
  });

  io.on("connection", (socket) => {
    const bucketOptions = options.now === undefined ? {} : { now: options.now };
    const messageBucket = new TokenBucket({ ...options.messageRateLimit, ...bucketOptions });
    const actionBucket = new TokenBucket({ ...options.actionRateLimit, ...bucketOptions });

    // A recovered socket is back in its rooms already, and the messages it missed are on their
    // way; a new one starts in the lobby.
    if (!socket.recovered) socket.join(LOBBY);
    const rooms = joinedRooms(socket);
    socket.emit("welcome", { nickname: socket.data.nickname, rooms, recovered: socket.recovered });
    for (const room of rooms) void announcePresence(io, room);

    socket.on("join", (roomInput, ack) => {
      if (!actionBucket.tryTake()) return refuse(socket, ack, slowDown(actionBucket));
      const room = checkRoomName(roomInput);
      if (!room.ok) return refuse(socket, ack, room.error);
      if (!socket.rooms.has(room.value) && joinedRooms(socket).length >= MAX_ROOMS_PER_SOCKET) {
        return refuse(socket, ack, `you can be in at most ${MAX_ROOMS_PER_SOCKET} rooms`);
      }
      socket.join(room.value);
      void roomMembers(io, room.value).then((members) => {
        reply(ack, { ok: true, room: room.value, members });
        io.to(room.value).emit("presence", { room: room.value, members });
      });
    });

    socket.on("leave", (roomInput, ack) => {
      if (!actionBucket.tryTake()) return refuse(socket, ack, slowDown(actionBucket));
      const room = checkRoomName(roomInput);
      if (!room.ok) return refuse(socket, ack, room.error);
      socket.leave(room.value);
      reply(ack, { ok: true });
      void announcePresence(io, room.value);
    });

    socket.on("message", (request, ack) => {
      // The rate limit comes first: checking costs little, but a refused flood should cost less.
      if (!messageBucket.tryTake()) return refuse(socket, ack, slowDown(messageBucket));
      const fields = typeof request === "object" && request !== null ? request : {};
      const room = checkRoomName((fields as { room?: unknown }).room);
      if (!room.ok) return refuse(socket, ack, room.error);
      if (!socket.rooms.has(room.value)) {
        return refuse(socket, ack, `join #${room.value} before writing there`);
      }
      const text = checkMessageText((fields as { text?: unknown }).text);
      if (!text.ok) return refuse(socket, ack, text.error);

      const message: ChatMessage = {
        id: `${idPrefix}-${nextMessageId++}`,
        room: room.value,
        from: socket.data.nickname,
        text: text.value,
        at: Date.now(),
      };
      // The others get it as an event; the sender gets it in the acknowledgement (its tick mark),
      // so it is sent to each person once.
      socket.to(room.value).emit("message", message);
      reply(ack, { ok: true, message });
    });

    socket.on("typing", (roomInput, typing) => {
      // Typing notifications are a nicety: over the limit or malformed, they are dropped quietly.
      if (!actionBucket.tryTake()) return;
      const room = checkRoomName(roomInput);
      if (!room.ok || !socket.rooms.has(room.value)) return;
      // Volatile: a notification that cannot be sent now is worthless later, so it is not
      // buffered for slow clients nor kept for recovery.
      socket.to(room.value).volatile.emit("typing", {
        room: room.value,
        nickname: socket.data.nickname,
        typing: typing === true,
      });
    });

    // The rooms are still known while "disconnecting"; once "disconnect" fires the socket has
    // left them, so the members lists sent then no longer include it.
    let roomsAtDisconnect: string[] = [];
    socket.on("disconnecting", () => {
      roomsAtDisconnect = joinedRooms(socket);
    });
    socket.on("disconnect", () => {
      for (const room of roomsAtDisconnect) void announcePresence(io, room);
    });
  });

  // The classic Socket.IO example's server push. Volatile, so that a client that is offline for a
  // minute is not replayed twelve stale ticks when its session is recovered; local, since every
  // server of a cluster ticks for its own clients.
  const tick = setInterval(() => {
    io.local.volatile.emit("tick", { at: Date.now() });
  }, options.tickIntervalMs);

  return {
    close: () => clearInterval(tick),
  };
}

/** The rooms a socket is in, without the private room named after its id. */
function joinedRooms(socket: ChatSocket): string[] {
  const rooms: string[] = [];
  for (const room of socket.rooms) if (room !== socket.id) rooms.push(String(room));
  return rooms;
}

/**
 * The nicknames in a room. `fetchSockets()` asks the adapter, so this stays right if the in-memory
 * adapter is replaced by one spanning several servers.
 */
async function roomMembers(io: DemoIo, room: string): Promise<string[]> {
  try {
    const sockets = await io.in(room).fetchSockets();
    return [...new Set(sockets.map((s) => s.data.nickname))].sort();
  } catch {
    // An adapter failing to answer must not become an unhandled rejection: nobody is listed.
    return [];
  }
}

async function announcePresence(io: DemoIo, room: string): Promise<void> {
  const members = await roomMembers(io, room);
  io.to(room).emit("presence", { room, members });
}

function slowDown(bucket: TokenBucket): string {
  const seconds = Math.max(1, Math.ceil(bucket.msUntilNextToken() / 1000));
  return `you are sending too fast: wait ${seconds} s`;
}

/** Calls the client's acknowledgement callback, if it sent one. */
function reply(ack: unknown, value: object): void {
  if (typeof ack === "function") ack(value);
}

/** Answers a refused request: in its acknowledgement, or as a notice when it asked for none. */
function refuse(socket: ChatSocket, ack: unknown, error: string): void {
  if (typeof ack === "function") ack({ ok: false, error });
  else socket.emit("notice", { text: error });
}
