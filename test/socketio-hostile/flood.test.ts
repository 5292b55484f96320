/**
 * Floods of connections: hundreds of handshakes that never go further, and WebSocket connections
 * dropped at every early stage. Every handshake is answered, the well-behaved client keeps getting
 * its acks during and after the flood, and the heartbeat reclaims every abandoned session.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { waitUntil } from "../helpers/timing.js";
import { expectEchoes } from "../socketio-interop/client.js";
import {
  type HostileSubject,
  PING_INTERVAL,
  PING_TIMEOUT,
  startHostileSubject,
} from "./hostile-subject.js";
import { pollingHandshake, RawWebSocket } from "./raw-engine.js";

const HANDSHAKES = 500;
const WEBSOCKETS = 150;
const CONCURRENCY = 20;

let subject: HostileSubject;

before(async () => {
  subject = await startHostileSubject();
});
after(() => subject.close());

/** Runs `count` jobs, `CONCURRENCY` at a time. */
async function inParallel<T>(count: number, job: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await job(index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

/** The good client's echo, repeated until `done` settles: it must keep working throughout. */
async function echoUntil(done: Promise<unknown>, tag: string): Promise<number> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  let rounds = 0;
  while (!finished) await expectEchoes(subject.goodClient, `${tag} ${rounds++}`);
  return rounds;
}

const reclaimWithin = 3 * (PING_INTERVAL + PING_TIMEOUT);

it(`${HANDSHAKES} polling handshakes never followed up: all answered, then reclaimed`, async () => {
  const flood = inParallel(HANDSHAKES, () => pollingHandshake(subject.url));
  const rounds = await echoUntil(flood, "during the handshake flood");
  const sids = new Set((await flood).map((open) => open.sid));
  assert.equal(sids.size, HANDSHAKES, "every handshake got its own session");
  assert.ok(rounds >= 1);
  await waitUntil(
    () => subject.io.engine.clientsCount === 1,
    reclaimWithin,
    "the heartbeat to close every abandoned session",
    50,
  );
  await expectEchoes(subject.goodClient, "after the handshake flood");
});

it(`${WEBSOCKETS} WebSocket connections dropped early: nothing left behind`, async () => {
  const flood = inParallel(WEBSOCKETS, async (index) => {
    const raw = await RawWebSocket.open(subject.url);
    // Dropped right after the upgrade, after the open packet, or after connecting to "/".
    if (index % 3 >= 1) await raw.next();
    if (index % 3 === 2) {
      raw.send("40");
      await raw.next();
    }
    raw.destroy();
  });
  await echoUntil(flood, "during the WebSocket flood");
  await flood;
  await waitUntil(
    () => subject.io.engine.clientsCount === 1,
    reclaimWithin,
    "every dropped connection's session to close",
    50,
  );
  assert.equal(subject.io.of("/").sockets.size, 1, "only the good client's socket is left");
  await expectEchoes(subject.goodClient, "after the WebSocket flood");
});
