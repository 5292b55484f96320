/**
 * examples/nginx: Debian's nginx with the example's configuration (plain round-robin, no ip_hash,
 * no sticky cookie) in front of three duplexio nodes (examples/nginx/node.mjs) on one real
 * redis-server. Polling-only clients (the official socket.io-client and duplexio's) and clients
 * with the default transports (polling, then the upgrade, which also lands on any node) connect,
 * emit with acks, receive room broadcasts in order and disconnect, without a single "Session ID
 * unknown" or any other transport error.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io as officialIo } from "socket.io-client";
import { io as duplexioIo } from "../../src/client/node.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { delay, waitUntil, withTimeout } from "../helpers/timing.js";
import { type ExampleProcess, startExample } from "./example-process.js";
import { type NginxProcess, startNginx } from "./nginx.js";

/** The part of both clients' sockets the test uses. */
interface TestSocket {
  readonly connected: boolean;
  readonly io: {
    on(event: "error", listener: (error: Error) => void): unknown;
    engine?: { transport?: { name: string } } | null;
  };
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  close(): unknown;
}

type Connect = (url: string, options: Record<string, unknown>) => TestSocket;

const CLIENTS: Record<string, Connect> = {
  "socket.io-client": (url, options) => officialIo(url, options) as unknown as TestSocket,
  "duplexio client": (url, options) => duplexioIo(url, options) as unknown as TestSocket,
};

const TRANSPORTS: Record<string, string[] | undefined> = {
  "polling only": ["polling"],
  "default transports": undefined,
};

/** Clients per case, and broadcasts each case sends to their room. */
const CLIENT_COUNT = 6;
const BROADCASTS = 40;
const ACKS_PER_CLIENT = 10;

interface Ack {
  node: string;
  value?: unknown;
}

interface Watched {
  socket: TestSocket;
  received: unknown[];
  problems: string[];
}

function watch(socket: TestSocket): Watched {
  const watched: Watched = { socket, received: [], problems: [] };
  socket.on("message", (value: never) => watched.received.push(value));
  socket.on("connect_error", (error: never) =>
    watched.problems.push(`connect_error: ${(error as Error).message}`),
  );
  socket.on("disconnect", (reason: never) => watched.problems.push(`disconnect: ${reason}`));
  socket.io.on("error", (error) => watched.problems.push(`error: ${error.message}`));
  return watched;
}

describe("examples/nginx: round-robin nginx, three duplexio nodes, one Redis", () => {
  let redis: RedisProcess;
  const nodes: ExampleProcess[] = [];
  let nginx: NginxProcess;

  before(async () => {
    redis = await startRedis();
    for (const name of ["a", "b", "c"]) {
      nodes.push(
        await startExample("examples/nginx/node.mjs", { REDIS_URL: redis.url, NODE_NAME: name }),
      );
    }
    nginx = await startNginx({ upstreams: nodes.map((node) => Number(new URL(node.url).port)) });
  });

  after(async () => {
    await nginx?.stop();
    await Promise.all(nodes.map((node) => node.stop()));
    await redis?.stop();
  });

  for (const [clientName, connect] of Object.entries(CLIENTS)) {
    for (const [transportName, transports] of Object.entries(TRANSPORTS)) {
      it(`${clientName}, ${transportName}: acks, room broadcasts in order, disconnect`, async () => {
        const room = `${clientName}/${transportName}`;
        const options = {
          forceNew: true,
          reconnection: false,
          ...(transports === undefined ? {} : { transports }),
        };
        const clients: Watched[] = [];
        try {
          for (let i = 0; i < CLIENT_COUNT; i++) {
            const socket = connect(nginx.url, options);
            const watched = watch(socket);
            clients.push(watched);
            await withTimeout(
              new Promise<void>((resolve, reject) => {
                socket.once("connect", () => resolve());
                socket.once("connect_error", (error: never) => reject(error as Error));
              }),
              10000,
              `client ${i} to connect`,
            );
          }
          // Sessions are spread over the nodes (nginx's round-robin), so the requests of each
          // one reach nodes that do not hold it.
          const owners = new Set<string>();
          for (const { socket } of clients) {
            const ack = (await socket.timeout(10000).emitWithAck("join", room)) as Ack;
            owners.add(ack.node);
          }
          assert.ok(owners.size >= 2, `sessions on ${[...owners].join(", ")} only`);

          await Promise.all(
            clients.map(async ({ socket }, c) => {
              for (let i = 0; i < ACKS_PER_CLIENT; i++) {
                const value = `${c}:${i}`;
                const ack = (await socket.timeout(10000).emitWithAck("echo", value)) as Ack;
                assert.equal(ack.value, value);
              }
            }),
          );

          const sender = clients[0].socket;
          for (let i = 0; i < BROADCASTS; i++) {
            // Not awaited one by one: several packets travel in one polling request.
            void sender.timeout(10000).emitWithAck("to room", room, i);
          }
          await waitUntil(
            () => clients.every(({ received }) => received.length >= BROADCASTS),
            15000,
            "every client to receive every broadcast",
          );
          const expected = Array.from({ length: BROADCASTS }, (_, i) => i);
          for (const [c, { received }] of clients.entries()) {
            assert.deepEqual(received, expected, `client ${c}: lost or reordered packets`);
          }
          if (transports === undefined) {
            await waitUntil(
              () =>
                clients.every(({ socket }) => socket.io.engine?.transport?.name === "websocket"),
              10000,
              "every client to upgrade to WebSocket",
            );
            const ack = (await sender.timeout(10000).emitWithAck("echo", "after")) as Ack;
            assert.equal(ack.value, "after");
          }
          for (const { problems } of clients) assert.deepEqual(problems, []);
        } finally {
          for (const { socket } of clients) socket.close();
        }
        // The disconnections reached the nodes that hold the sessions: a new client counts
        // itself alone.
        const probe = connect(nginx.url, options);
        try {
          const deadline = Date.now() + 10000;
          for (;;) {
            const count = ((await probe.timeout(10000).emitWithAck("count")) as Ack).value;
            if (count === 1) break;
            assert.ok(Date.now() < deadline, `${count} clients still on the nodes`);
            await delay(100);
          }
        } finally {
          probe.close();
        }
        for (const { problems } of clients) {
          assert.ok(
            problems.every((p) => p === "disconnect: io client disconnect"),
            problems.join("\n"),
          );
        }
        assert.doesNotMatch(nginx.errorLog(), /\[(error|crit|alert|emerg)\]/);
      });
    }
  }
});
