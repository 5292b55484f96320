/**
 * Browser-style listeners beyond the basics of websocket-browser-api.test.ts: how on-attributes
 * and addEventListener listeners live side by side, values that are not listeners, the `capture`
 * flag, and the fields of the message and error events.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ErrorEvent, MessageEvent } from "../../src/websocket/events.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import {
  buildFrame,
  nextEvent,
  openClient,
  type RawConnection,
  type RawServer,
  startRawServer,
} from "./websocket-test-helpers.js";

let server: RawServer;
before(async () => {
  server = await startRawServer();
});
after(() => server.close());

/** Has the peer send text message `data` and waits until the socket delivered it. */
async function deliver(ws: WebSocket, connection: RawConnection, data: string): Promise<void> {
  const delivered = nextEvent(ws, "message");
  connection.socket.write(buildFrame(0x1, data));
  await delivered;
}

describe("on-attributes and addEventListener", () => {
  test("one function as attribute and as listener runs twice; removal takes only the listener", async () => {
    const { ws, connection } = await openClient(server);
    const calls: string[] = [];
    const fn = (event: MessageEvent) => calls.push(String(event.data));
    ws.onmessage = fn;
    ws.addEventListener("message", fn);
    await deliver(ws, connection, "a");
    ws.removeEventListener("message", fn);
    assert.equal(ws.onmessage, fn);
    await deliver(ws, connection, "b");
    ws.addEventListener("message", fn);
    ws.onmessage = null;
    await deliver(ws, connection, "c");
    assert.deepEqual(calls, ["a", "a", "b", "c"]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("a value that is not a listener clears the attribute", async () => {
    const { ws, connection } = await openClient(server);
    const calls: string[] = [];
    ws.onmessage = () => calls.push("old");
    ws.onmessage = "not a function" as never;
    assert.equal(ws.onmessage, null);
    ws.onerror = 42 as never;
    assert.equal(ws.onerror, null);
    await deliver(ws, connection, "x");
    assert.deepEqual(calls, []);
    ws.addEventListener("message", "not a function" as never);
    ws.addEventListener("message", null);
    ws.removeEventListener("message", null);
    await deliver(ws, connection, "y");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("an attribute may be a handleEvent object; the getter returns it", async () => {
    const { ws, connection } = await openClient(server);
    const seen: unknown[] = [];
    const handler = {
      handleEvent(this: unknown, event: MessageEvent) {
        seen.push(this, event.data);
      },
    };
    ws.onmessage = handler;
    assert.equal(ws.onmessage, handler);
    await deliver(ws, connection, "z");
    assert.deepEqual(seen, [handler, "z"]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("capture flags do not make a second registration; each type keeps its own", async () => {
    const { ws, connection } = await openClient(server);
    const calls: string[] = [];
    const fn = (event: { type: string }) => calls.push(event.type);
    ws.addEventListener("message", fn, true);
    ws.addEventListener("message", fn, { capture: false });
    ws.addEventListener("close", fn);
    await deliver(ws, connection, "m");
    ws.removeEventListener("message", fn, true);
    await deliver(ws, connection, "n");
    ws.terminate();
    await nextEvent(ws, "close");
    assert.deepEqual(calls, ["message", "close"]);
  });

  test("Node listeners and browser listeners see the same events", async () => {
    const { ws, connection } = await openClient(server);
    const calls: string[] = [];
    ws.on("message", (data, isBinary) => calls.push(`node:${data}:${isBinary}`));
    ws.addEventListener("message", (event) => calls.push(`dom:${event.data}`));
    await deliver(ws, connection, "both");
    assert.deepEqual(calls, ["node:both:false", "dom:both"]);
    assert.equal(ws.listenerCount("message"), 2);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("event fields", () => {
  test("a message event carries the URL's origin", async () => {
    const { ws, connection } = await openClient(server);
    let event: MessageEvent | undefined;
    ws.onmessage = (e) => {
      event = e;
    };
    await deliver(ws, connection, "o");
    assert.equal(event?.origin, `ws://127.0.0.1:${server.port}`);
    assert.equal(event?.lastEventId, "");
    assert.equal(event?.source, null);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("an error event carries the error and its message; close follows", async () => {
    const { ws, connection } = await openClient(server);
    const events: (ErrorEvent | string)[] = [];
    ws.onerror = (event) => events.push(event);
    ws.onclose = (event) => events.push(`close:${event.code}:${event.wasClean}`);
    // A reserved opcode: the client fails the connection (1002) and reports why.
    const closing = nextEvent(ws, "close");
    connection.socket.write(buildFrame(0x3, "?"));
    assert.equal((await connection.reader.next())?.payload.readUInt16BE(0), 1002);
    connection.socket.end();
    await closing;
    assert.equal(events.length, 2);
    const error = events[0] as ErrorEvent;
    assert.equal(error.type, "error");
    assert.equal(error.target, ws);
    assert.ok(error.error instanceof Error);
    assert.equal(error.message, error.error.message);
    assert.equal(events[1], "close:1006:false");
  });
});
