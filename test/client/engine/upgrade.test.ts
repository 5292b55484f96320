/**
 * Upgrade from polling to WebSocket: messages keep flowing in both directions across it without
 * loss or reordering, a failed upgrade keeps polling, close() waits for an upgrade in progress,
 * rememberUpgrade opens directly over WebSocket.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { EngineClient, resetRememberedUpgrade } from "../../../src/client/engine/engine-client.js";
import { fakeWebSocket } from "./fake-websocket.js";
import {
  collect,
  collectClient,
  connect,
  ENGINE_PATH,
  next,
  record,
  recordClient,
  SERVER_KINDS,
  startServer,
  type TestServer,
  waitUntil,
  withTimeout,
} from "./helpers.js";

for (const kind of SERVER_KINDS) {
  describe(`engine client upgrade, ${kind} server`, () => {
    let server: TestServer;
    const clients: EngineClient[] = [];
    before(async () => {
      // Generous heartbeat: the flood below on a loaded machine must not look like a dead peer.
      server = await startServer(kind, { pingInterval: 2000, pingTimeout: 5000 });
    });
    afterEach(() => {
      for (const client of clients.splice(0)) client.close();
      resetRememberedUpgrade();
    });
    after(() => server.close());

    it("keeps messages in order in both directions while upgrading", async () => {
      const client = connect(server);
      clients.push(client);
      await next(client, "open");
      const session = await server.session(client.id);
      assert.equal(client.transportName, "polling");

      const events: string[] = [];
      assert.equal(client.transport?.name, "polling");
      client.on("upgrading", (transport) => {
        events.push(`upgrading ${transport.name}`);
        // Sent while the transports are being switched: they must wait and keep their place.
        client.send(`c${sent++}`);
        client.send(`c${sent++}`);
        assert.ok(client.upgrading);
        assert.ok(client.bufferedAmount > 0, "buffered during the switch");
      });
      client.on("upgrade", (transport) => {
        events.push(`upgrade ${transport.name}`);
        assert.equal(client.transport, transport, "the new transport is the one in use");
      });
      const fromClient = record(session);
      const fromServer = recordClient(client);
      let serverUpgraded = false;
      session.onUpgrade(() => {
        serverUpgraded = true;
      });

      // Both sides send a message every turn of the event loop until 40 after the upgrade.
      let sent = 0;
      let serverSent = 0;
      const sentOn: Record<string, number> = { polling: 0, websocket: 0 };
      const upgraded = next(client, "upgrade", 10000);
      let afterUpgrade = 0;
      const deadline = Date.now() + 8000;
      await new Promise<void>((resolve) => {
        const tick = () => {
          const state = client.upgrading ? "switching" : (client.transportName ?? "none");
          sentOn[state] = (sentOn[state] ?? 0) + 1;
          client.send(`c${sent++}`);
          session.send(`s${serverSent++}`);
          if (client.transportName === "websocket" && serverUpgraded) afterUpgrade++;
          // Bounded: gives up at the deadline (the assertions below then fail).
          if (afterUpgrade >= 40 || Date.now() > deadline) resolve();
          else setImmediate(tick);
        };
        tick();
      });
      await upgraded;
      assert.deepEqual(events, ["upgrading websocket", "upgrade websocket"]);
      assert.ok(sentOn.polling > 0, "some messages went over polling");
      assert.ok(sentOn.websocket > 0, "some messages went over the WebSocket");

      await waitUntil(
        () => fromClient.length >= sent && fromServer.length >= serverSent,
        5000,
        `all messages (client got ${fromServer.length}/${serverSent}, server ${fromClient.length}/${sent})`,
      );
      assert.deepEqual(
        fromClient,
        Array.from({ length: sent }, (_, i) => `c${i}`),
      );
      assert.deepEqual(
        fromServer,
        Array.from({ length: serverSent }, (_, i) => `s${i}`),
      );
      assert.equal(session.transportName, "websocket");
    });

    it("after the upgrade: no more polling, messages over the WebSocket", async () => {
      const client = connect(server);
      clients.push(client);
      await next(client, "upgrade");
      const session = await server.session(client.id);
      const pollsAtUpgrade = server.requests.filter((r) => r.url?.includes(session.id)).length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      const polls = server.requests.filter(
        (r) => r.url?.includes(session.id) && r.url.includes("transport=polling"),
      ).length;
      assert.ok(polls <= pollsAtUpgrade, "no polling request after the upgrade");
      const echoed = collect(session, 1);
      client.send("over ws");
      assert.deepEqual(await echoed, ["over ws"]);
    });

    it("close() during an upgrade lets it finish, then closes", async () => {
      const client = connect(server);
      clients.push(client);
      await next(client, "open");
      const session = await server.session(client.id);
      await next(client, "upgrading");
      const serverClosed = new Promise<string>((resolve) => session.onClose(resolve));
      const order: string[] = [];
      client.on("upgrade", () => order.push("upgrade"));
      client.on("close", (reason) => order.push(`close ${reason}`));
      client.close();
      assert.equal(client.readyState, "closing");
      await withTimeout(serverClosed, 5000, "server close");
      assert.deepEqual(order, ["upgrade", "close forced close"]);
    });

    it("rememberUpgrade opens over WebSocket after a successful upgrade", async () => {
      const first = connect(server);
      clients.push(first);
      await next(first, "upgrade");
      first.close();

      const remembering = connect(server, { rememberUpgrade: true });
      clients.push(remembering);
      assert.equal(remembering.transportName, "websocket");
      await next(remembering, "open");
      const session = await server.session(remembering.id);
      assert.equal(session.transportName, "websocket");
      assert.deepEqual(remembering.handshake?.upgrades, []);
    });

    it("rememberUpgrade without a previous success starts with polling", async () => {
      const client = connect(server, { rememberUpgrade: true });
      clients.push(client);
      assert.equal(client.transportName, "polling");
      await next(client, "open");
      assert.equal((await server.session(client.id)).transportName, "polling");
    });

    it("upgrade: false stays on polling", async () => {
      const client = connect(server, { upgrade: false });
      clients.push(client);
      await next(client, "open");
      let upgrading = false;
      client.on("upgrading", () => {
        upgrading = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(upgrading, false);
      assert.equal(client.transportName, "polling");
    });

    describe("failed upgrades keep polling", () => {
      async function stillWorks(client: EngineClient): Promise<void> {
        if (client.readyState === "opening") await next(client, "open");
        const session = await server.session(client.id);
        const fromClient = collect(session, 2);
        client.send("a");
        client.send("b");
        assert.deepEqual(await fromClient, ["a", "b"]);
        const fromServer = collectClient(client, 1);
        session.send("c");
        assert.deepEqual(await fromServer, ["c"]);
        assert.equal(client.transportName, "polling");
        assert.equal(client.upgrading, false);
      }

      it("WebSocket error before opening", async () => {
        const fake = fakeWebSocket({ created: (socket) => socket.fail() });
        const client = new EngineClient(server.url, {
          path: ENGINE_PATH,
          WebSocket: fake.WebSocket,
        });
        clients.push(client);
        const [error] = await next(client, "upgradeError");
        assert.match(error.message, /^probe error/);
        assert.equal(fake.made.length, 1);
        assert.ok(fake.made[0].url.startsWith(`ws://127.0.0.1:${server.port}${ENGINE_PATH}/?`));
        assert.match(fake.made[0].url, /[?&]sid=[^&]+/);
        assert.match(fake.made[0].url, /[?&]transport=websocket/);
        await stillWorks(client);
      });

      it("a wrong answer to the probe", async () => {
        const fake = fakeWebSocket({
          created: (socket) => socket.open(),
          sent: (socket, data) => {
            if (data === "2probe") socket.receive("3nope");
          },
        });
        const client = new EngineClient(server.url, {
          path: ENGINE_PATH,
          WebSocket: fake.WebSocket,
        });
        clients.push(client);
        const [error] = await next(client, "upgradeError");
        assert.equal(error.message, "probe error");
        assert.equal(fake.made[0].closed, true);
        assert.equal(fake.made[0].binaryType, "arraybuffer");
        await stillWorks(client);
      });

      it("the WebSocket dying while polling is being paused", async () => {
        const fake = fakeWebSocket({
          created: (socket) => socket.open(),
          sent: (socket, data) => {
            if (data === "2probe") {
              socket.receive("3probe");
              // Polling cannot pause yet: its GET waits for the server (no upgrade there).
              setTimeout(() => socket.fail(), 20);
            }
          },
        });
        const client = new EngineClient(server.url, {
          path: ENGINE_PATH,
          WebSocket: fake.WebSocket,
        });
        clients.push(client);
        await next(client, "upgrading");
        const [error] = await next(client, "upgradeError");
        assert.match(error.message, /^probe error/);
        // Never switched: no "5" went over the fake socket.
        assert.deepEqual(fake.made[0].sent, ["2probe"]);
        await stillWorks(client);
      });
    });
  });
}
