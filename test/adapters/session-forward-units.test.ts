/**
 * Session forwarding, its pure parts (owner mark of session ids, the frames and their checks) and
 * its bounds, with two Engine.IO servers in this process joined by an in-memory link that a test
 * can cut: an owner that never answers, an owner gone mid-request, the in-flight limit, a client
 * that gives up on a relayed poll.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createClient } from "redis";
import { SessionForwarding } from "../../src/adapters/core/session-forwarding.js";
import { createAdapter } from "../../src/adapters/redis/index.js";
import { EngineServer, type EngineSocket } from "../../src/engine/index.js";
import {
  decodeForwardFrame,
  encodeForwardFrame,
  type ForwardFrame,
  ForwardFrameKind,
  forwardChannel,
  MAX_FORWARDED_HEADERS,
  markSessionId,
  ownerOfSessionId,
} from "../../src/protocol/cluster/session-forward.js";
import { encodeMsgpack } from "../../src/protocol/msgpack.js";
import { Server as SocketIoServer } from "../../src/server/index.js";
import { startRedis } from "../helpers/redis.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";

const NODE_A = "0123456789abcdef";
const NODE_B = "fedcba9876543210";

describe("session ids with an owner mark", () => {
  it("names the node that opened the session", () => {
    const sid = markSessionId(NODE_A, "AAAAAAAAAAAAAAAAAAA_");
    assert.equal(sid.length, 36);
    assert.equal(ownerOfSessionId(sid), NODE_A);
  });

  it("finds no owner in socket.io's ids (20 characters), in user ids, or in malformed marks", () => {
    assert.equal(ownerOfSessionId("AAAAAAAAAAAAAAAAAAA_"), undefined);
    assert.equal(ownerOfSessionId(""), undefined);
    assert.equal(ownerOfSessionId("my-own-session-id"), undefined);
    // Upper-case hex, a character outside base64url, one character too many.
    assert.equal(ownerOfSessionId(`0123456789ABCDEF${"A".repeat(20)}`), undefined);
    assert.equal(ownerOfSessionId(`${NODE_A}${"A".repeat(19)}=`), undefined);
    assert.equal(ownerOfSessionId(`${NODE_A}${"A".repeat(21)}`), undefined);
  });

  it("each node receives its frames on a channel of its own", () => {
    assert.equal(forwardChannel("socket.io", NODE_A), `socket.io-forward#${NODE_A}#`);
  });
});

describe("forwarding frames", () => {
  const frames: ForwardFrame[] = [
    {
      kind: ForwardFrameKind.HttpRequest,
      from: NODE_A,
      id: 7,
      method: "POST",
      url: "/socket.io/?EIO=4&transport=polling&sid=x",
      headers: [
        ["Content-Type", "application/octet-stream"],
        ["Cookie", "a=1"],
        ["Cookie", "b=2"],
      ],
      body: new Uint8Array([0, 1, 2, 255]),
      address: "127.0.0.1",
    },
    {
      kind: ForwardFrameKind.HttpResponse,
      from: NODE_B,
      id: 7,
      status: 200,
      headers: [["Set-Cookie", "io=1"]],
      body: new Uint8Array(0),
    },
    { kind: ForwardFrameKind.HttpAbort, from: NODE_A, id: 0 },
    { kind: ForwardFrameKind.WsOpen, from: NODE_A, id: 1, url: "/?sid=x", headers: [] },
    { kind: ForwardFrameKind.WsMessage, from: NODE_A, id: 1, data: "2probe" },
    { kind: ForwardFrameKind.WsOwnerMessage, from: NODE_B, id: 1, data: new Uint8Array([9, 8]) },
    { kind: ForwardFrameKind.WsClose, from: NODE_A, id: 1 },
    { kind: ForwardFrameKind.WsOwnerClose, from: NODE_B, id: 1 },
  ];

  it("round-trips every kind, bytes intact", () => {
    for (const frame of frames) {
      const encoded = encodeForwardFrame(frame);
      assert.ok(encoded instanceof Uint8Array);
      const decoded = decodeForwardFrame(encoded);
      assert.deepEqual(decoded, frame);
    }
  });

  it("refuses malformed frames", () => {
    const bad: unknown[] = [
      null,
      [],
      "frame",
      { kind: 99, from: NODE_A, id: 1 },
      { kind: ForwardFrameKind.HttpAbort, from: "not-a-node", id: 1 },
      { kind: ForwardFrameKind.HttpAbort, from: NODE_A, id: -1 },
      { kind: ForwardFrameKind.HttpAbort, from: NODE_A, id: 1.5 },
      {
        kind: ForwardFrameKind.HttpResponse,
        from: NODE_A,
        id: 1,
        status: 42,
        headers: [],
        body: new Uint8Array(),
      },
      {
        kind: ForwardFrameKind.HttpResponse,
        from: NODE_A,
        id: 1,
        status: 200,
        headers: [["a"]],
        body: new Uint8Array(),
      },
      {
        kind: ForwardFrameKind.HttpResponse,
        from: NODE_A,
        id: 1,
        status: 200,
        headers: [],
        body: "text",
      },
      {
        kind: ForwardFrameKind.HttpRequest,
        from: NODE_A,
        id: 1,
        method: "X".repeat(17),
        url: "/",
        headers: [],
        body: new Uint8Array(),
        address: "",
      },
      {
        kind: ForwardFrameKind.HttpRequest,
        from: NODE_A,
        id: 1,
        method: "GET",
        url: "/",
        headers: Array.from({ length: MAX_FORWARDED_HEADERS + 1 }, () => ["a", "b"]),
        body: new Uint8Array(),
        address: "",
      },
      { kind: ForwardFrameKind.WsMessage, from: NODE_A, id: 1, data: 42 },
    ];
    for (const value of bad) {
      const encoded = encodeMsgpack(value);
      assert.ok(encoded.ok);
      assert.equal(decodeForwardFrame(encoded.bytes), null, JSON.stringify(value));
    }
    assert.equal(decodeForwardFrame(new Uint8Array([0xc1])), null);
    assert.equal(decodeForwardFrame(new Uint8Array([0x81])), null);
  });
});

// --- two engines, one link -------------------------------------------------------------------------

interface Node {
  id: string;
  engine: EngineServer;
  http: Server;
  port: number;
  forwarding: SessionForwarding;
}

/** The link between the two nodes: frames cross on the next turn, unless cut. */
const link = { up: true, alive: new Set([NODE_A, NODE_B]) };
const nodes = new Map<string, Node>();

async function startNode(id: string, maxForwardedRequests: number): Promise<Node> {
  const engine = new EngineServer({
    pingInterval: 300,
    pingTimeout: 5000,
    cors: { origin: "https://app.example", credentials: true },
  });
  const http = createServer();
  engine.attach(http);
  const forwarding = new SessionForwarding(
    engine,
    {
      nodeId: id,
      isLive: (node) => link.alive.has(node),
      sendFrame: (to, frame) => {
        if (link.up) setImmediate(() => nodes.get(to)?.forwarding.receive(frame));
        return Promise.resolve();
      },
    },
    { maxForwardedRequests, forwardTimeoutMargin: 300 },
  );
  engine.sessionForwarder = forwarding;
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const node = { id, engine, http, port: (http.address() as AddressInfo).port, forwarding };
  nodes.set(id, node);
  return node;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  node: Node,
  method: string,
  path: string,
  body?: string,
  signal?: AbortSignal,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: node.port, method, path, agent: false, signal, headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A polling handshake on `node`: the session id. */
async function open(node: Node): Promise<string> {
  const answer = await send(node, "GET", "/engine.io/?EIO=4&transport=polling");
  const sid = (JSON.parse(answer.body.slice(1)) as { sid: string }).sid;
  return sid;
}

describe("forwarding between two engines, and its bounds", () => {
  let a: Node;
  let b: Node;

  before(async () => {
    a = await startNode(NODE_A, 2);
    b = await startNode(NODE_B, 2);
  });

  after(async () => {
    for (const node of [a, b]) {
      node.engine.close();
      node.http.closeAllConnections();
      await new Promise((resolve) => node.http.close(resolve));
    }
  });

  it("a session opened on A is served through B: packets both ways, the same headers", async () => {
    link.up = true;
    const sid = await open(a);
    assert.equal(ownerOfSessionId(sid), NODE_A);
    const session = a.engine.clients.get(sid)!;
    const messages: unknown[] = [];
    session.on("message", (data) => messages.push(data));
    const posted = await send(
      b,
      "POST",
      `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      "4one\x1e4two",
    );
    assert.equal(posted.status, 200);
    assert.equal(posted.body, "ok");
    assert.deepEqual(messages, ["one", "two"]);
    session.send("back");
    const polled = await send(b, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(polled.status, 200);
    assert.equal(polled.body, "4back");
    assert.equal(polled.headers["cache-control"], "no-store");
    assert.equal(polled.headers["content-type"], "text/plain; charset=UTF-8");
    session.close();
  });

  it("CORS: the preflight and the answers through B carry what A's would", async () => {
    const sid = await open(a);
    const path = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
    const origin = { Origin: "https://app.example" };
    const preflight = { ...origin, "Access-Control-Request-Method": "POST" };
    try {
      for (const [method, headers] of [
        ["OPTIONS", preflight],
        ["POST", origin],
      ] as const) {
        const body = method === "POST" ? "4x" : undefined;
        const direct = await send(a, method, path, body, undefined, headers);
        const relayed = await send(b, method, path, body, undefined, headers);
        assert.equal(relayed.status, direct.status, method);
        for (const name of [
          "access-control-allow-origin",
          "access-control-allow-credentials",
          "access-control-allow-methods",
          "vary",
          "content-type",
          "content-length",
        ]) {
          assert.equal(relayed.headers[name], direct.headers[name], `${method} ${name}`);
        }
        assert.equal(relayed.headers["access-control-allow-origin"], "https://app.example");
      }
    } finally {
      a.engine.clients.get(sid)?.close();
    }
  });

  it("an owner that is not alive: 400 Session ID unknown at once", async () => {
    const sid = await open(a);
    link.alive.delete(NODE_A);
    try {
      const answer = await send(b, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(answer.status, 400);
      assert.match(answer.body, /Session ID unknown/);
    } finally {
      link.alive.add(NODE_A);
      a.engine.clients.get(sid)?.close();
    }
  });

  it("an id without owner mark (a socket.io node's, 20 characters): 400 at once, not forwarded", async () => {
    const answer = await send(
      b,
      "GET",
      "/engine.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAA_",
    );
    assert.equal(answer.status, 400);
    assert.match(answer.body, /Session ID unknown/);
  });

  it("an owner that never answers: 503 at the deadline (ping interval + margin)", async () => {
    const sid = await open(a);
    link.up = false;
    try {
      const started = Date.now();
      const answer = await withTimeout(
        send(b, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sid}`),
        5000,
        "the answer",
      );
      assert.equal(answer.status, 503);
      assert.ok(Date.now() - started >= 550, `${Date.now() - started} ms`);
    } finally {
      link.up = true;
      a.engine.clients.get(sid)?.close();
    }
  });

  it("the owner gone mid-request: the waiting poll is answered at once", async () => {
    const sid = await open(a);
    // A GET held by the owner (nothing to send before the next ping).
    const pending = send(b, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    link.alive.delete(NODE_A);
    b.forwarding.nodeGone(NODE_A);
    try {
      const answer = await withTimeout(pending, 1000, "the answer");
      assert.equal(answer.status, 400);
      assert.match(answer.body, /Session ID unknown/);
    } finally {
      link.alive.add(NODE_A);
      a.engine.clients.get(sid)?.close();
    }
  });

  it("beyond maxForwardedRequests in flight: 503 at once", async () => {
    const sids = [await open(a), await open(a), await open(a)];
    const held = sids
      .slice(0, 2)
      .map((sid) => send(b, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sid}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await send(b, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sids[2]}`);
    assert.equal(refused.status, 503);
    // The held polls end with the ping (300 ms).
    for (const answer of await Promise.all(held)) assert.equal(answer.status, 200);
    for (const sid of sids) a.engine.clients.get(sid)?.close();
  });

  it("a client that gives up on a relayed poll ends the session on the owner, as locally", async () => {
    const sid = await open(a);
    const session = a.engine.clients.get(sid) as EngineSocket;
    const closed = nextEvent<[string]>(session, "close", 2000);
    const controller = new AbortController();
    const pending = send(
      b,
      "GET",
      `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      undefined,
      controller.signal,
    );
    pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const [reason] = await closed;
    assert.equal(reason, "transport error");
  });
});

describe("forwarding with io.adapter(...) set after the server listens (socket.io's documented way)", () => {
  it("marks new session ids and serves them from the other server", async () => {
    const redis = await startRedis();
    const clients: { destroy(): unknown }[] = [];
    const servers: SocketIoServer[] = [];
    try {
      const ports: number[] = [];
      for (let i = 0; i < 2; i++) {
        const pub = createClient({ url: redis.url });
        const sub = pub.duplicate();
        for (const client of [pub, sub]) client.on("error", () => undefined);
        await Promise.all([pub.connect(), sub.connect()]);
        clients.push(pub, sub);
        const http = createServer();
        const io = new SocketIoServer(http);
        io.adapter(createAdapter(pub, sub, { heartbeatInterval: 100, logger: false }));
        servers.push(io);
        await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
        ports.push((http.address() as AddressInfo).port);
      }
      const get = (port: number, path: string) =>
        new Promise<string>((resolve, reject) => {
          httpRequest({ host: "127.0.0.1", port, path, agent: false }, (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on("end", () => resolve(text));
          })
            .on("error", reject)
            .end();
        });
      const opened = await get(ports[0]!, "/socket.io/?EIO=4&transport=polling");
      const sid = (JSON.parse(opened.slice(1)) as { sid: string }).sid;
      assert.equal(sid.length, 36);
      assert.notEqual(ownerOfSessionId(sid), undefined);
      // Once the servers know each other (heartbeats), the second serves the first's session.
      const deadline = Date.now() + 5000;
      let answer = "";
      while (Date.now() < deadline) {
        servers[0]!.engine.clients.get(sid)?.send("ping-through");
        answer = await get(ports[1]!, `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
        if (!answer.includes("Session ID unknown")) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(answer, /ping-through/);
    } finally {
      for (const io of servers) await io.close();
      for (const client of clients) client.destroy();
      await redis.stop();
    }
  });
});
