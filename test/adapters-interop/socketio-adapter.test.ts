/**
 * socket.io-adapter's own adapters (`Adapter`, `SessionAwareAdapter`) plugged into a duplexio
 * server with `new Server({ adapter })`: they reach into the server (`nsp.server.encoder`,
 * `nsp.server.opts`, `socket.client.writeToEngine`, `socket.acks`, `nsp._ids`), so this checks
 * that duplexio honours socket.io-adapter 2.5's contract. Every test also runs on a socket.io 4.8
 * server with the same adapter, as a control of the test itself.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Adapter, SessionAwareAdapter } from "socket.io-adapter";
import {
  Cleanup,
  Control,
  connectClient,
  eventually,
  expectDeliveries,
  joinRooms,
  type Kind,
  nextClientEvent,
  startNode,
} from "./harness.js";
import { runScenario } from "./scenario.js";

const cleanup = new Cleanup();
after(() => cleanup.run());

for (const kind of ["duplexio", "socket.io"] as Kind[]) {
  const label = kind === "socket.io" ? " (control: socket.io)" : "";

  describe(`socket.io-adapter's adapters on a ${kind} server${label}`, () => {
    it("Adapter: rooms, broadcasts, acknowledgements, fetchSockets, joins, disconnects", async () => {
      const node = await startNode(kind, "solo", { adapter: Adapter });
      cleanup.add("solo", () => node.close());
      // socket.io-adapter's in-memory Adapter has no serverSideEmit (it only warns).
      await runScenario([node], { serverSideEmit: false });
      await node.close();
    });

    it("Adapter: the same with HTTP long-polling clients", async () => {
      const node = await startNode(kind, "solo", { adapter: Adapter });
      cleanup.add("solo", () => node.close());
      await runScenario([node], {
        serverSideEmit: false,
        clientOptions: { transports: ["polling"] },
      });
      await node.close();
    });

    it("SessionAwareAdapter: the same, with connection state recovery on", async () => {
      const node = await startNode(kind, "solo", {
        adapter: SessionAwareAdapter,
        connectionStateRecovery: {},
      });
      cleanup.add("solo", () => node.close());
      await runScenario([node], { serverSideEmit: false });
      await node.close();
    });

    it("SessionAwareAdapter: a client's missed events are replayed after a reconnection", async () => {
      const node = await startNode(kind, "solo", {
        adapter: SessionAwareAdapter,
        connectionStateRecovery: { maxDisconnectionDuration: 30_000 },
      });
      cleanup.add("solo", () => node.close());
      const control = await Control.connect(node);
      cleanup.add("control", () => control.close());
      const client = await connectClient(node, "c");
      cleanup.add("client", () => client.socket.disconnect());
      const bystander = await connectClient(node, "d");
      cleanup.add("bystander", () => bystander.socket.disconnect());
      await joinRooms(client, ["room-r"]);
      await control.call("emit", { rooms: ["room-r"], event: "msg", args: ["before"] });
      await expectDeliveries([client], [{ event: "msg", tag: "before", count: () => 1 }]);
      const id = client.socket.id;

      // The transport is cut (not a disconnect the client asked for): the session is kept.
      const disconnected = nextClientEvent(client.socket, "disconnect");
      client.socket.io.engine.close();
      await disconnected;
      await eventually(async () => {
        const sockets = await control.call("localSockets", {});
        assert.deepEqual(
          sockets.map((s) => s.id),
          [bystander.socket.id],
        );
      }, 5000);

      await control.call("emit", { rooms: ["room-r"], event: "msg", args: ["missed-1"] });
      await control.call("emit", { event: "msg", args: ["missed-2", { big: "x".repeat(2000) }] });
      await control.call("emit", { rooms: ["elsewhere"], event: "msg", args: ["not-for-c"] });
      await control.call("emit", { except: ["room-r"], event: "msg", args: ["not-for-c-2"] });
      await control.call("emit", { rooms: [id!], event: "msg", args: ["missed-3"] });

      const reconnected = nextClientEvent(client.socket, "connect");
      client.socket.connect();
      await reconnected;
      assert.equal(client.socket.recovered, true);
      assert.equal(client.socket.id, id);
      await expectDeliveries(
        [client],
        ["before", "missed-1", "missed-2", "missed-3"].map((tag) => ({
          event: "msg",
          tag,
          count: () => 1,
        })),
      );
      assert.deepEqual(
        client.events.map((e) => e.args[0]),
        ["before", "missed-1", "missed-2", "missed-3"],
      );
      assert.deepEqual(client.events[2]!.args[1], { big: "x".repeat(2000) });
      const [restored] = (await control.call("localSockets", {})).filter((s) => s.id === id);
      assert.equal(restored?.recovered, true);
      assert.ok(restored.rooms.includes("room-r"));

      // Broadcasts after the recovery reach it once, still with offsets.
      await control.call("emit", { rooms: ["room-r"], event: "msg", args: ["after"] });
      await expectDeliveries([client], [{ event: "msg", tag: "after", count: () => 1 }]);
      assert.equal(typeof client.events.at(-1)!.args.at(-1), "string", "an offset");
      await node.close();
    });
  });
}
