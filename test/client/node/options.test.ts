/**
 * socket.io-client's production options in the Node client, each against real servers (duplexio's
 * and the official socket.io; a raw HTTP server where a server must misbehave): `extraHeaders` on
 * every polling request and on the upgrade, `transportOptions` per transport, `agent` carrying
 * every connection, `requestTimeout` ending a poll nobody answers, `timestampRequests` and
 * `timestampParam`, `tryAllTransports` falling back from a refused WebSocket to polling,
 * `perMessageDeflate` negotiated and used (seen on the wire), and transport classes in
 * `transports`.
 */
import assert from "node:assert/strict";
import { Agent, createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket as NetSocket } from "node:net";
import { after, before, describe, it } from "node:test";
import { delay, withTimeout } from "../../helpers/timing.js";
import { clientIsOfficial, io, transportClasses } from "../behaviour/client-under-test.js";
import { type ClientSocket, SERVER_KINDS, transportName } from "../behaviour/harness.js";
import {
  type OptionsServer,
  outcome,
  type SeenRequest,
  startOptionsServer,
  startTcpTap,
  upgraded,
} from "./servers.js";

/** Connects, waits for the upgrade to WebSocket, and makes a round trip on each transport. */
async function connectAndUpgrade(client: ClientSocket): Promise<void> {
  const result = await outcome(client);
  assert.equal(result.connected, true, result.connected ? "" : result.error.message);
  assert.equal(await client.timeout(5000).emitWithAck("echo", "before"), "before");
  await upgraded(client);
  assert.equal(await client.timeout(5000).emitWithAck("echo", "after"), "after");
}

/** The requests of one client: those after `from` (the tests run one client at a time). */
function since(server: OptionsServer, from: number): SeenRequest[] {
  return server.requests.slice(from).filter((r) => r.url.pathname === "/socket.io/");
}

for (const kind of SERVER_KINDS) {
  describe(`Node client options [against ${kind.name}]`, () => {
    let server: OptionsServer;
    before(async () => {
      server = await startOptionsServer(kind);
    });
    after(() => server?.close());

    it("extraHeaders reach every polling request (GET and POST) and the upgrade", async () => {
      const from = server.requests.length;
      const client = server.client({ extraHeaders: { "x-duplexio-test": "everywhere" } });
      await connectAndUpgrade(client);
      client.disconnect();
      const seen = since(server, from);
      assert.ok(seen.some((r) => !r.upgrade && r.method === "GET"));
      assert.ok(seen.some((r) => !r.upgrade && r.method === "POST"));
      assert.equal(seen.filter((r) => r.upgrade).length, 1);
      for (const request of seen) {
        assert.equal(
          request.headers["x-duplexio-test"],
          "everywhere",
          `${request.method} ${request.url}`,
        );
      }
    });

    it("transportOptions: per-transport headers replace the top-level ones for that transport", async () => {
      const from = server.requests.length;
      const client = server.client({
        extraHeaders: { "x-top": "top" },
        transportOptions: {
          polling: { extraHeaders: { "x-polling": "p" } },
          websocket: { extraHeaders: { "x-websocket": "w" } },
        },
      });
      await connectAndUpgrade(client);
      client.disconnect();
      const seen = since(server, from);
      const polling = seen.filter((r) => !r.upgrade);
      const upgrade = seen.filter((r) => r.upgrade);
      assert.ok(polling.length >= 2 && upgrade.length === 1);
      for (const request of polling) {
        assert.equal(request.headers["x-polling"], "p");
        assert.equal(request.headers["x-top"], undefined);
        assert.equal(request.headers["x-websocket"], undefined);
      }
      assert.equal(upgrade[0].headers["x-websocket"], "w");
      assert.equal(upgrade[0].headers["x-top"], undefined);
      assert.equal(upgrade[0].headers["x-polling"], undefined);
    });

    it("agent: every connection the server sees was made by the given agent", async () => {
      const agent = new Agent({ keepAlive: true });
      const made: number[] = [];
      const patched = agent as unknown as {
        createConnection(options: object, callback?: unknown): NetSocket;
      };
      const original = patched.createConnection.bind(agent);
      patched.createConnection = (options, callback) => {
        const socket = original(options, callback);
        socket.once("connect", () => made.push(socket.localPort ?? -1));
        return socket;
      };
      try {
        const from = server.requests.length;
        const client = server.client({ agent });
        await connectAndUpgrade(client);
        client.disconnect();
        const seen = since(server, from);
        assert.ok(made.length >= 2, `connections made by the agent: ${made.length}`);
        assert.ok(seen.some((r) => r.upgrade));
        for (const request of seen) {
          assert.ok(made.includes(request.remotePort ?? -2), `${request.method} ${request.url}`);
        }
      } finally {
        agent.destroy();
      }
    });

    it("timestamps: polling URLs carry t by default, the WebSocket URL does not", async () => {
      const from = server.requests.length;
      const client = server.client();
      await connectAndUpgrade(client);
      client.disconnect();
      const seen = since(server, from);
      const stamps = seen.filter((r) => !r.upgrade).map((r) => r.url.searchParams.get("t"));
      assert.ok(stamps.length >= 2 && stamps.every((t) => t !== null && t !== ""));
      assert.equal(new Set(stamps).size, stamps.length, "a new value on each request");
      assert.equal(seen.find((r) => r.upgrade)?.url.searchParams.has("t"), false);
    });

    it("timestampRequests: true with timestampParam stamps the WebSocket URL too; false stamps nothing", async () => {
      let from = server.requests.length;
      const stamped = server.client({ timestampRequests: true, timestampParam: "cachebust" });
      await connectAndUpgrade(stamped);
      stamped.disconnect();
      let seen = since(server, from);
      for (const request of seen) {
        assert.ok(request.url.searchParams.get("cachebust"), `${request.url}`);
        assert.equal(request.url.searchParams.has("t"), false);
      }
      assert.ok(seen.some((r) => r.upgrade));

      from = server.requests.length;
      const plain = server.client({ timestampRequests: false });
      await connectAndUpgrade(plain);
      plain.disconnect();
      seen = since(server, from);
      assert.ok(seen.length >= 3);
      for (const request of seen) assert.equal(request.url.searchParams.has("t"), false);
    });

    it("transport classes in transports: [Fetch] polls and never upgrades, [NodeWebSocket] opens a WebSocket", async () => {
      // NodeWebSocket: socket.io-client's WebSocket class is the global WebSocket, none in Node 20.
      const { Fetch, NodeWebSocket } = transportClasses;
      let from = server.requests.length;
      const polling = server.client({ transports: [Fetch] });
      assert.equal((await outcome(polling)).connected, true);
      assert.equal(await polling.timeout(5000).emitWithAck("echo", 1), 1);
      await delay(200);
      assert.equal(transportName(polling), "polling");
      polling.disconnect();
      assert.equal(since(server, from).filter((r) => r.upgrade).length, 0);

      from = server.requests.length;
      const websocket = server.client({ transports: [NodeWebSocket] });
      assert.equal((await outcome(websocket)).connected, true);
      assert.equal(transportName(websocket), "websocket");
      websocket.disconnect();
      // Straight to the WebSocket: no polling handshake (the earlier client's close POST may
      // still come in).
      const seen = since(server, from);
      assert.equal(seen.filter((r) => r.upgrade).length, 1);
      assert.equal(seen.filter((r) => !r.upgrade && r.method === "GET").length, 0);
    });
  });

  describe(`tryAllTransports [against ${kind.name}]`, () => {
    let server: OptionsServer;
    before(async () => {
      server = await startOptionsServer(kind, { io: { transports: ["polling"] } });
    });
    after(() => server?.close());

    it("a refused WebSocket fails the attempt, unless tryAllTransports goes on with polling", async () => {
      const alone = server.client({ transports: ["websocket", "polling"] });
      assert.equal((await outcome(alone)).connected, false);
      alone.disconnect();

      const from = server.requests.length;
      const client = server.client({
        transports: ["websocket", "polling"],
        tryAllTransports: true,
      });
      const result = await outcome(client);
      assert.equal(result.connected, true, result.connected ? "" : result.error.message);
      assert.equal(transportName(client), "polling");
      assert.equal(await client.timeout(5000).emitWithAck("echo", "fell back"), "fell back");
      client.disconnect();
      const seen = since(server, from);
      assert.equal(seen[0]?.upgrade, true, "the WebSocket was tried first");
      assert.ok(seen.slice(1).every((r) => !r.upgrade));
    });
  });

  describe(`perMessageDeflate [against ${kind.name}]`, () => {
    let server: OptionsServer;
    before(async () => {
      server = await startOptionsServer(kind, { io: { perMessageDeflate: { threshold: 0 } } });
    });
    after(() => server?.close());

    /**
     * What the client sent over its WebSocket connection, through a tap: the upgrade request's
     * head and the RSV1 bit (compressed) of each frame, with its payload length.
     */
    async function wire(options: Parameters<typeof io>[1]) {
      const tap = await startTcpTap(server.port);
      try {
        const client = io(`http://127.0.0.1:${tap.port}`, {
          forceNew: true,
          reconnection: false,
          transports: ["websocket"],
          ...options,
        });
        try {
          assert.equal((await outcome(client)).connected, true);
          const big = "compressible ".repeat(400);
          assert.equal(await client.timeout(5000).emitWithAck("echo", big), big);
        } finally {
          client.disconnect();
        }
        await delay(50);
        const bytes = Buffer.concat(tap.sent[0] ?? []);
        const end = bytes.indexOf("\r\n\r\n");
        assert.ok(end > 0, "an HTTP request head");
        return {
          head: bytes.subarray(0, end).toString(),
          frames: clientFrames(bytes.subarray(end + 4)),
        };
      } finally {
        await tap.close();
      }
    }

    it("offered and used by default: a large message goes compressed, small ones do not (threshold 1024)", async () => {
      const { head, frames } = await wire({});
      assert.match(head, /^sec-websocket-extensions: permessage-deflate/im);
      const data = frames.filter((f) => f.opcode === 1 || f.opcode === 2);
      assert.ok(
        data.some((f) => f.compressed),
        "a compressed frame",
      );
      assert.ok(
        data.some((f) => !f.compressed && f.length < 1024),
        "a small frame sent as it is",
      );
      assert.ok(data.every((f) => f.length < 1024 || f.compressed));
    });

    it("perMessageDeflate: false offers nothing and compresses nothing", async () => {
      const { head, frames } = await wire({ perMessageDeflate: false });
      assert.doesNotMatch(head, /permessage-deflate/i);
      assert.ok(frames.length > 0);
      assert.ok(frames.every((f) => !f.compressed));
    });
  });
}

/** The client's WebSocket frames (masked): opcode, RSV1 (compressed) and payload length. */
function clientFrames(bytes: Buffer): { opcode: number; compressed: boolean; length: number }[] {
  const frames: { opcode: number; compressed: boolean; length: number }[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const first = bytes[at]!;
    let length = bytes[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    frames.push({ opcode: first & 0x0f, compressed: (first & 0x40) !== 0, length });
    at += header + 4 + length;
  }
  return frames;
}

describe("requestTimeout (a raw server that stops answering)", {
  skip: clientIsOfficial && "socket.io-client's Node XMLHttpRequest has no timeout",
}, () => {
  let port: number;
  const held: ServerResponse[] = [];
  const close = { server: null as ReturnType<typeof createServer> | null };
  before(async () => {
    let polls = 0;
    const open = `0${JSON.stringify({ sid: "s1", upgrades: [], pingInterval: 60000, pingTimeout: 60000, maxPayload: 1e6 })}`;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      request.resume();
      if (request.method === "POST") {
        request.on("end", () => response.end("ok"));
      } else if (
        url.searchParams.get("hang") === "handshake" ||
        (url.searchParams.has("sid") && polls++ > 0)
      ) {
        // Never answered (until the test ends).
        held.push(response);
      } else if (!url.searchParams.has("sid")) {
        response.end(open);
      } else {
        response.end('40{"sid":"n1"}');
      }
    });
    close.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const response of held) response.destroy();
    close.server?.closeAllConnections();
    await new Promise<void>((resolve) => close.server?.close(() => resolve()));
  });

  it("an unanswered handshake fails the attempt after requestTimeout, naming it", async () => {
    const started = Date.now();
    const client = io(`http://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      transports: ["polling"],
      requestTimeout: 300,
      query: { hang: "handshake" },
    });
    const result = await outcome(client, 5000);
    client.disconnect();
    assert.equal(result.connected, false);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 3000, `failed after ${elapsed} ms`);
    const { message } = (result as { error: Error }).error;
    assert.match(
      message,
      /^fetch read error: no answer within 300 ms \(requestTimeout\) from http:\/\/127\.0\.0\.1:\d+\/socket\.io\/$/,
    );
  });

  it("a poll nobody answers ends the connection ('transport error') after requestTimeout", async () => {
    const client = io(`http://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      transports: ["polling"],
      requestTimeout: 400,
    });
    try {
      assert.equal((await outcome(client)).connected, true);
      const connectedAt = Date.now();
      const [reason] = await withTimeout(
        new Promise<[string]>((resolve) =>
          client.once("disconnect", (...args) => resolve(args as [string])),
        ),
        5000,
        "the disconnect",
      );
      const elapsed = Date.now() - connectedAt;
      assert.equal(reason, "transport error");
      assert.ok(elapsed >= 300 && elapsed < 3000, `disconnected after ${elapsed} ms`);
    } finally {
      client.disconnect();
    }
  });

  it("without requestTimeout the unanswered handshake just waits", async () => {
    const client = io(`http://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      transports: ["polling"],
      query: { hang: "handshake" },
    });
    const result = await Promise.race([outcome(client, 5000), delay(800).then(() => "waiting")]);
    client.disconnect();
    assert.equal(result, "waiting");
  });
});
