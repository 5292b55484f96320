/**
 * How the client fails: close reasons for bad payloads ("parse error"), HTTP and network failures
 * ("transport error", with `error` first), server close packets ("transport close"), handshake
 * timeout, bad URIs and options, and the send buffer's bound. Never a throw.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import {
  EngineClient,
  TransportError,
  type WebSocketConstructorLike,
} from "../../../src/client/engine/index.js";
import { fakeWebSocket } from "./fake-websocket.js";
import { answer, fakeEngine, next, openPacket, startRawServer } from "./helpers.js";

/** The close event, and whether `error` came before it. */
async function closeOf(
  client: EngineClient,
): Promise<{ reason: string; description: unknown; error: Error | null }> {
  let error: Error | null = null;
  client.on("error", (err) => {
    error = err;
  });
  const [reason, description] = await next(client, "close");
  return { reason, description, error };
}

describe("engine client faults: parse errors", () => {
  const cases: [string, string][] = [
    ["a packet that does not decode", "zzz"],
    ["bad base64 in a binary packet", "b@@@"],
    ["an empty packet in a payload", "4a\x1e"],
  ];
  for (const [name, payload] of cases) {
    it(`${name}: 'parse error', no error event`, async () => {
      const server = await fakeEngine({ poll: (n) => (n === 1 ? payload : null) });
      try {
        const client = new EngineClient(server.url, { transports: ["polling"] });
        const closed = await closeOf(client);
        assert.equal(closed.reason, "parse error");
        assert.ok(closed.description instanceof Error);
        assert.equal(closed.error, null);
      } finally {
        await server.close();
      }
    });
  }

  it("a handshake that is not valid JSON: 'parse error'", async () => {
    const server = await fakeEngine({ handshake: '0{"sid":' });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      let opened = false;
      client.on("open", () => {
        opened = true;
      });
      const closed = await closeOf(client);
      assert.equal(closed.reason, "parse error");
      assert.equal(opened, false);
    } finally {
      await server.close();
    }
  });

  it("a handshake missing fields: 'parse error'", async () => {
    const server = await fakeEngine({ handshake: '0{"sid":"x","upgrades":[]}' });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      assert.equal((await closeOf(client)).reason, "parse error");
    } finally {
      await server.close();
    }
  });

  it("a message before the open packet: 'parse error'", async () => {
    const server = await fakeEngine({ handshake: "4hello" });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      let messages = 0;
      client.on("message", () => messages++);
      assert.equal((await closeOf(client)).reason, "parse error");
      assert.equal(messages, 0);
    } finally {
      await server.close();
    }
  });

  it("over WebSocket: a frame that does not decode, or a Blob: 'parse error'", async () => {
    for (const bad of ["9what", new Blob(["x"])]) {
      const fake = fakeWebSocket({
        created: (socket) => {
          socket.open();
          socket.receive(openPacket({ pingInterval: 1000, pingTimeout: 1000 }));
          socket.onmessage?.({ data: bad });
        },
      });
      const client = new EngineClient("http://127.0.0.1:1", {
        transports: ["websocket"],
        WebSocket: fake.WebSocket,
      });
      const closed = await closeOf(client);
      assert.equal(closed.reason, "parse error");
      assert.equal(fake.made[0].closed, true);
    }
  });
});

describe("engine client faults: transport errors", () => {
  it("an HTTP error on the handshake: error (TransportError, status) then 'transport error'", async () => {
    const server = await fakeEngine({
      handshake: '{"code":2,"message":"Bad handshake method"}',
      handshakeStatus: 400,
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      const closed = await closeOf(client);
      assert.equal(closed.reason, "transport error");
      assert.ok(closed.error instanceof TransportError);
      // engine.io-client's words first, then the status, the endpoint and the server's reason.
      assert.equal(
        closed.error.message,
        `fetch read error: ${server.url}/socket.io/ answered HTTP 400 Bad Request: Bad handshake method`,
      );
      assert.equal(closed.error.description, 400);
      assert.equal(closed.error.status, 400);
      assert.equal(closed.error.url, `${server.url}/socket.io/`);
      assert.equal(closed.error.reason, "Bad handshake method");
      assert.equal(closed.description, closed.error);
      assert.equal(client.readyState, "closed");
    } finally {
      await server.close();
    }
  });

  it("an HTTP error on a POST: 'transport error' (fetch write error)", async () => {
    const server = await startRawServer((request) => {
      if (request.method === "POST") answer(request, "nope", 500);
      else if (!request.url.searchParams.has("sid"))
        answer(request, openPacket({ pingInterval: 1000, pingTimeout: 1000 }));
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      await next(client, "open");
      client.send("x");
      const closed = await closeOf(client);
      assert.equal(closed.reason, "transport error");
      assert.equal(
        closed.error?.message,
        `fetch write error: ${server.url}/socket.io/ answered HTTP 500 Internal Server Error: nope`,
      );
      assert.equal((closed.error as TransportError).description, 500);
    } finally {
      await server.close();
    }
  });

  it("nobody listening: 'transport error' over polling and over WebSocket", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { WebSocket } = await import("../../../src/websocket/index.js");
    for (const transports of [["polling"], ["websocket"]] as const) {
      const client = new EngineClient(`http://127.0.0.1:${port}`, {
        transports: [...transports],
        WebSocket,
      });
      const closed = await closeOf(client);
      assert.equal(closed.reason, "transport error", transports[0]);
      assert.ok(closed.error instanceof TransportError);
    }
  });

  it("a close packet from the server: 'transport close'", async () => {
    const server = await fakeEngine({ poll: (n) => (n === 1 ? "4bye\x1e1" : null) });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      const messages: unknown[] = [];
      client.on("message", (data) => messages.push(data));
      const closed = await closeOf(client);
      assert.equal(closed.reason, "transport close");
      assert.deepEqual(messages, ["bye"]);
      assert.equal(closed.error, null);
    } finally {
      await server.close();
    }
  });

  it("no handshake within timeoutMs: error 'timeout', then 'transport error'", async () => {
    const server = await startRawServer(() => {
      // Never answers.
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"], timeoutMs: 100 });
      const closed = await closeOf(client);
      assert.equal(closed.reason, "transport error");
      assert.equal(closed.error?.message, "timeout");
    } finally {
      await server.close();
    }
  });
});

describe("engine client faults: bad setup fails asynchronously, never throws", () => {
  const cases: [string, string, ConstructorParameters<typeof EngineClient>[1], RegExp][] = [
    ["an invalid URI", "not a url", {}, /invalid URI/],
    ["an unsupported scheme", "ftp://example.com", {}, /invalid URI/],
    ["no transports", "http://127.0.0.1:1", { transports: [] }, /No transports available/],
    [
      "WebSocket only, without a WebSocket implementation",
      "http://127.0.0.1:1",
      { transports: ["websocket"] },
      /websocket transport unavailable/,
    ],
  ];
  for (const [name, uri, options, message] of cases) {
    it(name, async () => {
      const client = new EngineClient(uri, options);
      assert.equal(client.readyState, "opening");
      const closed = await closeOf(client);
      assert.equal(closed.reason, "transport error");
      assert.match(closed.error?.message ?? "", message);
    });
  }

  it("a WebSocket constructor that throws", async () => {
    const client = new EngineClient("http://127.0.0.1:1", {
      transports: ["websocket"],
      WebSocket: class {
        constructor() {
          throw new SyntaxError("bad subprotocol");
        }
      } as unknown as WebSocketConstructorLike,
    });
    const closed = await closeOf(client);
    assert.equal(closed.reason, "transport error");
    assert.ok(closed.error instanceof TransportError);
    assert.ok((closed.error as TransportError).description instanceof SyntaxError);
  });
});

describe("engine client faults: the send buffer's bound", () => {
  it("a send past maxBufferedAmount: error 'send buffer full', then 'transport error'", async () => {
    const server = await startRawServer(() => {
      // The handshake never comes: everything stays buffered.
    });
    try {
      const client = new EngineClient(server.url, {
        transports: ["polling"],
        maxBufferedAmount: 20,
      });
      client.send("0123456789"); // counts 11 (type + data)
      assert.equal(client.bufferedAmount, 11);
      client.send(new Uint8Array(8)); // 9: 20 in all, at the bound
      assert.equal(client.bufferedAmount, 20);
      assert.equal(client.readyState, "opening");
      const closing = closeOf(client);
      client.send("x");
      const closed = await closing;
      assert.equal(closed.reason, "transport error");
      assert.match(closed.error?.message ?? "", /send buffer full/);
      assert.equal(client.bufferedAmount, 0);
    } finally {
      await server.close();
    }
  });

  it("one message larger than the bound is accepted into an empty buffer", async () => {
    const server = await fakeEngine();
    try {
      const client = new EngineClient(server.url, {
        transports: ["polling"],
        maxBufferedAmount: 4,
      });
      client.send("a message longer than the bound");
      assert.equal(client.readyState, "opening");
      await next(client, "drain");
      assert.deepEqual(server.posts, ["4a message longer than the bound"]);
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe("engine client faults: untyped callers", () => {
  it("send() with neither text nor binary sends its string form; a bad callback is ignored", async () => {
    const server = await fakeEngine();
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      const untyped = client as unknown as { send(data: unknown, callback?: unknown): void };
      untyped.send(42, "not a function");
      untyped.send(null);
      untyped.send({ a: 1 }, 7);
      await next(client, "drain");
      assert.deepEqual(server.posts, ["442\x1e4null\x1e4[object Object]"]);
      client.close();
    } finally {
      await server.close();
    }
  });
});
