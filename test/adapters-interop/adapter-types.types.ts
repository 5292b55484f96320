/**
 * Type-level test (compiled, never run; see adapter-types.test.ts, and the project's
 * `tsc --noEmit`): what a socket.io user writes to plug an adapter in must type-check with
 * duplexio's `Server` unchanged, for every official adapter factory and for duplexio's own; the
 * adapter's room events have socket.io-adapter's listener types. Each `@ts-expect-error` must
 * find an error, or tsc fails.
 */
import { createAdapter as createOfficialClusterAdapter } from "@socket.io/cluster-adapter";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createOfficialStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { Adapter, SessionAwareAdapter } from "socket.io-adapter";
import { createAdapter as createClusterAdapter } from "../../src/adapters/cluster/index.js";
import {
  createAdapter as createRedisAdapter,
  createShardedAdapter as createShardedRedisAdapter,
  type RedisAdapter,
} from "../../src/adapters/redis/index.js";
import { createAdapter as createStreamsAdapter } from "../../src/adapters/redis-streams/index.js";
import { type Room, Server, type SocketId } from "../../src/index.js";

/** True when A and B are the same type. */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertTrue<T extends true>(): T | undefined {
  return undefined;
}

export async function officialFactories(): Promise<Server[]> {
  const pubClient = createClient({ url: "redis://localhost:6379" });
  const subClient = pubClient.duplicate();
  await Promise.all([pubClient.connect(), subClient.connect()]);
  const ioPub = new Redis();
  const ioSub = ioPub.duplicate();
  return [
    new Server({ adapter: createAdapter(pubClient, subClient) }),
    new Server({ adapter: createAdapter(ioPub, ioSub, { key: "app", requestsTimeout: 3000 }) }),
    new Server({ adapter: createShardedAdapter(pubClient, subClient) }),
    new Server({
      adapter: createShardedAdapter(ioPub, ioSub, { subscriptionMode: "dynamic-private" }),
    }),
    new Server({
      adapter: createOfficialStreamsAdapter(pubClient, { streamName: "app" }),
      connectionStateRecovery: {},
    }),
    new Server({ adapter: createOfficialClusterAdapter() }),
    new Server({ adapter: Adapter }),
    new Server({ adapter: SessionAwareAdapter, connectionStateRecovery: {} }),
    // Attached to a port, and set later with io.adapter(...), as with socket.io.
    new Server(3000, { adapter: createAdapter(pubClient, subClient) }),
    new Server().adapter(createOfficialClusterAdapter({ heartbeatInterval: 1000 })),
  ];
}

export async function duplexioFactories(): Promise<Server[]> {
  const pubClient = createClient({ url: "redis://localhost:6379" });
  const subClient = pubClient.duplicate();
  await Promise.all([pubClient.connect(), subClient.connect()]);
  const ioPub = new Redis();
  return [
    new Server({ adapter: createRedisAdapter(pubClient, subClient) }),
    new Server({ adapter: createRedisAdapter(ioPub, ioPub.duplicate(), { key: "app" }) }),
    new Server({ adapter: createShardedRedisAdapter(pubClient, subClient) }),
    new Server({
      adapter: createStreamsAdapter(pubClient, { maxLen: 1000 }),
      connectionStateRecovery: {},
    }),
    new Server({ adapter: createClusterAdapter({ heartbeatInterval: 1000 }) }),
    new Server().adapter(createRedisAdapter(pubClient, subClient)),
  ];
}

export function mistakes(pubClient: unknown, subClient: unknown): void {
  // @ts-expect-error the package's function itself, not the factory it returns
  new Server({ adapter: createAdapter });
  // @ts-expect-error duplexio's, likewise
  new Server({ adapter: createRedisAdapter });
  // @ts-expect-error an adapter instance instead of its class or factory
  new Server({ adapter: createRedisAdapter(pubClient, subClient)(new Server().of("/")) });
  // @ts-expect-error not an adapter
  new Server({ adapter: "redis" });
}

export function roomEvents(io: Server): void {
  const adapter = io.of("/").adapter;
  adapter.on("join-room", (room, id) => {
    assertTrue<Equals<typeof room, Room>>();
    assertTrue<Equals<typeof id, SocketId>>();
  });
  adapter.on("leave-room", (room, id) => {
    assertTrue<Equals<typeof room, Room>>();
    assertTrue<Equals<typeof id, SocketId>>();
  });
  adapter.on("create-room", (room) => {
    assertTrue<Equals<typeof room, Room>>();
  });
  adapter.once("delete-room", (room) => {
    assertTrue<Equals<typeof room, Room>>();
  });
  // As socket.io users may write it, with annotated parameters (socket.io's adapter is an
  // untyped EventEmitter).
  io.of("/chat").adapter.on("join-room", (room: string, id: string) => {
    console.log(`socket ${id} has joined room ${room}`);
  });
  io.of("/chat").adapter.off("delete-room", (room: string) => console.log(room));
  // @ts-expect-error a room is never a boolean
  adapter.on("join-room", (room: boolean) => console.log(room));
  // @ts-expect-error nor a socket id a number
  adapter.once("leave-room", (room: Room, id: number) => console.log(room, id));
  // duplexio's Redis adapter is one of these adapters (its extras on the instance).
  const redis = adapter as RedisAdapter;
  redis.on("node-gone", (uid: string) => console.log(uid));
  void redis.allRooms().then((rooms) => {
    assertTrue<Equals<typeof rooms.complete, boolean>>();
  });
}
