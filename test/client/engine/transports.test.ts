/**
 * The Engine.IO client against both servers (duplexio's and the official engine.io), in each
 * transport mode: handshake, text and binary both ways, order, and how each side closes.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { EngineClient } from "../../../src/client/engine/index.js";
import {
  bytes,
  collect,
  collectClient,
  connect,
  next,
  SERVER_KINDS,
  startServer,
  type TestServer,
  waitUntil,
} from "./helpers.js";

const MODES = [
  { name: "polling only", transports: ["polling"], final: "polling" },
  { name: "websocket only", transports: ["websocket"], final: "websocket" },
  { name: "polling then upgrade", transports: ["polling", "websocket"], final: "websocket" },
] as const;

for (const kind of SERVER_KINDS) {
  for (const mode of MODES) {
    describe(`engine client, ${kind} server, ${mode.name}`, () => {
      let server: TestServer;
      const clients: EngineClient[] = [];
      before(async () => {
        // Frequent pings, but a generous timeout: a loaded machine must not look like a dead peer.
        server = await startServer(kind, { pingInterval: 250, pingTimeout: 5000 });
      });
      afterEach(() => {
        for (const client of clients.splice(0)) client.close();
      });
      after(() => server.close());

      /** An open client on its final transport, and its server session. */
      async function open(): Promise<{
        client: EngineClient;
        session: Awaited<ReturnType<TestServer["nextSession"]>>;
      }> {
        const client = connect(server, { transports: [...mode.transports] });
        clients.push(client);
        const [session] = await Promise.all([server.nextSession(), next(client, "open")]);
        if (mode.final !== mode.transports[0]) {
          await next(client, "upgrade");
          // The server switches when the "5" arrives, a little later than the client.
          await waitUntil(() => session.transportName === mode.final, 5000, "server upgrade");
        }
        assert.equal(client.transportName, mode.final);
        return { client, session };
      }

      it("handshakes: session id, upgrades, heartbeat values, maxPayload", async () => {
        const client = connect(server, { transports: [...mode.transports] });
        clients.push(client);
        assert.equal(client.readyState, "opening");
        assert.equal(client.id, null);
        const [[handshake], session] = await Promise.all([
          next(client, "handshake"),
          server.nextSession(),
        ]);
        assert.equal(client.readyState, "open");
        assert.equal(handshake.sid, session.id);
        assert.equal(client.id, session.id);
        assert.equal(handshake.pingInterval, 250);
        assert.equal(handshake.pingTimeout, 5000);
        assert.equal(typeof handshake.maxPayload, "number");
        assert.deepEqual(handshake.upgrades, mode.transports[0] === "polling" ? ["websocket"] : []);
        assert.equal(client.transportName, mode.transports[0]);
        if (mode.transports[0] === "polling") {
          const first = server.requests.find((r) => r.url?.includes(`sid=`) === false);
          assert.ok(first);
          const query = new URL(first.url ?? "", "http://x").searchParams;
          assert.equal(query.get("EIO"), "4");
          assert.equal(query.get("transport"), "polling");
          assert.match(query.get("t") ?? "", /^[0-9a-z]+$/);
        }
      });

      it("carries text and binary both ways, in order", async () => {
        const { client, session } = await open();
        const fromClient = collect(session, 4);
        client.send("hello");
        client.send(new Uint8Array([0, 1, 2, 255]));
        client.send(new Uint8Array([9, 8, 7]).buffer);
        client.send("é ☃ 😀");
        const received = await fromClient;
        assert.equal(received[0], "hello");
        assert.deepEqual(bytes(received[1] as Uint8Array), [0, 1, 2, 255]);
        assert.deepEqual(bytes(received[2] as Uint8Array), [9, 8, 7]);
        assert.equal(received[3], "é ☃ 😀");

        const fromServer = collectClient(client, 3);
        session.send("world");
        session.send(new Uint8Array([4, 5, 6]));
        session.send("");
        const got = await fromServer;
        assert.equal(got[0], "world");
        assert.ok(got[1] instanceof ArrayBuffer, "binary arrives as an ArrayBuffer");
        assert.deepEqual(bytes(got[1]), [4, 5, 6]);
        assert.equal(got[2], "");
      });

      it("keeps the order of many messages in both directions", async () => {
        const { client, session } = await open();
        const count = 300;
        const fromClient = collect(session, count);
        const fromServer = collectClient(client, count);
        for (let i = 0; i < count; i++) {
          client.send(`c${i}`);
          session.send(`s${i}`);
        }
        const [c, s] = await Promise.all([fromClient, fromServer]);
        assert.deepEqual(
          c,
          Array.from({ length: count }, (_, i) => `c${i}`),
        );
        assert.deepEqual(
          s,
          Array.from({ length: count }, (_, i) => `s${i}`),
        );
      });

      it("answers the server's pings and stays open across several intervals", async () => {
        const { client, session } = await open();
        let pings = 0;
        client.on("ping", () => pings++);
        let pongs = 0;
        session.onPacket((type) => {
          if (type === "pong") pongs++;
        });
        let serverClosed = "";
        session.onClose((reason) => {
          serverClosed = reason;
        });
        // Several ping intervals (the server would close without pongs; see the heartbeat tests).
        await new Promise((resolve) => setTimeout(resolve, 1100));
        assert.ok(pings >= 2, `got ${pings} pings`);
        assert.ok(pongs >= pings - 1, `${pongs} pongs for ${pings} pings`);
        assert.equal(client.readyState, "open");
        assert.equal(serverClosed, "");
      });

      it("close(): 'forced close' on the client, 'transport close' on the server", async () => {
        const { client, session } = await open();
        const serverClose = new Promise<string>((resolve) => session.onClose(resolve));
        const closed = next(client, "close");
        client.close();
        assert.equal(client.readyState, "closed");
        const [reason] = await closed;
        assert.equal(reason, "forced close");
        assert.equal(client.id, null);
        assert.equal(await serverClose, "transport close");
      });

      it("close() writes what is buffered first", async () => {
        const { client, session } = await open();
        const received = collect(session, 3);
        client.send("one");
        client.send("two");
        client.send("three");
        const closed = next(client, "close");
        client.close();
        assert.deepEqual(await received, ["one", "two", "three"]);
        assert.equal((await closed)[0], "forced close");
      });

      it("the server closing the session gives 'transport close'", async () => {
        const { client, session } = await open();
        const closed = next(client, "close");
        session.close();
        const [reason] = await closed;
        assert.equal(reason, "transport close");
        assert.equal(client.readyState, "closed");
      });

      it("sends after close are ignored", async () => {
        const { client } = await open();
        client.close();
        let called = false;
        client.send("late", () => {
          called = true;
        });
        assert.equal(client.bufferedAmount, 0);
        assert.equal(called, false);
      });
    });
  }
}

describe("engine client: server going away", () => {
  for (const kind of SERVER_KINDS) {
    it(`${kind}, polling: 'transport error' with the error first`, async () => {
      const server = await startServer(kind);
      const client = connect(server, { transports: ["polling"] });
      await next(client, "open");
      const errored = next(client, "error");
      const closed = next(client, "close");
      await server.close();
      const [error] = await errored;
      assert.equal(error.name, "TransportError");
      const [reason, description] = await closed;
      assert.equal(reason, "transport error");
      assert.equal(description, error);
    });

    it(`${kind}, websocket: 'transport close'`, async () => {
      const server = await startServer(kind);
      const client = connect(server, { transports: ["websocket"] });
      await next(client, "open");
      const closed = next(client, "close");
      await server.close();
      const [reason] = await closed;
      assert.equal(reason, "transport close");
    });
  }
});
