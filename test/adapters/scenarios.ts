/**
 * The cluster scenarios shared by the adapter test files: broadcasts with exact delivery counts
 * (rooms, except, volatile, local, from a socket) and cluster-wide requests (broadcast with
 * acknowledgements, fetchSockets, RemoteSocket actions, serverSideEmit, socketsJoin/Leave,
 * disconnectSockets), on three nodes A, B and C with clients of both libraries on each.
 */
import assert from "node:assert/strict";
import { delay, waitUntil } from "../helpers/timing.js";
import {
  assertExactDelivery,
  CLIENT_LIBS,
  type Cluster,
  type TestClient,
  waitForDelivery,
} from "./cluster-harness.js";

/** The rooms of client j of a node (j indexes this table). */
export const CLIENT_ROOMS: (string | number)[][] = [["even", "low"], ["low"], ["even"], [42]];

/**
 * Connects, on each node, the clients of the given indexes of {@link CLIENT_ROOMS}, alternating
 * the libraries (so each room has clients of both). Tags are node name + index ("A0").
 */
export async function connectClients(
  cluster: Cluster,
  indexes: readonly number[] = [0, 1, 2, 3],
  nsp = "/",
): Promise<TestClient[]> {
  const pending: Promise<TestClient>[] = [];
  cluster.nodes.forEach((node, i) => {
    for (const j of indexes) {
      pending.push(
        cluster.connect({
          node,
          nsp,
          lib: CLIENT_LIBS[(i + j) % 2]!,
          rooms: CLIENT_ROOMS[j]!,
          tag: `${node.name}${j}`,
        }),
      );
    }
  });
  return Promise.all(pending);
}

function byTag(clients: readonly TestClient[], tag: string): TestClient {
  const client = clients.find((candidate) => candidate.tag === tag);
  if (client === undefined) throw new Error(`no client ${tag}`);
  return client;
}

const inRoom = (room: string | number) => (client: TestClient) => client.rooms.includes(room);

interface Broadcast {
  name: string;
  /** Sends message `seq` of the scenario (from one node). */
  emit(seq: number): Promise<unknown>;
  expected(client: TestClient): boolean;
}

/** Messages per broadcast scenario. */
const PER_SCENARIO = 5;

/**
 * Every kind of broadcast, from every node: each targeted client must get each message exactly
 * once and in order, and no other client any. `compact` keeps one scenario per feature.
 */
export async function checkBroadcasts(
  cluster: Cluster,
  clients: readonly TestClient[],
  compact = false,
): Promise<void> {
  const [A, B, C] = cluster.nodes as [
    Cluster["nodes"][0],
    Cluster["nodes"][0],
    Cluster["nodes"][0],
  ];
  const has = (tag: string) => clients.some((client) => client.tag === tag);
  const emitFrom =
    (node: typeof A, name: string, target: Record<string, unknown>) => (seq: number) =>
      node.rpc("emit", { ...target, event: name, args: [{ seq }] });
  const socketEmitFrom =
    (node: typeof A, name: string, tag: string, target: Record<string, unknown>) => (seq: number) =>
      node.rpc("socketEmit", {
        ...target,
        sid: byTag(clients, tag).id,
        event: name,
        args: [{ seq }],
      });

  const scenarios: Broadcast[] = [
    { name: "all", emit: emitFrom(A, "all", {}), expected: () => true },
    { name: "room", emit: emitFrom(B, "room", { to: ["even"] }), expected: inRoom("even") },
    {
      name: "except",
      emit: emitFrom(A, "except", { to: ["low"], except: ["even"] }),
      expected: (c) => c.rooms.includes("low") && !c.rooms.includes("even"),
    },
    {
      name: "local",
      emit: emitFrom(A, "local", { local: true }),
      expected: (c) => c.node === "A",
    },
    { name: "volatile", emit: emitFrom(C, "volatile", { volatile: true }), expected: () => true },
    {
      name: "socketBroadcast",
      emit: socketEmitFrom(B, "socketBroadcast", "B0", { broadcast: true }),
      expected: (c) => c.tag !== "B0",
    },
    {
      name: "socketTo",
      emit: socketEmitFrom(A, "socketTo", "A0", { to: ["low"] }),
      expected: (c) => c.rooms.includes("low") && c.tag !== "A0",
    },
  ];
  if (!compact) {
    scenarios.push(
      {
        name: "rooms",
        emit: emitFrom(C, "rooms", { to: ["even", "low"] }),
        expected: (c) => c.rooms.includes("even") || c.rooms.includes("low"),
      },
      {
        name: "exceptOnly",
        emit: emitFrom(B, "exceptOnly", { except: ["low"] }),
        expected: (c) => !c.rooms.includes("low"),
      },
      { name: "numeric", emit: emitFrom(C, "numeric", { to: [42] }), expected: inRoom(42) },
      {
        name: "localRoom",
        emit: emitFrom(B, "localRoom", { local: true, to: ["even"] }),
        expected: (c) => c.node === "B" && c.rooms.includes("even"),
      },
      {
        name: "volatileRoom",
        emit: emitFrom(A, "volatileRoom", { volatile: true, to: ["low"] }),
        expected: inRoom("low"),
      },
      {
        name: "socketToFromC",
        emit: socketEmitFrom(C, "socketToFromC", "C2", { to: ["even"] }),
        expected: (c) => c.rooms.includes("even") && c.tag !== "C2",
      },
    );
    if (has("A2") && has("C0") && has("B0")) {
      scenarios.push(
        {
          name: "toRemoteSocket",
          emit: (seq) =>
            C.rpc("emit", {
              to: [byTag(clients, "A2").id],
              event: "toRemoteSocket",
              args: [{ seq }],
            }),
          expected: (c) => c.tag === "A2",
        },
        {
          name: "toOwnSocket",
          emit: (seq) =>
            C.rpc("emit", { to: [byTag(clients, "C0").id], event: "toOwnSocket", args: [{ seq }] }),
          expected: (c) => c.tag === "C0",
        },
        {
          name: "exceptSocket",
          emit: (seq) =>
            A.rpc("emit", {
              to: ["even"],
              except: [byTag(clients, "B0").id],
              event: "exceptSocket",
              args: [{ seq }],
            }),
          expected: (c) => c.rooms.includes("even") && c.tag !== "B0",
        },
      );
    }
  }

  for (const scenario of scenarios) {
    for (let seq = 0; seq < PER_SCENARIO; seq++) await scenario.emit(seq);
  }
  for (const scenario of scenarios) {
    await waitForDelivery(clients, scenario.name, PER_SCENARIO, scenario.expected);
  }
  // Long enough for a duplicate or a stray delivery to show up.
  await delay(300);
  for (const scenario of scenarios) {
    assertExactDelivery(clients, scenario.name, PER_SCENARIO, scenario.expected, scenario.name);
  }
}

interface FetchResult {
  ms: number;
  sockets: { id: string; rooms: (string | number)[]; data: { node: string; tag: string } }[];
  complete?: boolean;
  missingNodes?: number;
}

interface AckResult {
  ok: boolean;
  responses: { tag: string }[];
  ms: number;
  error?: string;
}

interface ServerAckResult {
  ok: boolean;
  responses: { node: string }[];
  complete?: boolean;
  missingNodes?: number;
  ms: number;
  error?: string;
}

const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();

/**
 * Waits (bounded) until the sockets in `room`, as their nodes see them, are the clients for which
 * `expected` holds; then asserts it.
 */
async function waitForRooms(
  cluster: Cluster,
  clients: readonly TestClient[],
  room: string,
  expected: (client: TestClient) => boolean,
  what: string,
): Promise<void> {
  let last = "";
  const want = sorted(clients.filter(expected).map((c) => c.tag));
  const deadline = Date.now() + 5000;
  for (;;) {
    const tags: string[] = [];
    for (const node of cluster.nodes) {
      const sockets = await node.rpc<{ id: string; rooms: (string | number)[] }[]>("local");
      for (const socket of sockets) {
        if (!socket.rooms.includes(room)) continue;
        const client = clients.find((c) => c.id === socket.id);
        tags.push(client?.tag ?? socket.id);
      }
    }
    last = JSON.stringify(sorted(tags));
    if (last === JSON.stringify(want) || Date.now() > deadline) break;
    await delay(20);
  }
  assert.equal(last, JSON.stringify(want), `${what}: the sockets in room "${room}"`);
}

/**
 * Requests across nodes: broadcast with acknowledgements, fetchSockets, serverSideEmit (with
 * and without acknowledgement), socketsJoin/socketsLeave, RemoteSocket actions and
 * disconnectSockets, from every node. Disconnects some clients at the end.
 */
export async function checkRequests(
  cluster: Cluster,
  clients: readonly TestClient[],
  compact = false,
): Promise<void> {
  const nodes = cluster.nodes;
  const allTags = sorted(clients.map((c) => c.tag));
  const names = nodes.map((node) => node.name);

  // Broadcast with acknowledgements: one answer per client of every node.
  for (const node of compact ? nodes.slice(0, 1) : nodes) {
    const result = await node.rpc<AckResult>("emitWithAck", {
      timeout: 3000,
      event: "ask",
      args: [node.name],
    });
    assert.equal(result.ok, true, `emitWithAck from ${node.name}: ${result.error}`);
    assert.deepEqual(sorted(result.responses.map((r) => r.tag)), allTags, `acks to ${node.name}`);
  }
  {
    const result = await nodes[1]!.rpc<AckResult>("emitWithAck", {
      to: ["even"],
      timeout: 3000,
      event: "ask",
      args: ["even"],
    });
    assert.equal(result.ok, true, String(result.error));
    assert.deepEqual(
      sorted(result.responses.map((r) => r.tag)),
      sorted(clients.filter(inRoom("even")).map((c) => c.tag)),
    );
  }

  // fetchSockets sees every socket of every node, completely.
  for (const node of nodes) {
    const result = await node.rpc<FetchResult>("fetchSockets");
    assert.equal(result.complete, true, `fetchSockets from ${node.name} complete`);
    assert.equal(result.missingNodes, 0);
    assert.deepEqual(
      sorted(result.sockets.map((s) => s.id)),
      sorted(clients.map((c) => c.id)),
      `fetchSockets from ${node.name}`,
    );
    for (const socket of result.sockets) {
      const client = clients.find((c) => c.id === socket.id)!;
      assert.equal(socket.data.node, client.node, "data of a fetched socket");
      assert.equal(socket.data.tag, client.tag);
      assert.deepEqual(
        sorted(socket.rooms.map(String)),
        sorted([client.id, ...client.rooms.map(String)]),
      );
    }
  }
  {
    const result = await nodes[2]!.rpc<FetchResult>("fetchSockets", { to: ["low"] });
    assert.equal(result.complete, true);
    assert.deepEqual(
      sorted(result.sockets.map((s) => s.id)),
      sorted(clients.filter(inRoom("low")).map((c) => c.id)),
    );
  }

  // serverSideEmit: one answer per other node; without acknowledgement, once on each other node.
  for (const node of compact ? nodes.slice(0, 1) : nodes) {
    const result = await node.rpc<ServerAckResult>("serverSideEmitWithAck", {
      event: "node-ping",
      args: [node.name],
    });
    assert.equal(result.ok, true, String(result.error));
    assert.equal(result.complete, true);
    assert.equal(result.missingNodes, 0);
    assert.deepEqual(
      sorted(result.responses.map((r) => r.node)),
      names.filter((name) => name !== node.name),
    );
  }
  await nodes[0]!.rpc("serverSideEmit", { event: "node-note", args: ["from-A", 1] });
  for (const node of nodes.slice(1)) {
    const deadline = Date.now() + 3000;
    let notes: { args: unknown[] }[] = [];
    while (Date.now() < deadline) {
      notes = await node.rpc<{ args: unknown[] }[]>("notes");
      if (notes.length > 0) break;
      await delay(20);
    }
    await delay(100);
    notes = await node.rpc<{ args: unknown[] }[]>("notes");
    assert.deepEqual(notes, [{ nsp: "/", args: ["from-A", 1] }], `notes of ${node.name}`);
  }
  assert.deepEqual(await nodes[0]!.rpc("notes"), [], "the emitting node hears nothing");

  // socketsJoin / socketsLeave from one node reach the sockets of every node.
  await nodes[0]!.rpc("socketsJoin", { to: ["even"], rooms: ["sj"] });
  await waitForRooms(cluster, clients, "sj", inRoom("even"), "socketsJoin from A");
  await nodes[1]!.rpc("socketsLeave", { rooms: ["sj"] });
  await waitForRooms(cluster, clients, "sj", () => false, "socketsLeave from B");
  if (!compact) {
    await nodes[2]!.rpc("socketsJoin", { except: ["low"], rooms: ["sj2"] });
    await waitForRooms(
      cluster,
      clients,
      "sj2",
      (c) => !c.rooms.includes("low"),
      "socketsJoin except",
    );
  }

  // RemoteSocket actions from A on a socket of C.
  const victim = clients.find((c) => c.node === nodes[2]!.name && c.rooms.includes("low"))!;
  const others = clients.filter((c) => c !== victim);
  const A = nodes[0]!;
  const found = await A.rpc<{ found: boolean; local: boolean }>("remote", {
    sid: victim.id,
    op: "emit",
    event: "direct",
    args: [{ seq: 0 }],
  });
  assert.deepEqual(found, { found: true, local: false });
  await waitForDelivery(clients, "direct", 1, (c) => c === victim);
  await A.rpc("remote", { sid: victim.id, op: "join", room: "joined" });
  await waitForRooms(cluster, clients, "joined", (c) => c === victim, "RemoteSocket.join");
  await nodes[1]!.rpc("emit", { to: ["joined"], event: "viaJoined", args: [{ seq: 0 }] });
  await waitForDelivery(clients, "viaJoined", 1, (c) => c === victim);
  await A.rpc("remote", { sid: victim.id, op: "leave", room: "joined" });
  await waitForRooms(cluster, clients, "joined", () => false, "RemoteSocket.leave");
  await delay(200);
  assertExactDelivery(clients, "direct", 1, (c) => c === victim);
  assertExactDelivery(clients, "viaJoined", 1, (c) => c === victim);

  await A.rpc("remote", { sid: victim.id, op: "disconnect" });
  await waitUntil(() => !victim.socket.connected, 5000, "RemoteSocket.disconnect");
  assert.deepEqual(victim.disconnects, ["io server disconnect"]);

  // disconnectSockets from C: the sockets in room 42 (or "even" when there are none) of every node.
  const room = others.some(inRoom(42)) ? 42 : "even";
  const leaving = others.filter(inRoom(room));
  await nodes[2]!.rpc("disconnectSockets", { to: [room] });
  await waitUntil(
    () => leaving.every((c) => !c.socket.connected),
    5000,
    `disconnectSockets of room ${room}`,
  );
  await delay(100);
  for (const client of others) {
    assert.equal(client.socket.connected, !leaving.includes(client), `${client.tag} connected`);
  }
  const remaining = await nodes[1]!.rpc<FetchResult>("fetchSockets");
  assert.equal(remaining.complete, true);
  assert.deepEqual(
    sorted(remaining.sockets.map((s) => s.id)),
    sorted(others.filter((c) => !leaving.includes(c)).map((c) => c.id)),
  );
}
