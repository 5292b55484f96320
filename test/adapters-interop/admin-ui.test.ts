/**
 * `@socket.io/admin-ui`'s `instrument(io, { auth: false })` on a duplexio server, driven by an
 * admin client (socket.io-client on "/admin", as the admin UI connects): the initial "config",
 * "all_sockets" (every socket, its namespace, transport and rooms) and "server_stats"; the live
 * "socket_connected", "room_joined", "event_received", "event_sent", "room_left",
 * "socket_disconnected"; and the UI's commands ("join", "leave", "emit", "_disconnect"). The same
 * runs on a socket.io 4.8 server as a control of the test itself.
 *
 * Then two servers sharing Redis (duplexio's Redis adapter; socket.io's on the control): the
 * admin client of one sees and commands the sockets of both.
 *
 * TypeScript: admin-ui's `instrument` declares socket.io's `Server` class as its parameter, so a
 * duplexio server is passed as `instrument(io as never, ...)` (it uses only what both have).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { instrument } from "@socket.io/admin-ui";
import { createAdapter as officialAdapter } from "@socket.io/redis-adapter";
import * as socketIo from "socket.io";
import { createAdapter as duplexioAdapter } from "../../src/adapters/redis/index.js";
import { Server, type ServerOptions } from "../../src/index.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { withTimeout } from "../helpers/timing.js";
import {
  Cleanup,
  type ClientSocket,
  connectSocket,
  eventually,
  type Kind,
  type NodeOptions,
  nextClientEvent,
  openSocket,
  sorted,
} from "./harness.js";
import { nodeRedis } from "./redis-clients.js";

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

/** Every admin event received, in order, by name. */
function record(admin: ClientSocket): Map<string, unknown[][]> {
  const seen = new Map<string, unknown[][]>();
  admin.onAny((event: string, ...args: unknown[]) => {
    if (!seen.has(event)) seen.set(event, []);
    seen.get(event)!.push(args);
  });
  return seen;
}

/** Waits until `seen` has an `event` whose arguments satisfy `match`; returns them. */
async function waitForAdminEvent(
  seen: Map<string, unknown[][]>,
  event: string,
  match: (args: unknown[]) => boolean,
  ms = 5000,
): Promise<unknown[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = seen.get(event)?.find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no admin "${event}" matching within ${ms} ms; got ${JSON.stringify(seen.get(event))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface SerializedSocket {
  id: string;
  nsp: string;
  transport: string;
  rooms: string[];
  handshake: { address: string; headers: Record<string, string> };
}

/**
 * A server of `kind` instrumented by admin-ui (its clients join rooms with "join" and say
 * "hello"), listening on 127.0.0.1; stopped by `cleanup`.
 */
async function startInstrumented(
  cleanup: Cleanup,
  kind: Kind,
  serverId: string,
  options: NodeOptions = {},
): Promise<{ io: Server; url: string }> {
  const http = createServer();
  const io =
    kind === "duplexio"
      ? new Server(http, options as ServerOptions)
      : (new socketIo.Server(
          http,
          options as Partial<socketIo.ServerOptions>,
        ) as unknown as Server);
  cleanup.add(`server ${serverId}`, () =>
    withTimeout(
      new Promise<void>((resolve) => {
        void io.close(() => resolve());
        http.closeAllConnections();
      }),
      5000,
      "closing the server",
    ),
  );
  for (const nsp of [io.of("/"), io.of("/chat")]) {
    nsp.on("connection", (socket) => {
      socket.on("join", (room: string, ack: () => void) => {
        void Promise.resolve(socket.join(room)).then(ack);
      });
      socket.on("hello", (text: string, ack: (reply: string) => void) => {
        socket.emit("welcome", text.toUpperCase());
        ack("ok");
      });
    });
  }
  // admin-ui's types name socket.io's Server: a duplexio server is passed `as never`.
  instrument(io as never, { auth: false, mode: "development", serverId });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { io, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

for (const kind of ["duplexio", "socket.io"] as Kind[]) {
  const label = kind === "socket.io" ? " (control: socket.io)" : "";
  describe(`@socket.io/admin-ui instrumenting a ${kind} server${label}`, () => {
    it("reports sockets, events, rooms and stats, and obeys the UI's commands", async () => {
      const cleanup = new Cleanup();
      try {
        const { io, url } = await startInstrumented(cleanup, kind, "solo");

        const c1 = await connectSocket(url);
        cleanup.add("c1", () => c1.disconnect());
        await withTimeout(
          new Promise((resolve) => c1.emit("join", "r1", resolve)),
          5000,
          "c1 joining r1",
        );
        const c2 = await connectSocket(`${url}/chat`, { transports: ["polling"] });
        cleanup.add("c2", () => c2.disconnect());

        // The admin client: "config", "all_sockets" and "server_stats" come in a row, so every
        // listener is registered before the first is awaited.
        const admin = openSocket(`${url}/admin`, { autoConnect: false });
        cleanup.add("admin", () => admin.disconnect());
        const seen = record(admin);
        const config = nextClientEvent(admin, "config");
        const allSockets = nextClientEvent(admin, "all_sockets");
        const stats = nextClientEvent(admin, "server_stats", 5000);
        admin.connect();
        const [{ supportedFeatures }] = (await config) as [{ supportedFeatures: string[] }];
        assert.deepEqual(sorted(supportedFeatures), [
          "AGGREGATED_EVENTS",
          "ALL_EVENTS",
          "DISCONNECT",
          "EMIT",
          "JOIN",
          "LEAVE",
          "MDISCONNECT",
          "MJOIN",
          "MLEAVE",
        ]);
        const [sockets] = (await allSockets) as [SerializedSocket[]];
        const byId = new Map(sockets.map((s) => [s.id, s]));
        assert.deepEqual(
          sorted(sockets.map((s) => s.nsp)),
          ["/", "/admin", "/chat"],
          JSON.stringify(sockets),
        );
        assert.equal(byId.get(c1.id!)?.nsp, "/");
        assert.equal(byId.get(c1.id!)?.transport, "websocket");
        assert.deepEqual(sorted(byId.get(c1.id!)!.rooms), sorted([c1.id!, "r1"]));
        assert.equal(byId.get(c1.id!)?.handshake.address, "127.0.0.1");
        assert.equal(byId.get(c2.id!)?.nsp, "/chat");
        assert.equal(byId.get(c2.id!)?.transport, "polling");
        assert.deepEqual(byId.get(c2.id!)?.rooms, [c2.id]);
        assert.equal(byId.get(admin.id!)?.nsp, "/admin");
        const [firstStats] = (await stats) as [
          {
            clientsCount: number;
            pollingClientsCount: number;
            namespaces: { name: string; socketsCount: number }[];
            aggregatedEvents: unknown[];
            pid: number;
          },
        ];
        assert.equal(firstStats.clientsCount, 3);
        assert.equal(firstStats.pollingClientsCount, 1);
        assert.equal(firstStats.pid, process.pid);
        assert.deepEqual(sorted(firstStats.namespaces.map((n) => `${n.name}:${n.socketsCount}`)), [
          "/:1",
          "/admin:1",
          "/chat:1",
        ]);

        // Live events of a new client.
        const c3 = await connectSocket(url);
        cleanup.add("c3", () => c3.disconnect());
        const [connected] = (await waitForAdminEvent(
          seen,
          "socket_connected",
          ([s]) => (s as SerializedSocket).id === c3.id,
        )) as [SerializedSocket, string];
        assert.equal(connected.nsp, "/");
        assert.equal(connected.transport, "websocket");
        assert.deepEqual(connected.rooms, [c3.id]);
        await waitForAdminEvent(
          seen,
          "room_joined",
          ([nsp, room, id]) => nsp === "/" && room === c3.id && id === c3.id,
        );
        const welcome = nextClientEvent(c3, "welcome");
        assert.equal(
          await withTimeout(
            new Promise((resolve) => c3.emit("hello", "hi", resolve)),
            5000,
            "hello's ack",
          ),
          "ok",
        );
        assert.deepEqual(await welcome, ["HI"]);
        const [, , received] = await waitForAdminEvent(
          seen,
          "event_received",
          ([nsp, id]) => nsp === "/" && id === c3.id,
        );
        assert.deepEqual(received, ["hello", "hi"]);
        const [, , sent] = await waitForAdminEvent(
          seen,
          "event_sent",
          ([nsp, id]) => nsp === "/" && id === c3.id,
        );
        assert.deepEqual(sent, ["welcome", "HI"]);
        await withTimeout(new Promise((resolve) => c3.emit("join", "r2", resolve)), 5000, "join");
        await waitForAdminEvent(
          seen,
          "room_joined",
          ([nsp, room, id]) => nsp === "/" && room === "r2" && id === c3.id,
        );

        // The UI's commands.
        admin.emit("join", "/", "r9", c1.id);
        await waitForAdminEvent(
          seen,
          "room_joined",
          ([nsp, room, id]) => nsp === "/" && room === "r9" && id === c1.id,
        );
        assert.deepEqual(sorted(io.of("/").adapter.rooms.get("r9") ?? []), [c1.id]);
        admin.emit("join", "/", "everyone");
        await waitForAdminEvent(
          seen,
          "room_joined",
          ([, room, id]) => room === "everyone" && id === c3.id,
        );
        assert.deepEqual(
          sorted(io.of("/").adapter.rooms.get("everyone") ?? []),
          sorted([c1.id, c3.id]),
        );
        admin.emit("leave", "/", "r9", c1.id);
        await waitForAdminEvent(
          seen,
          "room_left",
          ([nsp, room, id]) => nsp === "/" && room === "r9" && id === c1.id,
        );
        assert.equal(io.of("/").adapter.rooms.has("r9"), false);
        const news = nextClientEvent(c1, "news");
        admin.emit("emit", "/", "r1", "news", "extra", 1);
        assert.deepEqual(await news, ["extra", 1]);
        const gone = nextClientEvent(c2, "disconnect");
        const c2Id = c2.id;
        admin.emit("_disconnect", "/chat", false, c2Id);
        assert.equal((await gone)[0], "io server disconnect");
        await waitForAdminEvent(
          seen,
          "socket_disconnected",
          ([nsp, id, reason]) =>
            nsp === "/chat" && id === c2Id && reason === "server namespace disconnect",
        );

        // The stats of the window with c3's traffic.
        const [later] = (await nextClientEvent(admin, "server_stats", 5000)) as [
          { aggregatedEvents: { type: string }[]; clientsCount: number },
        ];
        const types = new Set(
          (seen.get("server_stats") ?? []).flatMap(([s]) =>
            (s as typeof later).aggregatedEvents.map((e) => e.type),
          ),
        );
        for (const type of ["rawConnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"]) {
          assert.ok(types.has(type), `aggregated ${type} in ${[...types].join(", ")}`);
        }
        // c1, c3 and the admin (c2's connection ended with its only namespace).
        assert.equal(later.clientsCount, 3);
      } finally {
        await cleanup.run();
      }
    });

    it("on two servers sharing Redis: one admin client sees and commands both", async () => {
      const cleanup = new Cleanup();
      try {
        const servers: { io: Server; url: string }[] = [];
        for (const name of ["east", "west"]) {
          const pub = await nodeRedis(redis.url);
          cleanup.add("pub", () => pub.close());
          const sub = await nodeRedis(redis.url);
          cleanup.add("sub", () => sub.close());
          const adapter =
            kind === "duplexio"
              ? duplexioAdapter(pub.client, sub.client, {
                  key: `admin-${kind}`,
                  heartbeatInterval: 300,
                  logger: false,
                })
              : officialAdapter(pub.client as never, sub.client as never, { key: `admin-${kind}` });
          servers.push(await startInstrumented(cleanup, kind, name, { adapter }));
        }
        const [east, west] = servers as [(typeof servers)[0], (typeof servers)[0]];
        await eventually(async () => {
          for (const { io } of servers) {
            for (const nsp of ["/", "/admin"]) {
              assert.equal(await io.of(nsp).adapter.serverCount(), 2);
            }
          }
        }, 8000);
        const local = await connectSocket(east.url);
        cleanup.add("local", () => local.disconnect());
        const remote = await connectSocket(west.url);
        cleanup.add("remote", () => remote.disconnect());
        await withTimeout(
          new Promise((resolve) => remote.emit("join", "rx", resolve)),
          5000,
          "join",
        );

        const admin = openSocket(`${east.url}/admin`, { autoConnect: false });
        cleanup.add("admin", () => admin.disconnect());
        const seen = record(admin);
        const allSockets = nextClientEvent(admin, "all_sockets");
        admin.connect();
        const [sockets] = (await allSockets) as [SerializedSocket[]];
        const byId = new Map(sockets.map((socket) => [socket.id, socket]));
        assert.equal(byId.get(local.id!)?.nsp, "/");
        const fromWest = byId.get(remote.id!);
        assert.equal(fromWest?.nsp, "/", JSON.stringify(sockets));
        assert.equal(fromWest?.transport, "websocket");
        assert.deepEqual(sorted(fromWest!.rooms), sorted([remote.id!, "rx"]));

        // A command on east reaches west's socket; west's admin events reach east's admin.
        admin.emit("join", "/", "r-remote", remote.id);
        await waitForAdminEvent(
          seen,
          "room_joined",
          ([nsp, room, id]) => nsp === "/" && room === "r-remote" && id === remote.id,
        );
        assert.deepEqual([...(west.io.of("/").adapter.rooms.get("r-remote") ?? [])], [remote.id]);
        const news = nextClientEvent(remote, "news");
        admin.emit("emit", "/", "rx", "news", "to the west");
        assert.deepEqual(await news, ["to the west"]);
        const welcome = nextClientEvent(remote, "welcome");
        remote.emit("hello", "hi", () => undefined);
        await welcome;
        await waitForAdminEvent(
          seen,
          "event_received",
          ([nsp, id, args]) =>
            nsp === "/" &&
            id === remote.id &&
            JSON.stringify(args) === JSON.stringify(["hello", "hi"]),
        );
        const remoteId = remote.id;
        const gone = nextClientEvent(remote, "disconnect");
        admin.emit("_disconnect", "/", false, remoteId);
        assert.equal((await gone)[0], "io server disconnect");
        await waitForAdminEvent(
          seen,
          "socket_disconnected",
          ([nsp, id]) => nsp === "/" && id === remoteId,
        );
        assert.equal(local.connected, true);
      } finally {
        await cleanup.run();
      }
    });
  });
}
