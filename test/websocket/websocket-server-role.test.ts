/**
 * The server role (acceptWebSocket) against raw clients and stand-in Duplex sockets: `head`
 * bytes, masking rules, the server side of the closing handshake, write coalescing,
 * prepared (broadcast) messages and the heartbeat.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHeartbeat } from "../../src/websocket/heartbeat.js";
import { acceptWebSocket, prepareMessage, type WebSocket } from "../../src/websocket/websocket.js";
import {
  type AcceptServer,
  buildFrame,
  CountingDuplex,
  closePayload,
  collectMessages,
  decodeFrames,
  nextEvent,
  rawClient,
  startAcceptServer,
} from "./websocket-test-helpers.js";

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function accept(duplex: CountingDuplex, options: { closeTimeout?: number } = {}): WebSocket {
  return acceptWebSocket(duplex, Buffer.alloc(0), {
    maxPayload: 1024 * 1024,
    protocol: "",
    extensions: "",
    deflate: null,
    ...options,
  });
}

describe("over TCP with a raw client", () => {
  let server: AcceptServer;
  const messagesByHead: string[] = [];
  before(async () => {
    server = await startAcceptServer({
      closeTimeout: 300,
      onSocket: (ws) => ws.on("message", (data) => messagesByHead.push(String(data))),
    });
  });
  after(() => server.close());

  test("bytes that came with the handshake (head) are parsed first", async () => {
    const socketPromise = server.nextSocket();
    const { socket } = await rawClient(server.port, {
      extra: Buffer.concat([
        buildFrame(0x1, "early", { mask: true }),
        buildFrame(0x1, "bird", { mask: true }),
      ]),
    });
    const ws = await socketPromise;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(messagesByHead.slice(-2), ["early", "bird"]);
    assert.equal(ws.readyState, ws.OPEN);
    socket.destroy();
    await nextEvent(ws, "close");
  });

  test("server frames are unmasked; an unmasked client frame fails with 1002", async () => {
    const socketPromise = server.nextSocket();
    const { socket, reader } = await rawClient(server.port);
    const ws = await socketPromise;
    ws.send("to client");
    const frame = await reader.next();
    assert.equal(frame?.masked, false);
    assert.equal(frame?.payload.toString(), "to client");
    const errors: Error[] = [];
    ws.on("error", (error) => errors.push(error));
    socket.write(buildFrame(0x1, "unmasked"));
    const close = await reader.next();
    assert.equal(close?.opcode, 0x8);
    assert.equal(close?.payload.readUInt16BE(0), 1002);
    // The server closes TCP after failing.
    assert.equal(await reader.next(), null);
    socket.end();
    const [code] = await nextEvent<[number]>(ws, "close");
    assert.equal(code, 1006);
    assert.equal(errors.length, 1);
  });

  test("client-initiated close: echo, then the server closes TCP first", async () => {
    const socketPromise = server.nextSocket();
    const { socket, reader } = await rawClient(server.port);
    const ws = await socketPromise;
    let ended = false;
    socket.on("end", () => {
      ended = true;
    });
    const closed = nextEvent<[number, Buffer]>(ws, "close");
    socket.write(buildFrame(0x8, closePayload(4002, "client bye"), { mask: true }));
    const echo = await reader.next();
    assert.equal(echo?.opcode, 0x8);
    assert.equal(echo?.masked, false);
    assert.equal(echo?.payload.readUInt16BE(0), 4002);
    assert.equal(await reader.next(), null, "the server ends TCP after the exchange");
    assert.equal(ended, true);
    socket.end();
    const [code, reason] = await closed;
    assert.equal(code, 4002);
    assert.equal(reason.toString(), "client bye");
  });

  test("server-initiated close may use 1001; the server ends TCP once the client answers", async () => {
    const socketPromise = server.nextSocket();
    const { socket, reader } = await rawClient(server.port);
    const ws = await socketPromise;
    let wasClean = false;
    ws.onclose = (event) => {
      wasClean = event.wasClean;
    };
    ws.close(1001, "going away");
    const frame = await reader.next();
    assert.equal(frame?.payload.readUInt16BE(0), 1001);
    socket.write(buildFrame(0x8, closePayload(1001), { mask: true }));
    assert.equal(await reader.next(), null);
    socket.end();
    const [code] = await nextEvent<[number]>(ws, "close");
    assert.equal(code, 1001);
    assert.equal(wasClean, true);
  });

  test("a client that never answers the close is dropped after closeTimeout", async () => {
    const socketPromise = server.nextSocket();
    const { reader } = await rawClient(server.port);
    const ws = await socketPromise;
    ws.close(1000);
    await reader.next();
    const [code] = await nextEvent<[number]>(ws, "close");
    assert.equal(code, 1006);
    assert.equal(await reader.next(), null);
  });

  test("echo through a real socket keeps message order", async () => {
    const socketPromise = server.nextSocket();
    const { socket, reader } = await rawClient(server.port);
    const ws = await socketPromise;
    ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    const frames = [];
    for (let i = 0; i < 50; i++)
      frames.push(buildFrame(i % 2 ? 0x2 : 0x1, `m${i}`, { mask: true }));
    socket.write(Buffer.concat(frames));
    for (let i = 0; i < 50; i++) {
      const frame = await reader.next();
      assert.equal(frame?.payload.toString(), `m${i}`);
      assert.equal(frame?.opcode, i % 2 ? 0x2 : 0x1);
    }
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("write coalescing", () => {
  test("sends in one event-loop turn leave in one socket write, in order", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const callbacks: number[] = [];
    for (let i = 0; i < 100; i++) ws.send(`message ${i}`, () => callbacks.push(i));
    ws.ping("p");
    assert.equal(duplex.calls.length, 0, "nothing is written synchronously");
    await settle();
    assert.equal(duplex.calls.length, 1);
    const frames = decodeFrames(duplex.written());
    assert.equal(frames.length, 101);
    assert.equal(frames[42].payload.toString(), "message 42");
    assert.equal(frames[100].opcode, 0x9);
    assert.equal(callbacks.length, 100);
    assert.deepEqual(
      callbacks,
      [...callbacks].sort((a, b) => a - b),
    );
    ws.send("next turn");
    await settle();
    assert.equal(duplex.calls.length, 2);
    ws.terminate();
  });

  test("large payloads go in one corked writev without being copied", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const big = Buffer.alloc(200_000, 7);
    const other = Buffer.alloc(100_000, 8);
    ws.send("small before");
    ws.send(big);
    ws.send("small between");
    ws.send(other);
    await settle();
    assert.equal(duplex.calls.length, 1);
    const chunks = duplex.calls[0];
    assert.ok(chunks.length > 1, "a writev batch");
    assert.ok(chunks.includes(big), "the 200 kB payload is written as the caller's buffer");
    assert.ok(chunks.includes(other));
    const frames = decodeFrames(duplex.written());
    assert.deepEqual(
      frames.map((f) => f.payload.length),
      [12, 200_000, 13, 100_000],
    );
    ws.terminate();
  });

  test("bufferedAmount covers queued bytes until the flush", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    ws.send(Buffer.alloc(1000));
    ws.send("abc");
    assert.equal(ws.bufferedAmount, 1003);
    const drained = nextEvent(ws, "drain");
    await settle();
    await drained;
    assert.equal(ws.bufferedAmount, 0);
    ws.terminate();
  });

  test("a socket error with no error listener does not crash; close reports 1006", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const closed = nextEvent<[number]>(ws, "close");
    duplex.destroy(new Error("ECONNRESET-like"));
    assert.equal((await closed)[0], 1006);
  });

  test("incoming frames pushed by the stand-in socket are parsed (masked, server role)", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const received = collectMessages(ws, 2);
    duplex.push(buildFrame(0x1, "hello", { mask: true }));
    duplex.push(buildFrame(0x2, Buffer.from([1, 2]), { mask: true }));
    const messages = await received;
    assert.equal(String(messages[0][0]), "hello");
    assert.deepEqual([...(messages[1][0] as Buffer)], [1, 2]);
    ws.terminate();
  });
});

describe("prepared messages", () => {
  test("the same frame bytes go to every socket; large frames are not copied", async () => {
    const a = new CountingDuplex();
    const b = new CountingDuplex();
    const wsA = accept(a);
    const wsB = accept(b);
    const prepared = prepareMessage("broadcast");
    const large = prepareMessage(Buffer.alloc(100_000, 1));
    for (const ws of [wsA, wsB]) {
      ws.sendPrepared(prepared);
      ws.sendPrepared(large);
    }
    await settle();
    for (const duplex of [a, b]) {
      assert.equal(duplex.calls.length, 1);
      // Streams wrap a Uint8Array in a Buffer view: same memory, no copy.
      assert.ok(
        duplex.calls[0].some(
          (chunk) => chunk.buffer === large.frame.buffer && chunk.length === large.frame.length,
        ),
        "the shared frame memory is written",
      );
      const frames = decodeFrames(duplex.written());
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.masked, f.rsv1, f.payload.length]),
        [
          [0x1, false, false, 9],
          [0x2, false, false, 100_000],
        ],
      );
    }
    wsA.terminate();
    wsB.terminate();
  });

  test("binary option and refusal while a fragmented message is open", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const prepared = prepareMessage("as binary", { binary: true });
    ws.send("part", { fin: false });
    const error = await new Promise<Error | null | undefined>((resolve) =>
      ws.sendPrepared(prepared, resolve),
    );
    assert.ok(error instanceof Error);
    ws.send("end");
    ws.sendPrepared(prepared);
    await settle();
    const frames = decodeFrames(duplex.written());
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [0x1, false, "part"],
        [0x0, true, "end"],
        [0x2, true, "as binary"],
      ],
    );
    ws.terminate();
  });
});

describe("heartbeat", () => {
  interface FakeTimer {
    callback: () => void;
    ms: number;
    cleared: boolean;
  }

  function fakeTimers() {
    const intervals: FakeTimer[] = [];
    const timeouts: FakeTimer[] = [];
    return {
      intervals,
      timeouts,
      timers: {
        setInterval(callback: () => void, ms: number) {
          const timer = { callback, ms, cleared: false };
          intervals.push(timer);
          return timer;
        },
        clearInterval(handle: unknown) {
          (handle as FakeTimer).cleared = true;
        },
        setTimeout(callback: () => void, ms: number) {
          const timer = { callback, ms, cleared: false };
          timeouts.push(timer);
          return timer;
        },
        clearTimeout(handle: unknown) {
          (handle as FakeTimer).cleared = true;
        },
      },
    };
  }

  test("pings every client, terminates the ones that did not pong in time", async () => {
    const alive = new CountingDuplex();
    const dead = new CountingDuplex();
    const wsAlive = accept(alive);
    const wsDead = accept(dead);
    const clients = new Set([wsAlive, wsDead]);
    const fake = fakeTimers();
    const heartbeat = startHeartbeat(clients, {
      interval: 1000,
      timeout: 500,
      timers: fake.timers,
    });
    assert.equal(fake.intervals[0].ms, 1000);

    fake.intervals[0].callback();
    await settle();
    for (const duplex of [alive, dead]) {
      const frames = decodeFrames(duplex.written());
      assert.equal(frames.at(-1)?.opcode, 0x9);
    }
    assert.equal(fake.timeouts[0].ms, 500);
    const ponged = nextEvent(wsAlive, "pong");
    alive.push(buildFrame(0xa, "", { mask: true }));
    await ponged;

    const deadClosed = nextEvent<[number]>(wsDead, "close");
    fake.timeouts[0].callback();
    assert.equal((await deadClosed)[0], 1006);
    assert.equal(wsAlive.readyState, wsAlive.OPEN);

    const before = alive.calls.length;
    fake.intervals[0].callback();
    await settle();
    assert.equal(alive.calls.length, before + 1, "the live client is pinged again");

    heartbeat.stop();
    assert.equal(fake.intervals[0].cleared, true);
    assert.equal(fake.timeouts[1].cleared, true);
    assert.equal(wsAlive.listenerCount("pong"), 0, "stop removes its listeners");
    wsAlive.terminate();
  });

  test("a client awaiting a pong is not pinged again before its deadline", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const fake = fakeTimers();
    const heartbeat = startHeartbeat([ws], { interval: 100, timeout: 1000, timers: fake.timers });
    fake.intervals[0].callback();
    fake.intervals[0].callback();
    await settle();
    const pings = decodeFrames(duplex.written()).filter((f) => f.opcode === 0x9);
    assert.equal(pings.length, 1);
    heartbeat.stop();
    ws.terminate();
  });
});
