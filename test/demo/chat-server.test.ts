/**
 * The demo's chat server from Node, with the official socket.io-client: what a hostile or buggy
 * client sends gets a clear refusal, and nobody else is disturbed.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { io, type Socket } from "socket.io-client";
import type { DemoServer } from "../../src/demo/server.js";
import { withTimeout } from "../helpers/timing.js";
import { ManualClock, startTestServer } from "./demo-fixture.js";

/** Connects to the chat as `nickname`; resolves once connected, rejects with the connect_error. */
async function connect(url: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(url, { forceNew: true, reconnection: false, auth, transports: ["websocket"] });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      }),
      10_000,
      "connecting",
    );
  } catch (error) {
    socket.disconnect();
    throw error;
  }
  return socket;
}

/** Emits with an acknowledgement and resolves to its first argument. */
function ask(socket: Socket, event: string, ...args: unknown[]): Promise<unknown> {
  return socket.timeout(10_000).emitWithAck(event, ...args);
}

/**
 * The first argument of the next `event`. (With connection state recovery, socket.io-client also
 * passes the packet's offset to listeners, as an extra last argument.)
 */
function next(socket: Socket, event: string): Promise<unknown> {
  return withTimeout(
    new Promise((resolve) => socket.once(event, (first: unknown) => resolve(first))),
    10_000,
    `waiting for ${event}`,
  );
}

describe("demo chat server", () => {
  const clock = new ManualClock();
  let server: DemoServer;
  const sockets: Socket[] = [];
  let ada: Socket;
  let ben: Socket;

  before(async () => {
    server = await startTestServer(clock, { tickIntervalMs: 60_000 });
    ada = await connect(server.url, { nickname: "ada" });
    ben = await connect(server.url, { nickname: "ben" });
    sockets.push(ada, ben);
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await server?.stop();
  });
  beforeEach(() => clock.refillAll());

  it("refuses a connection without an acceptable nickname", async () => {
    for (const [auth, message] of [
      [{}, "a nickname is required"],
      [{ nickname: 42 }, "a nickname is required"],
      [{ nickname: "   " }, "a nickname is required"],
      [{ nickname: "x".repeat(25) }, "nicknames are at most 24 characters"],
      [{ nickname: "<script>" }, "nicknames use letters, digits, spaces, '_', '.' and '-'"],
      [{ nickname: "ali\u200bce" }, "nicknames use letters, digits, spaces, '_', '.' and '-'"],
    ] as const) {
      await assert.rejects(connect(server.url, auth), { message }, JSON.stringify(auth));
    }
  });

  it("delivers a message to the room's other members and acknowledges it to the sender", async () => {
    const received = next(ben, "message");
    const reply = (await ask(ada, "message", { room: "lobby", text: "hi ben" })) as {
      ok: boolean;
      message: { id: string; room: string; from: string; text: string; at: number };
    };
    assert.equal(reply.ok, true);
    assert.deepEqual(
      { ...reply.message, id: "", at: 0 },
      { id: "", room: "lobby", from: "ada", text: "hi ben", at: 0 },
    );
    assert.ok(Math.abs(reply.message.at - Date.now()) < 60_000);
    assert.deepEqual(await received, reply.message);
  });

  it("answers malformed requests with an error in the acknowledgement", async () => {
    const cases: [string, unknown[], string][] = [
      ["message", [42], "a room name is required"],
      ["message", [null], "a room name is required"],
      ["message", [{ room: "lobby" }], "a message must be text"],
      ["message", [{ room: "lobby", text: { $gt: "" } }], "a message must be text"],
      ["message", [{ room: "lobby", text: " \n " }], "the message is empty"],
      ["message", [{ room: "nowhere", text: "hi" }], "join #nowhere before writing there"],
      [
        "message",
        [{ room: "lobby", text: "é".repeat(501) }],
        "message too long: 501 characters, the limit is 500",
      ],
      ["join", [["lobby"]], "a room name is required"],
      ["join", ["Has Spaces"], "room names use a-z, 0-9, '_' and '-'"],
      ["join", ["r".repeat(25)], "room names are at most 24 characters"],
      ["leave", [{}], "a room name is required"],
    ];
    for (const [event, args, error] of cases) {
      clock.refillAll();
      assert.deepEqual(await ask(ada, event, ...args), { ok: false, error }, JSON.stringify(args));
    }
  });

  it("sends a notice when a refused request asked for no acknowledgement", async () => {
    const notice = next(ada, "notice");
    ada.emit("message", { room: "lobby", text: "x".repeat(600) });
    assert.deepEqual(await notice, { text: "message too long: 600 characters, the limit is 500" });
  });

  it("limits the rooms per socket, and lists members on join", async () => {
    for (let i = 1; i < 10; i++) {
      const reply = await ask(ada, "join", `room-${i}`);
      assert.deepEqual(reply, { ok: true, room: `room-${i}`, members: ["ada"] });
    }
    assert.deepEqual(await ask(ada, "join", "room-10"), {
      ok: false,
      error: "you can be in at most 10 rooms",
    });
    // Joining one already joined is fine, and leaving makes room for another.
    assert.deepEqual(await ask(ada, "join", "room-1"), {
      ok: true,
      room: "room-1",
      members: ["ada"],
    });
    assert.deepEqual(await ask(ada, "leave", "room-9"), { ok: true });
    const presence = next(ben, "presence");
    assert.deepEqual(await ask(ben, "join", "room-1"), {
      ok: true,
      room: "room-1",
      members: ["ada", "ben"],
    });
    assert.deepEqual(await presence, { room: "room-1", members: ["ada", "ben"] });
    for (let i = 1; i < 9; i++) await ask(ada, "leave", `room-${i}`);
  });

  it("rate-limits messages per socket, with the wait in the error, and serves others meanwhile", async () => {
    const replies = await Promise.all(
      Array.from({ length: 7 }, (_, i) => ask(ada, "message", { room: "lobby", text: `m${i}` })),
    );
    const refused = replies.filter((r) => !(r as { ok: boolean }).ok);
    assert.equal(refused.length, 2, JSON.stringify(replies));
    assert.deepEqual(refused[0], { ok: false, error: "you are sending too fast: wait 1 s" });
    // Ben has his own bucket.
    assert.equal(
      ((await ask(ben, "message", { room: "lobby", text: "ok" })) as { ok: boolean }).ok,
      true,
    );
    // Time passes for the limiter: one more message per second.
    clock.ms += 1000;
    assert.equal(
      ((await ask(ada, "message", { room: "lobby", text: "later" })) as { ok: boolean }).ok,
      true,
    );
  });

  it("relays typing to the room's others, volatile, and drops malformed ones", async () => {
    const typing = next(ben, "typing");
    ada.emit("typing", { not: "a room" }, true);
    ada.emit("typing", "lobby", true);
    assert.deepEqual(await typing, { room: "lobby", nickname: "ada", typing: true });
  });

  it("keeps serving after a client sends garbage and leaves", async () => {
    const rogue = await connect(server.url, { nickname: "rogue" });
    rogue.emit("join");
    rogue.emit("message");
    rogue.emit("typing");
    rogue.emit("leave", "lobby", "not a function");
    rogue.emit("unknown-event", 1, 2, 3);
    rogue.disconnect();
    const reply = (await ask(ben, "message", { room: "lobby", text: "still up" })) as {
      ok: boolean;
    };
    assert.equal(reply.ok, true);
  });
});
