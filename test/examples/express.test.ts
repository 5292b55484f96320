/**
 * examples/express/server.mjs run as a process: Express routes still answer next to the Socket.IO
 * server, and a chat message reaches every connected client, with an ack to the sender.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { delay, waitUntil } from "../helpers/timing.js";
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
  example = await startExample("examples/express/server.mjs");
});
after(async () => {
  for (const client of clients) client.disconnect();
  await example.stop();
});

it("serves the Express page", async () => {
  const res = await fetch(`${example.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.equal(await res.text(), "<h1>duplexio + Express</h1>");
});

it("answers 404 from Express for unknown routes, outside the Socket.IO path", async () => {
  const res = await fetch(`${example.url}/nowhere`);
  assert.equal(res.status, 404);
  assert.match(await res.text(), /Cannot GET \/nowhere/);
});

it("broadcasts a chat message to every client and acks the sender", async () => {
  const alice = await connectClient(example.url);
  const bob = await connectClient(example.url, { transports: ["websocket"] });
  clients.push(alice, bob);
  await example.waitForOutput(new RegExp(`a user connected: ${bob.id}\\n`), 5000);

  const status1 = await (await fetch(`${example.url}/api/status`)).json();
  assert.deepEqual(status1, { ok: true, clients: 2 });

  const heardByAlice = nextClientEvent(alice, "chat message");
  const heardByBob = nextClientEvent(bob, "chat message");
  assert.deepEqual(await emitWithAck(alice, "chat message", ["hi, it's Alice"]), ["delivered"]);
  assert.deepEqual(await heardByAlice, ["hi, it's Alice"]);
  assert.deepEqual(await heardByBob, ["hi, it's Alice"]);

  const bobId = bob.id;
  bob.disconnect();
  await example.waitForOutput(
    new RegExp(`user disconnected: ${bobId} \\(client namespace disconnect\\)`),
    5000,
  );
  await waitUntil(
    () => alice.io.engine.transport.name === "websocket",
    5000,
    "Alice's upgrade from polling to WebSocket",
  );
  // Bob's Engine.IO connection closes just after his namespace disconnect was printed.
  let status2: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    status2 = await (await fetch(`${example.url}/api/status`)).json();
    if ((status2 as { clients: number }).clients === 1) break;
    await delay(50);
  }
  assert.deepEqual(status2, { ok: true, clients: 1 });
  assert.equal(example.stderr, "");
});
