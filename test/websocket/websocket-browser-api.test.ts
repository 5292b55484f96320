/**
 * The WHATWG surface of WebSocket: constructor argument checks, constants, close() checks,
 * send() while CONNECTING, listener registration (on-attributes, addEventListener, once,
 * handleEvent), and the event objects' shapes and states.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CloseEvent, MessageEvent } from "../../src/websocket/events.js";
import { WebSocket } from "../../src/websocket/websocket.js";
import {
  buildFrame,
  closePayload,
  collectMessages,
  nextEvent,
  type RawServer,
  startRawServer,
} from "./websocket-test-helpers.js";

function assertDomException(fn: () => unknown, name: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DOMException, `expected a DOMException, got ${String(error)}`);
    assert.equal(error.name, name);
    return true;
  });
}

let server: RawServer;
before(async () => {
  server = await startRawServer();
});
after(() => server.close());

/** A connected client and its raw server end. */
async function connected(protocols?: string | string[]) {
  const ws = new WebSocket(server.url, protocols);
  const connection = server.nextConnection();
  await nextEvent(ws, "open");
  return { ws, connection: await connection };
}

describe("constants", () => {
  test("static and instance ready states", async () => {
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const { ws, connection } = await connected();
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.equal(Object.hasOwn(ws, "OPEN"), false, "constants live on the prototype");
    ws.terminate();
    connection.socket.destroy();
    await nextEvent(ws, "close");
  });
});

describe("constructor checks", () => {
  test("invalid URLs and schemes throw SyntaxError", () => {
    assertDomException(() => new WebSocket("not a url"), "SyntaxError");
    assertDomException(() => new WebSocket("ftp://127.0.0.1/"), "SyntaxError");
    assertDomException(() => new WebSocket("file:///etc/passwd"), "SyntaxError");
  });

  test("a fragment, even empty, throws SyntaxError", () => {
    assertDomException(() => new WebSocket(`${server.url}/#`), "SyntaxError");
    assertDomException(() => new WebSocket(`${server.url}/#frag`), "SyntaxError");
  });

  test("http and https map to ws and wss; url is serialized", async () => {
    const ws = new WebSocket(`http://127.0.0.1:${server.port}`);
    assert.equal(ws.url, `ws://127.0.0.1:${server.port}/`);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    const connection = await server.nextConnection();
    await nextEvent(ws, "open");
    ws.terminate();
    connection.socket.destroy();
    await nextEvent(ws, "close");
    const secure = new WebSocket("https://127.0.0.1:1/path?q=1");
    assert.equal(secure.url, "wss://127.0.0.1:1/path?q=1");
    secure.close();
    await nextEvent(secure, "close");
  });

  test("duplicate or invalid subprotocols throw SyntaxError", () => {
    assertDomException(() => new WebSocket(server.url, ["chat", "chat"]), "SyntaxError");
    assertDomException(() => new WebSocket(server.url, ""), "SyntaxError");
    assertDomException(() => new WebSocket(server.url, ["a b"]), "SyntaxError");
    assertDomException(() => new WebSocket(server.url, ["a,b"]), "SyntaxError");
    assertDomException(() => new WebSocket(server.url, ["ok", "é"]), "SyntaxError");
  });

  test("subprotocols are offered in order", async () => {
    const { ws, connection } = await connected(["chat", "superchat"]);
    assert.equal(connection.request.headers["sec-websocket-protocol"], "chat, superchat");
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("send and close argument checks", () => {
  test("send while CONNECTING throws InvalidStateError", async () => {
    const ws = new WebSocket(server.url);
    assertDomException(() => ws.send("x"), "InvalidStateError");
    assertDomException(() => ws.ping(), "InvalidStateError");
    await nextEvent(ws, "open");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("close codes other than 1000 and 3000-4999 throw InvalidAccessError", async () => {
    const { ws } = await connected();
    for (const code of [0, 999, 1001, 1005, 1006, 1011, 2999, 5000, 65535]) {
      assertDomException(() => ws.close(code), "InvalidAccessError");
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("a reason over 123 UTF-8 bytes throws SyntaxError; 123 bytes is fine", async () => {
    const { ws, connection } = await connected();
    assertDomException(() => ws.close(1000, "é".repeat(62)), "SyntaxError");
    assertDomException(() => ws.close(4000, "x".repeat(124)), "SyntaxError");
    assert.equal(ws.readyState, WebSocket.OPEN);
    const reason = `${"é".repeat(61)}x`;
    ws.close(1000, reason);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const frame = await connection.reader.next();
    assert.equal(frame?.opcode, 0x8);
    assert.equal(frame?.payload.readUInt16BE(0), 1000);
    assert.equal(frame?.payload.subarray(2).toString(), reason);
    connection.socket.write(buildFrame(0x8, closePayload(1000)));
    connection.socket.end();
    const [event] = await nextEvent<[CloseEvent]>(
      { once: (name, fn) => ws.addEventListener(name as "close", fn as never, { once: true }) },
      "close",
    );
    assert.equal(event.code, 1000);
    assert.equal(event.wasClean, true);
  });

  test("a reason without a code is not sent (empty close frame)", async () => {
    const { ws, connection } = await connected();
    ws.close(undefined, "ignored");
    const frame = await connection.reader.next();
    assert.equal(frame?.opcode, 0x8);
    assert.equal(frame?.payload.length, 0);
    connection.socket.destroy();
    await nextEvent(ws, "close");
  });

  test("close(1000.6) clamps and rounds like WebIDL [Clamp]", async () => {
    const { ws, connection } = await connected();
    assertDomException(() => ws.close(Number.NaN), "InvalidAccessError");
    ws.close(3000.5);
    const frame = await connection.reader.next();
    assert.equal(frame?.payload.readUInt16BE(0), 3000);
    connection.socket.destroy();
    await nextEvent(ws, "close");
  });

  test("close while CONNECTING: CLOSING at once, then error and close (1006) in CLOSED", async () => {
    const ws = new WebSocket(server.url);
    const seen: string[] = [];
    ws.onerror = () => seen.push(`error:${ws.readyState}`);
    ws.onclose = (event) => seen.push(`close:${ws.readyState}:${event.code}:${event.wasClean}`);
    ws.onopen = () => seen.push("open");
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await nextEvent(ws, "close");
    assert.deepEqual(seen, ["error:3", "close:3:1006:false"]);
  });

  test("send after close is dropped but counted in bufferedAmount", async () => {
    const { ws, connection } = await connected();
    ws.close();
    const before = ws.bufferedAmount;
    ws.send("abcd");
    ws.send(new Uint8Array(10));
    assert.equal(ws.bufferedAmount - before, 14);
    const errors: unknown[] = [];
    ws.send("x", (error) => errors.push(error));
    connection.socket.destroy();
    await nextEvent(ws, "close");
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Error);
  });
});

describe("listeners", () => {
  test("on-attributes: getter, replacement, null", async () => {
    const { ws, connection } = await connected();
    const calls: string[] = [];
    const first = () => calls.push("first");
    const second = () => calls.push("second");
    assert.equal(ws.onmessage, null);
    ws.onmessage = first;
    assert.equal(ws.onmessage, first);
    ws.onmessage = second;
    assert.equal(ws.onmessage, second);
    connection.socket.write(buildFrame(0x1, "a"));
    await nextEvent(ws, "message");
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    connection.socket.write(buildFrame(0x1, "b"));
    await nextEvent(ws, "message");
    assert.deepEqual(calls, ["second"]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("addEventListener: once, duplicates ignored, handleEvent objects, removal", async () => {
    const { ws, connection } = await connected();
    const calls: string[] = [];
    const fn = (event: MessageEvent) => calls.push(`fn:${event.data}`);
    const onceFn = (event: MessageEvent) => calls.push(`once:${event.data}`);
    const object = { handleEvent: (event: MessageEvent) => calls.push(`obj:${event.data}`) };
    ws.addEventListener("message", fn);
    ws.addEventListener("message", fn);
    ws.addEventListener("message", onceFn, { once: true });
    ws.addEventListener("message", object);
    ws.addEventListener("not-an-event", () => calls.push("never"));
    connection.socket.write(buildFrame(0x1, "1"));
    await nextEvent(ws, "message");
    ws.removeEventListener("message", object);
    connection.socket.write(buildFrame(0x1, "2"));
    await nextEvent(ws, "message");
    ws.removeEventListener("message", fn);
    connection.socket.write(buildFrame(0x1, "3"));
    await nextEvent(ws, "message");
    assert.deepEqual(calls, ["fn:1", "once:1", "obj:1", "fn:2"]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("a once listener can be removed before it fires", async () => {
    const { ws, connection } = await connected();
    const calls: string[] = [];
    const fn = () => calls.push("x");
    ws.addEventListener("message", fn, { once: true });
    ws.removeEventListener("message", fn);
    connection.socket.write(buildFrame(0x1, "1"));
    await nextEvent(ws, "message");
    assert.deepEqual(calls, []);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("event objects: type, target, data; listener `this` is the socket", async () => {
    const ws = new WebSocket(server.url);
    const connectionPromise = server.nextConnection();
    let openThis: unknown;
    let openType = "";
    ws.onopen = function (this: WebSocket, event) {
      openThis = this;
      openType = event.type;
      assert.equal(event.target, ws);
      assert.equal(ws.readyState, WebSocket.OPEN);
    };
    await nextEvent(ws, "open");
    assert.equal(openThis, ws);
    assert.equal(openType, "open");
    const connection = await connectionPromise;
    const messages: MessageEvent[] = [];
    ws.onmessage = (event) => messages.push(event);
    const two = collectMessages(ws, 2);
    connection.socket.write(buildFrame(0x1, "text"));
    connection.socket.write(buildFrame(0x2, Buffer.from([1, 2, 3])));
    await two;
    assert.equal(messages[0].type, "message");
    assert.equal(messages[0].data, "text");
    assert.equal(messages[0].target, ws);
    assert.ok(Buffer.isBuffer(messages[1].data));
    ws.binaryType = "arraybuffer";
    connection.socket.write(buildFrame(0x2, Buffer.from([4, 5])));
    await nextEvent(ws, "message");
    assert.ok(messages[2].data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(messages[2].data as ArrayBuffer)], [4, 5]);
    ws.binaryType = "blob";
    connection.socket.write(buildFrame(0x2, Buffer.from([6])));
    await nextEvent(ws, "message");
    assert.ok(messages[3].data instanceof Blob);
    assert.deepEqual([...new Uint8Array(await (messages[3].data as Blob).arrayBuffer())], [6]);
    ws.binaryType = "bogus" as never;
    assert.equal(ws.binaryType, "blob");

    const closeEvents: CloseEvent[] = [];
    ws.addEventListener("close", (event) => closeEvents.push(event));
    connection.socket.write(buildFrame(0x8, closePayload(4321, "done")));
    const echo = await connection.reader.next();
    assert.equal(echo?.payload.readUInt16BE(0), 4321);
    connection.socket.end();
    await nextEvent(ws, "close");
    assert.equal(closeEvents[0].type, "close");
    assert.equal(closeEvents[0].code, 4321);
    assert.equal(closeEvents[0].reason, "done");
    assert.equal(closeEvents[0].wasClean, true);
    assert.equal(closeEvents[0].target, ws);
  });

  test("an exception in a browser listener does not stop the others or the connection", async () => {
    const { ws, connection } = await connected();
    const seen: string[] = [];
    const uncaught: unknown[] = [];
    const listeners = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      ws.addEventListener("message", () => {
        throw new Error("boom");
      });
      ws.addEventListener("message", (event) => seen.push(String(event.data)));
      const two = collectMessages(ws, 2);
      connection.socket.write(buildFrame(0x1, "a"));
      connection.socket.write(buildFrame(0x1, "b"));
      await two;
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("uncaughtException", onUncaught);
      for (const listener of listeners) process.on("uncaughtException", listener);
    }
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(uncaught.length, 2);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});
