/**
 * A migration from socket.io to duplexio over Redis Pub/Sub: on one real redis-server, two
 * duplexio servers with `duplexio/adapters/redis` and one socket.io 4.8 server with
 * `@socket.io/redis-adapter` act as one cluster (the scenario from every node: broadcasts to
 * rooms spanning the three, acknowledgements, fetchSockets, serverSideEmitWithAck, joins,
 * disconnects), classic and sharded Pub/Sub. And `@socket.io/redis-emitter` reaches the clients
 * of duplexio servers. The emitter part also runs on socket.io servers only, as a control.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  createAdapter as officialAdapter,
  createShardedAdapter as officialShardedAdapter,
} from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import {
  createAdapter as duplexioAdapter,
  createShardedAdapter as duplexioShardedAdapter,
} from "../../src/adapters/redis/index.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import {
  Cleanup,
  connectClient,
  eventually,
  expectDeliveries,
  joinRooms,
  type Kind,
  type LocalNode,
  nextClientEvent,
  sorted,
  startNode,
  type TestClient,
} from "./harness.js";
import { type RedisLibrary, redisClient } from "./redis-clients.js";
import { populate, runScenario } from "./scenario.js";

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

/** Fast heartbeats for duplexio's nodes: they find each other within the test's bounds. */
const DUPLEXIO_OPTIONS = { heartbeatInterval: 300, logger: false } as const;

interface Member {
  kind: Kind;
  library: RedisLibrary;
}

type Mode = "classic" | "sharded";

let run = 0;

/** Starts `members` on `prefix`: duplexio's adapter on duplexio, socket.io's on socket.io. */
async function startMixed(
  cleanup: Cleanup,
  members: Member[],
  mode: Mode,
  prefix = `m${run++}`,
): Promise<LocalNode[]> {
  const nodes: LocalNode[] = [];
  for (const [i, { kind, library }] of members.entries()) {
    const pub = await redisClient(library, redis.url);
    cleanup.add("pub client", () => pub.close());
    const sub = await redisClient(library, redis.url);
    cleanup.add("sub client", () => sub.close());
    let adapter: unknown;
    if (kind === "duplexio") {
      adapter =
        mode === "classic"
          ? duplexioAdapter(pub.client, sub.client, { key: prefix, ...DUPLEXIO_OPTIONS })
          : duplexioShardedAdapter(pub.client, sub.client, {
              channelPrefix: prefix,
              ...DUPLEXIO_OPTIONS,
            });
    } else {
      adapter =
        mode === "classic"
          ? officialAdapter(pub.client as never, sub.client as never, { key: prefix })
          : officialShardedAdapter(pub.client as never, sub.client as never, {
              channelPrefix: prefix,
            });
    }
    const node = await startNode(kind, `${kind}-${i}`, { adapter });
    cleanup.add(node.name, () => node.close());
    nodes.push(node);
  }
  return nodes;
}

const MIXED: Member[] = [
  { kind: "duplexio", library: "node-redis" },
  { kind: "socket.io", library: "node-redis" },
  { kind: "duplexio", library: "ioredis" },
];

describe("a mixed cluster on Redis Pub/Sub: two duplexio nodes, one socket.io node", () => {
  it("classic Pub/Sub (createAdapter): the scenario from every node", async () => {
    const cleanup = new Cleanup();
    try {
      await runScenario(await startMixed(cleanup, MIXED, "classic"));
    } finally {
      await cleanup.run();
    }
  });

  it("sharded Pub/Sub (createShardedAdapter): the scenario from every node", async () => {
    const cleanup = new Cleanup();
    try {
      const members: Member[] = [
        { kind: "duplexio", library: "ioredis" },
        { kind: "socket.io", library: "ioredis" },
        { kind: "duplexio", library: "node-redis" },
      ];
      await runScenario(await startMixed(cleanup, members, "sharded"), { settleAfterJoinMs: 200 });
    } finally {
      await cleanup.run();
    }
  });
});

/** The emitter's operations reach the clients of every node. */
async function emitterScenario(nodes: LocalNode[], emitter: Emitter): Promise<void> {
  const cluster = await populate(nodes);
  const nspClients: TestClient[] = [];
  try {
    for (const node of nodes) {
      const client = await connectClient(node, `${node.name}-nsp`, "/nsp");
      nspClients.push(client);
      await joinRooms(client, ["room-b"]);
    }
    const { all, controls } = cluster;
    const isB = (c: TestClient) => c.rooms.includes("room-b") && c.nsp === "/";
    const target = cluster.clients[1]![0]!;
    emitter.emit("msg", "e-all", { from: "emitter" });
    emitter.to("room-b").emit("msg", "e-b");
    emitter.except("room-b").emit("msg", "e-!b");
    emitter.to("room-a").except("room-b").emit("msg", "e-a!b");
    emitter.to(["room-a", "room-b"]).emit("msg", "e-ab");
    emitter.to(target.socket.id!).emit("msg", "e-id");
    emitter.of("/nsp").emit("msg", "e-nsp");
    emitter.of("/nsp").to("room-b").emit("msg", "e-nsp-b");
    await expectDeliveries(
      [...all, ...nspClients],
      [
        { event: "msg", tag: "e-all", count: (c) => (c.nsp === "/" ? 1 : 0) },
        { event: "msg", tag: "e-b", count: (c) => (isB(c) ? 1 : 0) },
        { event: "msg", tag: "e-!b", count: (c) => (c.nsp === "/" && !isB(c) ? 1 : 0) },
        { event: "msg", tag: "e-a!b", count: (c) => (c.nsp === "/" && !isB(c) ? 1 : 0) },
        { event: "msg", tag: "e-ab", count: (c) => (c.nsp === "/" ? 1 : 0) },
        { event: "msg", tag: "e-id", count: (c) => (c === target ? 1 : 0) },
        { event: "msg", tag: "e-nsp", count: (c) => (c.nsp === "/nsp" ? 1 : 0) },
        { event: "msg", tag: "e-nsp-b", count: (c) => (c.nsp === "/nsp" ? 1 : 0) },
      ],
    );
    assert.deepEqual(all[0]!.events.find((e) => e.args[0] === "e-all")?.args[1], {
      from: "emitter",
    });

    const bIds = sorted(all.filter(isB).map((c) => c.socket.id!));
    emitter.in("room-b").socketsJoin("e-room");
    await eventually(async () => {
      for (const control of controls) {
        const found = await control.call("fetchSockets", { rooms: ["e-room"] });
        assert.deepEqual(sorted(found.sockets.map((s) => s.id)), bIds);
      }
    }, 5000);
    emitter.in("room-b").socketsLeave("e-room");
    await eventually(async () => {
      for (const control of controls) {
        assert.deepEqual((await control.call("fetchSockets", { rooms: ["e-room"] })).sockets, []);
      }
    }, 5000);

    emitter.serverSideEmit("note", "from the emitter");
    await eventually(async () => {
      for (const control of controls) {
        assert.deepEqual(await control.call("notes", {}), [["from the emitter"]]);
      }
    }, 5000);

    const reasons = all.filter(isB).map((c) => nextClientEvent(c.socket, "disconnect"));
    emitter.in("room-b").disconnectSockets();
    for (const [reason] of await Promise.all(reasons)) assert.equal(reason, "io server disconnect");
    for (const client of [...all.filter((c) => !isB(c)), ...nspClients]) {
      assert.equal(client.socket.connected, true, client.name);
    }
  } finally {
    for (const client of nspClients) client.socket.disconnect();
    cluster.close();
  }
}

for (const members of [
  MIXED,
  MIXED.map((m) => ({ ...m, kind: "socket.io" as Kind })),
] as Member[][]) {
  const control = members.every((m) => m.kind === "socket.io");
  const what = control ? "three socket.io nodes (control)" : "the mixed cluster";
  describe(`@socket.io/redis-emitter on ${what}`, () => {
    for (const library of ["node-redis", "ioredis"] as RedisLibrary[]) {
      it(`emit, to, except, of, socketsJoin/Leave, serverSideEmit, disconnectSockets (${library} emitter)`, async () => {
        const cleanup = new Cleanup();
        try {
          const key = `m${run++}`;
          const nodes = await startMixed(cleanup, members, "classic", key);
          const emitterClient = await redisClient(library, redis.url);
          cleanup.add("emitter client", () => emitterClient.close());
          await emitterScenario(nodes, new Emitter(emitterClient.client, { key }));
        } finally {
          await cleanup.run();
        }
      });
    }
  });
}
