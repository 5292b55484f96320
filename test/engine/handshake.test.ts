import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { EngineConnectionError } from "../../src/engine/index.js";
import { httpRequest, pollingHandshake, startServer, type TestServer } from "./helpers.js";

describe("engine handshake over polling", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 300, pingTimeout: 200, maxHttpBufferSize: 5000 });
  });
  after(() => server.close());

  it("answers the open packet with sid, upgrades, pingInterval, pingTimeout, maxPayload", async () => {
    const { response, open } = await pollingHandshake(server.port);
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "text/plain; charset=UTF-8");
    assert.equal(response.headers["cache-control"], "no-store");
    assert.match(open.sid, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(
      response.text,
      `0{"sid":"${open.sid}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":5000}`,
    );
    assert.ok(server.engine.clients.has(open.sid));
  });

  it("emits connection with the session, its id and transport", async () => {
    const connection = new Promise<[string, string, number]>((resolve) =>
      server.engine.once("connection", (socket) =>
        resolve([socket.id, socket.transport.name, socket.protocol]),
      ),
    );
    const { sid } = await pollingHandshake(server.port);
    assert.deepEqual(await connection, [sid, "polling", 4]);
    assert.equal(server.engine.clientsCount, server.engine.clients.size);
  });

  it("carries messages sent in the connection handler in the handshake response", async () => {
    server.engine.once("connection", (socket) => {
      socket.send("first");
      socket.send("second");
    });
    const { response, sid } = await pollingHandshake(server.port);
    const parts = response.text.split("\x1e");
    assert.equal(parts.length, 3);
    assert.ok(parts[0].startsWith(`0{"sid":"${sid}"`));
    assert.deepEqual(parts.slice(1), ["4first", "4second"]);
  });
});

describe("engine request errors", () => {
  let server: TestServer;
  const errors: EngineConnectionError[] = [];
  before(async () => {
    server = await startServer({
      allowRequest: (req, fn) => {
        if (req.headers["x-deny"] === "quiet") fn(null, false);
        else if (req.headers["x-deny"]) fn("go away", false);
        else fn(null, true);
      },
    });
    server.engine.on("connection_error", (error) => errors.push(error));
  });
  after(() => server.close());

  async function expectError(
    path: string,
    status: number,
    body: { code: number; message: string },
    options?: Parameters<typeof httpRequest>[2],
  ): Promise<void> {
    const response = await httpRequest(server.port, path, options);
    assert.equal(response.status, status, response.text);
    assert.equal(response.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(response.text), body);
  }

  it("unknown transport: 400, code 0", async () => {
    await expectError("/engine.io/?EIO=4&transport=tobi", 400, {
      code: 0,
      message: "Transport unknown",
    });
    await expectError("/engine.io/?EIO=4&transport=constructor", 400, {
      code: 0,
      message: "Transport unknown",
    });
    await expectError("/engine.io/?EIO=4", 400, { code: 0, message: "Transport unknown" });
  });

  it("unknown sid: 400, code 1", async () => {
    await expectError("/engine.io/?EIO=4&transport=polling&sid=nope", 400, {
      code: 1,
      message: "Session ID unknown",
    });
    await expectError(
      "/engine.io/?EIO=4&transport=polling&sid=nope",
      400,
      {
        code: 1,
        message: "Session ID unknown",
      },
      { method: "POST", body: "4hi" },
    );
  });

  it("a handshake other than GET: 400, code 2", async () => {
    await expectError(
      "/engine.io/?EIO=4&transport=polling",
      400,
      {
        code: 2,
        message: "Bad handshake method",
      },
      { method: "POST", body: "4hi" },
    );
    await expectError(
      "/engine.io/?EIO=4&transport=polling",
      400,
      {
        code: 2,
        message: "Bad handshake method",
      },
      { method: "OPTIONS" },
    );
  });

  it("a WebSocket handshake without upgrade, or a transport mismatch: 400, code 3", async () => {
    await expectError("/engine.io/?EIO=4&transport=websocket", 400, {
      code: 3,
      message: "Bad request",
    });
    const { sid } = await pollingHandshake(server.port);
    // The session is on polling; a plain GET claiming websocket is refused.
    await expectError(`/engine.io/?EIO=4&transport=websocket&sid=${sid}`, 400, {
      code: 3,
      message: "Bad request",
    });
  });

  it("allowRequest refusing: 403, code 4, with the given message", async () => {
    await expectError(
      "/engine.io/?EIO=4&transport=polling",
      403,
      { code: 4, message: "Forbidden" },
      {
        headers: { "x-deny": "quiet" },
      },
    );
    await expectError(
      "/engine.io/?EIO=4&transport=polling",
      403,
      { code: 4, message: "go away" },
      {
        headers: { "x-deny": "loud" },
      },
    );
  });

  it("unsupported protocol versions: 400, code 5 (EIO=3 unless allowEIO3, others always)", async () => {
    for (const eio of ["EIO=3&", "EIO=5&", "EIO=2&", ""]) {
      await expectError(`/engine.io/?${eio}transport=polling`, 400, {
        code: 5,
        message: "Unsupported protocol version",
      });
    }
  });

  it("a method other than GET/POST on a session: 400 Bad request, session kept", async () => {
    const { sid } = await pollingHandshake(server.port);
    await expectError(
      `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      400,
      {
        code: 3,
        message: "Bad request",
      },
      { method: "PUT", body: "x" },
    );
    assert.ok(server.engine.clients.has(sid));
  });

  it("reports refusals with connection_error", async () => {
    errors.length = 0;
    await httpRequest(server.port, "/engine.io/?EIO=4&transport=tobi");
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 0);
    assert.equal(errors[0].message, "Transport unknown");
    assert.deepEqual(errors[0].context, { transport: "tobi" });
  });

  it("refuses ids from generateId that are not usable", async () => {
    const local = await startServer({ generateId: () => "" });
    try {
      const response = await httpRequest(local.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(response.status, 400);
      assert.deepEqual(JSON.parse(response.text), { code: 3, message: "Bad request" });
    } finally {
      await local.close();
    }
  });

  it("accepts asynchronous generateId", async () => {
    let n = 0;
    const local = await startServer({ generateId: async () => `custom-${++n}` });
    try {
      const { sid } = await pollingHandshake(local.port);
      assert.equal(sid, "custom-1");
      // An id already in use is refused rather than overwriting a session.
      n = 0;
      const again = await httpRequest(local.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(again.status, 400);
    } finally {
      await local.close();
    }
  });
});
