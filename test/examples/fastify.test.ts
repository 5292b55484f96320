/**
 * examples/fastify/server.mjs run as a process: Fastify routes still answer next to the Socket.IO
 * server, rooms scope what clients hear, a route reads the rooms through fetchSockets, and
 * SIGTERM closes Fastify and the Socket.IO server so the process exits on its own.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { withTimeout } from "../helpers/timing.js";
import {
  type ClientSocket,
  connectClient,
  emitWithAck,
  nextClientEvent,
} from "../socketio-interop/client.js";
import { type ExampleProcess, startExample } from "./example-process.js";

let example: ExampleProcess;
const clients: ClientSocket[] = [];

before(async () => {
  example = await startExample("examples/fastify/server.mjs");
});
after(async () => {
  for (const client of clients) client.disconnect();
  await example.stop();
});

it("serves the Fastify routes", async () => {
  const res = await fetch(`${example.url}/`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { hello: "duplexio + Fastify" });
  const missing = await fetch(`${example.url}/nowhere`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).message, "Route GET:/nowhere not found");
});

it("scopes messages to rooms, and a route lists a room's members", async () => {
  const alice = await connectClient(example.url);
  const bob = await connectClient(example.url, { transports: ["websocket"] });
  const carol = await connectClient(example.url);
  clients.push(alice, bob, carol);

  assert.deepEqual(await emitWithAck(alice, "join", ["blue"]), [{ joined: "blue" }]);
  assert.deepEqual(await emitWithAck(bob, "join", ["blue"]), [{ joined: "blue" }]);
  assert.deepEqual(await emitWithAck(carol, "join", ["red"]), [{ joined: "red" }]);

  const members = await (await fetch(`${example.url}/rooms/blue`)).json();
  assert.deepEqual(
    { ...members, members: members.members.toSorted() },
    { room: "blue", members: [alice.id, bob.id].toSorted() },
  );

  let carolHeard: unknown[] | undefined;
  carol.on("said", (...args: unknown[]) => {
    carolHeard = args;
  });
  const heardByAlice = nextClientEvent(alice, "said");
  const heardByBob = nextClientEvent(bob, "said");
  bob.emit("say", "blue", "hello blue");
  const expected = [{ room: "blue", from: bob.id, text: "hello blue" }];
  assert.deepEqual(await heardByAlice, expected);
  assert.deepEqual(await heardByBob, expected);
  // Carol's own room still works, and nothing for blue reached her before it.
  const heardByCarol = nextClientEvent(carol, "said");
  carol.emit("say", "red", "hello red");
  assert.deepEqual(await heardByCarol, [{ room: "red", from: carol.id, text: "hello red" }]);
  assert.deepEqual(carolHeard, [{ room: "red", from: carol.id, text: "hello red" }]);
});

it("closes Fastify and the Socket.IO server on SIGTERM, disconnecting clients, and exits", async () => {
  const client = clients[0];
  const disconnected = nextClientEvent(client, "disconnect", 5000);
  example.child.kill("SIGTERM");
  assert.equal((await disconnected)[0], "io server disconnect");
  assert.equal(await withTimeout(example.exited, 5000, "the example to exit"), 0);
  assert.match(example.stdout, /\nclosed\n$/);
  assert.equal(example.stderr, "");
});
