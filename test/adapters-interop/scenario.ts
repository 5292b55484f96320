/**
 * The test body every cluster of the interop tests goes through, whatever its nodes (duplexio or
 * socket.io, in this process or in workers) and its adapter: two clients per node, in rooms that
 * span every node, then broadcasts from each node (exact counts, no duplicates), broadcasts with
 * acknowledgements, `fetchSockets`, `serverSideEmit(WithAck)`, RemoteSocket emits,
 * `socketsJoin`/`socketsLeave`, `disconnectSockets`. Run against socket.io servers with the same
 * adapter, it checks the test itself.
 */
import assert from "node:assert/strict";
import { delay } from "../helpers/timing.js";
import type { FetchResult } from "./agent.js";
import {
  type ClientOptions,
  Control,
  connectClient,
  eventually,
  expectDeliveries,
  joinRooms,
  type NodeRef,
  nextClientEvent,
  sorted,
  type TestClient,
} from "./harness.js";

export interface ScenarioOptions {
  /** Whether `serverSideEmit` is checked (socket.io-adapter's in-memory Adapter lacks it). */
  serverSideEmit?: boolean;
  /** Pause after joins, for adapters that subscribe to room channels as rooms appear. */
  settleAfterJoinMs?: number;
  /** Options of the clients (websocket only by default). */
  clientOptions?: ClientOptions;
  /** Bound on how long the nodes may take to know each other (default 8 s). */
  discoveryMs?: number;
}

/** The cluster as the scenario sees it: nodes, their control connections and their clients. */
export interface ClusterUnderTest {
  nodes: readonly NodeRef[];
  controls: Control[];
  /** Per node: [a, b] of "/"; a is in room-a and room 7 (a number), b in room-a and room-b. */
  clients: TestClient[][];
  /** The clients of "/". */
  all: TestClient[];
  /** One client per node on "/nsp", in a room named room-b too (namespaces keep apart). */
  nspClients: TestClient[];
  close(): void;
}

/**
 * Connects the controls and the clients of every node: on "/", a (room-a, 7) and b (room-a,
 * room-b); on "/nsp", one in room-b.
 */
export async function populate(
  nodes: readonly NodeRef[],
  options: ScenarioOptions = {},
): Promise<ClusterUnderTest> {
  const controls: Control[] = [];
  const clients: TestClient[][] = [];
  const cluster: ClusterUnderTest = {
    nodes,
    controls,
    clients,
    all: [],
    nspClients: [],
    close() {
      for (const client of [...cluster.all, ...cluster.nspClients]) client.socket.disconnect();
      for (const control of controls) control.close();
    },
  };
  try {
    for (const node of nodes) controls.push(await Control.connect(node));
    for (const node of nodes) {
      const a = await connectClient(node, `${node.name}-a`, "/", options.clientOptions);
      cluster.all.push(a);
      const b = await connectClient(node, `${node.name}-b`, "/", options.clientOptions);
      cluster.all.push(b);
      clients.push([a, b]);
      await joinRooms(a, ["room-a", 7]);
      await joinRooms(b, ["room-a", "room-b"]);
      const other = await connectClient(node, `${node.name}-nsp`, "/nsp", options.clientOptions);
      cluster.nspClients.push(other);
      await joinRooms(other, ["room-b"]);
    }
    // Every node knows every other one (heartbeats, or subscriptions counted), in both
    // namespaces.
    await eventually(async () => {
      for (const control of controls) {
        for (const nsp of ["/", "/nsp"]) {
          const count = await control.call("serverCount", { nsp });
          assert.equal(count, nodes.length, `${control.node.name} ${nsp}`);
        }
      }
    }, options.discoveryMs ?? 8000);
    await delay(options.settleAfterJoinMs ?? 50);
  } catch (error) {
    cluster.close();
    throw error;
  }
  return cluster;
}

const isMain = (client: TestClient): boolean => client.nsp === "/";
const isA = (client: TestClient): boolean => isMain(client) && !client.rooms.includes("room-b");
const isB = (client: TestClient): boolean => isMain(client) && client.rooms.includes("room-b");

/** Binary data, as it should arrive (a Buffer in Node, whatever the way it took). */
const BINARY = Buffer.from([0, 1, 2, 254, 255]);

function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

function ids(result: FetchResult): string[] {
  return sorted(result.sockets.map((s) => s.id));
}

/** Runs the whole scenario on `nodes`; closes its clients whatever happens. */
export async function runScenario(
  nodes: readonly NodeRef[],
  options: ScenarioOptions = {},
): Promise<void> {
  const cluster = await populate(nodes, options);
  try {
    await broadcasts(cluster);
    await broadcastAcks(cluster);
    await fetchSockets(cluster);
    if (options.serverSideEmit !== false) await serverSideEmits(cluster);
    await remoteSockets(cluster);
    await joinsAndLeaves(cluster, options.settleAfterJoinMs ?? 50);
    await disconnects(cluster);
  } finally {
    cluster.close();
  }
}

/**
 * From each node: rooms, several rooms (one copy), except, everyone, a numeric room, one socket's
 * own room, `local`, binary data, another namespace (a room of the same name kept apart).
 */
export async function broadcasts(cluster: ClusterUnderTest): Promise<void> {
  const { nodes, controls, clients, all, nspClients } = cluster;
  const n = nodes.length;
  const deliveries = [];
  for (let i = 0; i < n; i++) {
    const control = controls[i]!;
    const node = nodes[i]!;
    const target = clients[(i + 1) % n]![0]!;
    await control.call("emit", { rooms: ["room-a", "room-b"], event: "msg", args: [`ab@${i}`] });
    await control.call("emit", { rooms: ["room-b"], event: "msg", args: [`b@${i}`] });
    await control.call("emit", { except: ["room-b"], event: "msg", args: [`!b@${i}`] });
    await control.call("emit", { event: "msg", args: [`all@${i}`, { n: i }] });
    await control.call("emit", { rooms: [7], event: "msg", args: [`7@${i}`] });
    await control.call("emit", { rooms: [target.socket.id!], event: "msg", args: [`id@${i}`] });
    await control.call("emit", { local: true, rooms: ["room-a"], event: "msg", args: [`l@${i}`] });
    await control.call("emit", { nsp: "/nsp", rooms: ["room-b"], event: "msg", args: [`n@${i}`] });
    await control.call("emit", { rooms: ["room-b"], event: "msg", args: [`bin@${i}`, BINARY] });
    deliveries.push(
      { event: "msg", tag: `ab@${i}`, count: (c: TestClient) => (isMain(c) ? 1 : 0) },
      { event: "msg", tag: `b@${i}`, count: (c: TestClient) => (isB(c) ? 1 : 0) },
      { event: "msg", tag: `!b@${i}`, count: (c: TestClient) => (isA(c) ? 1 : 0) },
      { event: "msg", tag: `all@${i}`, count: (c: TestClient) => (isMain(c) ? 1 : 0) },
      { event: "msg", tag: `7@${i}`, count: (c: TestClient) => (isA(c) ? 1 : 0) },
      { event: "msg", tag: `id@${i}`, count: (c: TestClient) => (c === target ? 1 : 0) },
      {
        event: "msg",
        tag: `l@${i}`,
        count: (c: TestClient) => (isMain(c) && c.node === node ? 1 : 0),
      },
      { event: "msg", tag: `n@${i}`, count: (c: TestClient) => (isMain(c) ? 0 : 1) },
      { event: "msg", tag: `bin@${i}`, count: (c: TestClient) => (isB(c) ? 1 : 0) },
    );
  }
  await expectDeliveries([...all, ...nspClients], deliveries);
  // The data arrived intact (an object, binary data after the tag).
  for (const client of all) {
    for (const event of client.events) {
      if (String(event.args[0]).startsWith("all@")) {
        assert.deepEqual(event.args[1], { n: Number(String(event.args[0]).slice(4)) });
      }
      if (String(event.args[0]).startsWith("bin@")) {
        assert.deepEqual(
          asBuffer(event.args[1]),
          BINARY,
          `${client.name}: ${String(event.args[1])}`,
        );
      }
    }
  }
}

/** From each node: every client of the cluster in the room answers, each once. */
export async function broadcastAcks(cluster: ClusterUnderTest): Promise<void> {
  const { nodes, controls, all } = cluster;
  for (let i = 0; i < nodes.length; i++) {
    const control = controls[i]!;
    const fromB = await control.call("emitWithAck", {
      rooms: ["room-b"],
      timeout: 5000,
      event: "ask",
      args: [`ack@${i}`],
    });
    assert.deepEqual(
      sorted(fromB),
      sorted(all.filter(isB).map((c) => `${c.name}:ack@${i}`)),
      `acks of room-b from ${nodes[i]!.name}`,
    );
    const fromAll = await control.call("emitWithAck", {
      timeout: 5000,
      event: "ask",
      args: [`ackall@${i}`],
    });
    assert.deepEqual(
      sorted(fromAll),
      sorted(all.map((c) => `${c.name}:ackall@${i}`)),
      `acks of everyone from ${nodes[i]!.name}`,
    );
  }
}

/** From each node: the sockets of every node, with their rooms and data. */
export async function fetchSockets(cluster: ClusterUnderTest): Promise<void> {
  const { nodes, controls, all } = cluster;
  for (let i = 0; i < nodes.length; i++) {
    const control = controls[i]!;
    const inB = await control.call("fetchSockets", { rooms: ["room-b"] });
    assert.deepEqual(ids(inB), sorted(all.filter(isB).map((c) => c.socket.id!)));
    for (const socket of inB.sockets) {
      const client = all.find((c) => c.socket.id === socket.id)!;
      assert.deepEqual(sorted(socket.rooms), sorted([socket.id, "room-a", "room-b"]));
      assert.deepEqual(socket.data, { node: client.node.name });
      assert.equal(socket.local, client.node === nodes[i], `${socket.id} local`);
    }
    assert.notEqual(inB.complete, false, "a complete answer");
    const everyone = await control.call("fetchSockets", {});
    assert.deepEqual(ids(everyone), sorted(all.map((c) => c.socket.id!)));
    const exceptB = await control.call("fetchSockets", { except: ["room-b"] });
    assert.deepEqual(ids(exceptB), sorted(all.filter((c) => !isB(c)).map((c) => c.socket.id!)));
    const seven = await control.call("fetchSockets", { rooms: [7] });
    assert.deepEqual(ids(seven), sorted(all.filter(isA).map((c) => c.socket.id!)));
    for (const socket of seven.sockets) {
      assert.deepEqual(sorted(socket.rooms), sorted([socket.id, 7, "room-a"]));
    }
    const inNsp = await control.call("fetchSockets", { nsp: "/nsp", rooms: ["room-b"] });
    assert.deepEqual(ids(inNsp), sorted(cluster.nspClients.map((c) => c.socket.id!)));
  }
}

/** From each node: the other nodes answer `serverSideEmitWithAck`, and get `serverSideEmit`. */
export async function serverSideEmits(cluster: ClusterUnderTest): Promise<void> {
  const { nodes, controls } = cluster;
  for (let i = 0; i < nodes.length; i++) {
    const answer = await controls[i]!.call("serverSideEmitWithAck", {
      event: "whoami",
      args: [`from ${i}`],
    });
    assert.deepEqual(
      sorted(answer.responses),
      sorted(nodes.filter((_, j) => j !== i).map((node) => node.name)),
      `serverSideEmitWithAck from ${nodes[i]!.name}`,
    );
    await controls[i]!.call("serverSideEmit", { event: "note", args: [`note@${i}`, i] });
  }
  await eventually(async () => {
    for (let j = 0; j < nodes.length; j++) {
      const notes = await controls[j]!.call("notes", {});
      const expected = nodes.flatMap((_, i) => (i === j ? [] : [[`note@${i}`, i]]));
      assert.deepEqual(
        sorted(notes.map((note) => JSON.stringify(note))),
        sorted(expected.map((note) => JSON.stringify(note))),
      );
    }
  }, 5000);
}

/** From each node: emit (with and without acknowledgement) to a socket of the next node. */
export async function remoteSockets(cluster: ClusterUnderTest): Promise<void> {
  const { nodes, controls, clients, all } = cluster;
  const n = nodes.length;
  const deliveries = [];
  for (let i = 0; i < n; i++) {
    const target = clients[(i + 1) % n]![1]!;
    const { local } = await controls[i]!.call("remoteEmit", {
      id: target.socket.id!,
      event: "direct",
      args: [`direct@${i}`],
    });
    assert.equal(local, n === 1);
    deliveries.push({
      event: "direct",
      tag: `direct@${i}`,
      count: (c: TestClient) => (c === target ? 1 : 0),
    });
    const answer = await controls[i]!.call("remoteEmitWithAck", {
      id: target.socket.id!,
      event: "ask",
      args: [`rack@${i}`],
      timeout: 5000,
    });
    assert.equal(answer, `${target.name}:rack@${i}`);
  }
  await expectDeliveries(all, deliveries);
}

/** From each node: room-b's sockets of every node join a room, get a broadcast, leave it. */
export async function joinsAndLeaves(cluster: ClusterUnderTest, settleMs: number): Promise<void> {
  const { nodes, controls, all } = cluster;
  const n = nodes.length;
  const bIds = sorted(all.filter(isB).map((c) => c.socket.id!));
  const deliveries = [];
  for (let i = 0; i < n; i++) {
    const room = `joined@${i}`;
    await controls[i]!.call("socketsJoin", { rooms: ["room-b"], join: [room] });
    await eventually(async () => {
      for (const control of controls) {
        assert.deepEqual(ids(await control.call("fetchSockets", { rooms: [room] })), bIds);
      }
    }, 5000);
    await delay(settleMs);
    await controls[(i + 1) % n]!.call("emit", { rooms: [room], event: "msg", args: [`j@${i}`] });
    deliveries.push({ event: "msg", tag: `j@${i}`, count: (c: TestClient) => (isB(c) ? 1 : 0) });
  }
  await expectDeliveries(all, deliveries);
  for (let i = 0; i < n; i++) {
    const room = `joined@${i}`;
    await controls[i]!.call("socketsLeave", { rooms: ["room-b"], leave: [room] });
    await eventually(async () => {
      for (const control of controls) {
        assert.deepEqual(ids(await control.call("fetchSockets", { rooms: [room] })), []);
      }
    }, 5000);
  }
}

/**
 * room-b disconnected from the first node; then, from each node, the room-a-only socket of the
 * next node (with its whole connection from every other node).
 */
export async function disconnects(cluster: ClusterUnderTest): Promise<void> {
  const { nodes, controls, clients, all } = cluster;
  const n = nodes.length;
  const bClients = all.filter(isB);
  const reasons = bClients.map((c) => nextClientEvent(c.socket, "disconnect", 5000));
  await controls[0]!.call("disconnectSockets", { rooms: ["room-b"] });
  for (const [reason] of await Promise.all(reasons)) assert.equal(reason, "io server disconnect");
  const aIds = sorted(all.filter((c) => !isB(c)).map((c) => c.socket.id!));
  await eventually(async () => {
    for (const control of controls) {
      assert.deepEqual(ids(await control.call("fetchSockets", {})), aIds);
    }
  }, 5000);
  for (let i = 0; i < n; i++) {
    const victim = clients[(i + 1) % n]![0]!;
    const gone = nextClientEvent(victim.socket, "disconnect", 5000);
    await controls[i]!.call("disconnectSockets", {
      rooms: [victim.socket.id!],
      close: i % 2 === 1,
    });
    await gone;
    assert.equal(victim.socket.connected, false);
    const expected = sorted(
      clients.flatMap(([a], j) => (j > i + 1 || (j === 0 && i + 1 < n) ? [a!.socket.id!] : [])),
    );
    await eventually(async () => {
      for (const control of controls) {
        assert.deepEqual(ids(await control.call("fetchSockets", {})), expected);
      }
    }, 5000);
  }
  // The other namespace was not touched.
  for (const client of cluster.nspClients) assert.equal(client.socket.connected, true, client.name);
  const inNsp = await controls[0]!.call("fetchSockets", { nsp: "/nsp" });
  assert.deepEqual(ids(inNsp), sorted(cluster.nspClients.map((c) => c.socket.id!)));
}
