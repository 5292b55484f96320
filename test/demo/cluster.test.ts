/**
 * The demo as a cluster (`duplexio serve --redis URL`): two demo servers on one real Redis share
 * rooms, presence and messages; each dashboard lists both servers; the clock tick stays local.
 * Checked with the official socket.io-client, then in Chromium as two people on two servers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io, type Socket } from "socket.io-client";
import type { DashboardSnapshot } from "../../src/demo/events.js";
import type { DemoServer } from "../../src/demo/server.js";
import { launchChromium } from "../helpers/chromium.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { delay, nextEvent, waitUntil } from "../helpers/timing.js";
import {
  logIn,
  ManualClock,
  sendMessage,
  startTestServer,
  waitForMessage,
} from "./demo-fixture.js";

describe("demo cluster through Redis", () => {
  let redis: RedisProcess;
  let servers: DemoServer[] = [];
  const clients: Socket[] = [];

  before(async () => {
    redis = await startRedis();
    const clock = new ManualClock();
    servers = await Promise.all(
      [0, 1].map(() => startTestServer(clock, { redisUrl: redis.url, tickIntervalMs: 100 })),
    );
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  });

  async function chatClient(server: DemoServer, nickname: string): Promise<Socket> {
    const client = io(server.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { nickname },
    });
    clients.push(client);
    await nextEvent(client as never, "connect", 10_000);
    return client;
  }

  it("shares presence and messages between the servers", async () => {
    const alice = await chatClient(servers[0]!, "alice");
    const bob = await chatClient(servers[1]!, "bob");
    // Both are in the lobby; presence is computed with fetchSockets() across the servers.
    const presence: { room: string; members: string[] }[] = [];
    alice.on("presence", (p) => presence.push(p));
    const joined = await alice.timeout(5000).emitWithAck("join", "lobby");
    assert.deepEqual(joined, { ok: true, room: "lobby", members: ["alice", "bob"] });

    const received = nextEvent(bob as never, "message", 5000);
    const sent = await alice
      .timeout(5000)
      .emitWithAck("message", { room: "lobby", text: "hi bob" });
    assert.equal(sent.ok, true);
    const [message] = (await received) as [{ from: string; text: string; id: string }];
    assert.equal(message.from, "alice");
    assert.equal(message.text, "hi bob");
    assert.equal(message.id, sent.message.id);

    // A room created on one server is joinable from the other and its members span both.
    await bob.timeout(5000).emitWithAck("join", "ops");
    const ops = await alice.timeout(5000).emitWithAck("join", "ops");
    assert.deepEqual(ops.members, ["alice", "bob"]);
  });

  it("lists both servers on each dashboard and in /metrics", async () => {
    for (const server of servers) {
      let snapshot: DashboardSnapshot | undefined;
      await waitUntil(
        () => {
          snapshot = server.metrics.latest;
          return snapshot.cluster.nodes.length === 2;
        },
        5000,
        "both servers on the dashboard",
      );
      assert.ok(snapshot);
      assert.equal(snapshot.cluster.adapter, "redis-streams");
      assert.equal(snapshot.cluster.state, "up");
      assert.equal(snapshot.cluster.nodes[0]!.url, server.url);
      assert.deepEqual(
        snapshot.cluster.nodes.map((node) => node.url).sort(),
        servers.map((s) => s.url).sort(),
      );
      assert.ok(snapshot.cluster.crossNode.published > 0);
      assert.ok(snapshot.cluster.crossNode.received > 0);
      const text = await (await fetch(`${server.url}metrics`)).text();
      assert.match(text, /^duplexio_cluster_nodes 2$/m);
      assert.match(text, /^duplexio_adapter_up 1$/m);
    }
  });

  it("keeps the clock tick local to each server", async () => {
    const carol = await chatClient(servers[0]!, "carol");
    let ticks = 0;
    carol.on("tick", () => ticks++);
    await delay(1000);
    // Every 100 ms from its own server: about 10; both servers' ticks would make about 20.
    assert.ok(ticks >= 5 && ticks <= 13, `${ticks} ticks in 1 s`);
  });

  it("lets two people on two servers chat in Chromium", async () => {
    const browser = await launchChromium();
    try {
      const ada = browser.page;
      const ben = await browser.context.newPage();
      await logIn(ada, servers[0]!.url, "ada");
      await logIn(ben, servers[1]!.url, "ben");
      await ada.waitForFunction(
        () =>
          Array.from(document.querySelectorAll("#members li")).some(
            (li) => li.textContent === "ben",
          ),
        null,
        { timeout: 10_000 },
      );
      await sendMessage(ada, "from server one");
      await waitForMessage(ben, "lobby", "from server one");
      await sendMessage(ben, "from server two");
      await waitForMessage(ada, "lobby", "from server two");
    } finally {
      await browser.close();
    }
  });
});
