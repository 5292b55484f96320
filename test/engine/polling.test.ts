import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gunzipSync, inflateSync } from "node:zlib";
import type { EngineSocket } from "../../src/engine/index.js";
import {
  delay,
  httpRequest,
  once,
  packets,
  poll,
  pollingHandshake,
  post,
  startServer,
  type TestServer,
} from "./helpers.js";

/** A handshake plus the server-side session it created. */
async function session(server: TestServer): Promise<{ sid: string; socket: EngineSocket }> {
  const connected = once<[EngineSocket]>(server.engine, "connection");
  const { sid } = await pollingHandshake(server.port);
  const [socket] = await connected;
  return { sid, socket };
}

describe("engine polling transport", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxHttpBufferSize: 1000, pingInterval: 10_000 });
  });
  after(() => server.close());

  it("batches every packet sent in one turn into one response, in order", async () => {
    const { sid, socket } = await session(server);
    const response = poll(server.port, sid);
    await delay(20);
    for (let i = 0; i < 5; i++) socket.send(`m${i}`);
    const { status, text } = await response;
    assert.equal(status, 200);
    assert.deepEqual(packets(text), ["4m0", "4m1", "4m2", "4m3", "4m4"]);
  });

  it("keeps packets sent without a pending GET for the next one", async () => {
    const { sid, socket } = await session(server);
    socket.send("a");
    await delay(10);
    socket.send("b");
    const { text } = await poll(server.port, sid);
    assert.deepEqual(packets(text), ["4a", "4b"]);
  });

  it("sends binary as base64 with the b prefix, and text stays text", async () => {
    const { sid, socket } = await session(server);
    socket.send(Buffer.from([1, 2, 3, 250]));
    socket.send(new Uint8Array([0xff]).buffer);
    socket.send("x");
    const { text } = await poll(server.port, sid);
    assert.deepEqual(packets(text), ["bAQID+g==", "b/w==", "4x"]);
  });

  it("decodes POSTed payloads: text as string, base64 as Buffer, in order", async () => {
    const { sid, socket } = await session(server);
    const received: (string | Buffer)[] = [];
    socket.on("message", (data) => received.push(data));
    const response = await post(server.port, sid, "4hello\x1ebAQID\x1e4€ and 😀");
    assert.equal(response.status, 200);
    assert.equal(response.text, "ok");
    assert.equal(response.headers["content-type"], "text/html");
    assert.equal(received.length, 3);
    assert.equal(received[0], "hello");
    assert.ok(Buffer.isBuffer(received[1]));
    assert.deepEqual([...(received[1] as Buffer)], [1, 2, 3]);
    assert.equal(received[2], "€ and 😀");
  });

  it("answers a second concurrent GET with 400 and closes the session", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close");
    const first = poll(server.port, sid);
    await delay(20);
    const second = await poll(server.port, sid);
    assert.equal(second.status, 400);
    assert.deepEqual(JSON.parse(second.text), { code: 3, message: "Bad request" });
    assert.deepEqual(await closed, ["transport error", new Error("overlap from client")]);
    // The pending poll is told the session is over.
    assert.equal((await first).text, "1");
    assert.equal((await poll(server.port, sid)).status, 400);
  });

  it("answers a POST larger than maxHttpBufferSize with 413 and closes the session", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close");
    const response = await post(server.port, sid, `4${"x".repeat(1200)}`);
    assert.equal(response.status, 413);
    assert.equal((await closed)[0], "transport error");
    assert.ok(!server.engine.clients.has(sid));
  });

  it("enforces the limit on the bytes received, not the declared length", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close");
    // Chunked: no Content-Length to check up front.
    const response = await httpRequest(
      server.port,
      `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      {
        method: "POST",
        headers: { "Transfer-Encoding": "chunked" },
        body: `4${"€".repeat(400)}`,
      },
    );
    assert.equal(response.status, 413);
    await closed;
  });

  it("closes the session with parse error on a malformed payload", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close");
    const response = await post(server.port, sid, "4ok\x1e9nope");
    assert.equal(response.status, 400);
    assert.equal((await closed)[0], "parse error");
  });

  it("refuses binary POST bodies from revision 4 clients", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close");
    const response = await post(server.port, sid, new Uint8Array([4, 1, 2]), undefined, {
      "Content-Type": "application/octet-stream",
    });
    assert.equal(response.status, 400);
    assert.equal((await closed)[0], "transport error");
  });

  it("closes with transport close when the client sends a close packet", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close");
    await post(server.port, sid, "1");
    assert.equal((await closed)[0], "transport close");
  });

  it("close() answers the pending poll with a close packet and ends with forced close", async () => {
    const { sid, socket } = await session(server);
    const pending = poll(server.port, sid);
    await delay(20);
    const closed = once<[string]>(socket, "close");
    socket.close();
    assert.deepEqual(packets((await pending).text), ["1"]);
    assert.equal((await closed)[0], "forced close");
  });

  it("close() without a pending poll waits for the next GET to carry the close packet", async () => {
    const { sid, socket } = await session(server);
    socket.close();
    assert.equal(socket.readyState, "closing");
    const closed = once<[string]>(socket, "close");
    assert.deepEqual(packets((await poll(server.port, sid)).text), ["6", "1"]);
    assert.equal((await closed)[0], "forced close");
  });

  for (const pollFirst of [true, false]) {
    it(`close() with packets buffered (${pollFirst ? "a GET pending" : "no GET pending"}): they come first, the close packet in a later answer`, async () => {
      // socket.io-client handles a payload's messages a tick after its close packet: sharing
      // one answer would lose them.
      const { sid, socket } = await session(server);
      const pending = pollFirst ? poll(server.port, sid) : null;
      if (pollFirst) await delay(20);
      const closed = once<[string]>(socket, "close");
      socket.send("last");
      socket.close();
      assert.deepEqual(packets((await (pending ?? poll(server.port, sid))).text), ["4last"]);
      assert.deepEqual(packets((await poll(server.port, sid)).text), ["6", "1"]);
      assert.equal((await closed)[0], "forced close");
    });
  }

  it("calls send callbacks once the response carrying the packet is written", async () => {
    const { sid, socket } = await session(server);
    const calls: unknown[] = [];
    socket.send("a", () => calls.push("a"));
    socket.send("b", { compress: false }, (error) => calls.push(error ?? "b"));
    assert.deepEqual(calls, []);
    await poll(server.port, sid);
    await delay(10);
    assert.deepEqual(calls, ["a", "b"]);
  });

  it("fails send callbacks of packets never written when the session closes", async () => {
    const { socket } = await session(server);
    const error = new Promise<Error | undefined>((resolve) => socket.send("never", resolve));
    socket.close(true);
    assert.match(String(await error), /closed/);
  });
});

describe("engine polling HTTP compression", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 10_000 });
  });
  after(() => server.close());

  const big = "y".repeat(2000);

  it("gzips responses over the threshold for clients accepting gzip", async () => {
    const { sid, socket } = await session(server);
    socket.send(big);
    const response = await httpRequest(
      server.port,
      `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      {
        headers: { "Accept-Encoding": "gzip, deflate" },
      },
    );
    assert.equal(response.headers["content-encoding"], "gzip");
    assert.equal(Number(response.headers["content-length"]), response.body.length);
    assert.ok(response.body.length < 200);
    assert.equal(gunzipSync(response.body).toString(), `4${big}`);
  });

  it("uses deflate when the client prefers it", async () => {
    const { sid, socket } = await session(server);
    socket.send(big);
    const response = await httpRequest(
      server.port,
      `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      {
        headers: { "Accept-Encoding": "gzip;q=0.5, deflate" },
      },
    );
    assert.equal(response.headers["content-encoding"], "deflate");
    assert.equal(inflateSync(response.body).toString(), `4${big}`);
  });

  it("leaves small responses, clients without Accept-Encoding and compress:false alone", async () => {
    const small = await session(server);
    small.socket.send("tiny");
    const a = await httpRequest(
      server.port,
      `/engine.io/?EIO=4&transport=polling&sid=${small.sid}`,
      {
        headers: { "Accept-Encoding": "gzip" },
      },
    );
    assert.equal(a.headers["content-encoding"], undefined);
    assert.equal(a.text, "4tiny");

    const plain = await session(server);
    plain.socket.send(big);
    const b = await poll(server.port, plain.sid);
    assert.equal(b.headers["content-encoding"], undefined);
    assert.equal(b.text, `4${big}`);

    const opted = await session(server);
    opted.socket.send(big, { compress: false });
    const c = await httpRequest(
      server.port,
      `/engine.io/?EIO=4&transport=polling&sid=${opted.sid}`,
      {
        headers: { "Accept-Encoding": "gzip" },
      },
    );
    assert.equal(c.headers["content-encoding"], undefined);

    const refused = await session(server);
    refused.socket.send(big);
    const d = await httpRequest(
      server.port,
      `/engine.io/?EIO=4&transport=polling&sid=${refused.sid}`,
      {
        headers: { "Accept-Encoding": "gzip;q=0, identity" },
      },
    );
    assert.equal(d.headers["content-encoding"], undefined);
  });

  it("compresses nothing with httpCompression: false", async () => {
    const local = await startServer({ httpCompression: false });
    try {
      const { sid, socket } = await session(local);
      socket.send(big);
      const response = await httpRequest(
        local.port,
        `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
        {
          headers: { "Accept-Encoding": "gzip" },
        },
      );
      assert.equal(response.headers["content-encoding"], undefined);
    } finally {
      await local.close();
    }
  });
});

describe("engine cookie", () => {
  it("sets the session cookie on the handshake only", async () => {
    const server = await startServer({ cookie: true });
    try {
      const { response, sid } = await pollingHandshake(server.port);
      assert.deepEqual(response.headers["set-cookie"], [
        `io=${sid}; Path=/; HttpOnly; SameSite=Lax`,
      ]);
      const next = await post(server.port, sid, "4x");
      assert.equal(next.headers["set-cookie"], undefined);
    } finally {
      await server.close();
    }
  });

  it("takes cookie attributes", async () => {
    const server = await startServer({
      cookie: { name: "sticky", path: false, maxAge: 86400, secure: true, sameSite: "strict" },
    });
    try {
      const { response, sid } = await pollingHandshake(server.port);
      assert.deepEqual(response.headers["set-cookie"], [
        `sticky=${sid}; Max-Age=86400; Secure; SameSite=Strict`,
      ]);
    } finally {
      await server.close();
    }
  });

  it("sends no cookie by default, and lets listeners add headers", async () => {
    const server = await startServer();
    server.engine.on("initial_headers", (headers) => {
      headers["X-Initial"] = "yes";
    });
    server.engine.on("headers", (headers) => {
      headers["X-Every"] = "yes";
    });
    try {
      const { response, sid } = await pollingHandshake(server.port);
      assert.equal(response.headers["set-cookie"], undefined);
      assert.equal(response.headers["x-initial"], "yes");
      assert.equal(response.headers["x-every"], "yes");
      const next = await post(server.port, sid, "4x");
      assert.equal(next.headers["x-initial"], undefined);
      assert.equal(next.headers["x-every"], "yes");
    } finally {
      await server.close();
    }
  });
});
