/**
 * The CONNECT payload (`auth` as an object or a callback) and refusals: connect_error with the
 * middleware's message and data, unknown namespaces.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { ConnectError } from "../../../src/client/node.js";
import { startServer, type TestServer, waitFor } from "./helpers.js";

describe("client auth and connect_error", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("sends an auth object with CONNECT", async () => {
    server = await startServer();
    const auth = new Promise<unknown>((resolve) =>
      server!.io.on("connection", (s) => resolve(s.handshake.auth)),
    );
    const client = server.client("/", { auth: { token: "abc", n: 1 } });
    assert.deepEqual(client.auth, { token: "abc", n: 1 });
    assert.deepEqual(await auth, { token: "abc", n: 1 });
  });

  it("asks an auth callback on every connection, even when it answers late", async () => {
    server = await startServer();
    const auths: unknown[] = [];
    server.io.on("connection", (s) => auths.push(s.handshake.auth));
    let calls = 0;
    const client = server.client("/", {
      auth: (cb) => {
        calls++;
        setTimeout(() => cb({ call: calls }), 10);
      },
    });
    await waitFor(client, "connect");
    client.disconnect();
    client.connect();
    await waitFor(client, "connect");
    assert.equal(calls, 2);
    assert.deepEqual(auths, [{ call: 1 }, { call: 2 }]);
  });

  it("reports a middleware refusal with its message and data, and stops", async () => {
    server = await startServer();
    let attempts = 0;
    server.io.use((_socket, next) => {
      attempts++;
      const err = new Error("not authorized") as Error & { data?: unknown };
      err.data = { code: 401, hint: ["log in"] };
      next(err);
    });
    const client = server.client("/", { reconnection: true, reconnectionDelay: 10 });
    const [err] = await waitFor<[ConnectError]>(client, "connect_error");
    assert.ok(err instanceof Error);
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { code: 401, hint: ["log in"] });
    assert.equal(client.connected, false);
    assert.equal(client.active, false, "a refusal is final: the app decides whether to retry");
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(attempts, 1);
    assert.equal(client.io._readyState, "closed", "the connection closed with its last namespace");

    // The application retries explicitly.
    client.connect();
    await waitFor(client, "connect_error");
    assert.equal(attempts, 2);
  });

  it("reports an unknown namespace", async () => {
    server = await startServer();
    const client = server.client("/nowhere");
    const [err] = await waitFor<[ConnectError]>(client, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(client.active, false);
  });

  it("reports an auth that cannot be sent instead of throwing", async () => {
    server = await startServer();
    const client = server.client("/", { auth: { big: 1n } as unknown as Record<string, unknown> });
    const [err] = await waitFor<[Error]>(client, "connect_error");
    assert.match(err.message, /auth/);
  });

  it("reports an auth callback that throws", async () => {
    server = await startServer();
    const client = server.client("/", {
      auth: () => {
        throw new Error("no token at hand");
      },
    });
    const [err] = await waitFor<[Error]>(client, "connect_error");
    assert.equal(err.message, "no token at hand");
  });
});
