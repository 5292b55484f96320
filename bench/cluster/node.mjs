// One server node of the cluster bench, alone in its process:
//   node bench/cluster/node.mjs '<JSON { name, server, adapter, redisUrl, redisRetryMs }>'
// started by run.mjs (fork) or, for the node:cluster adapters, as a worker of
// cluster-primary.mjs. Both servers get the same options and the very same handler as
// bench/socketio/server.mjs: `socket.on("broadcast", (data) => io.emit("tick", data))`.
//
// IPC (to the parent: run.mjs, or the cluster primary, which relays): { type: "listening",
// name, port, pid } once bound to 127.0.0.1; { type: "count", id } is answered with the clients
// connected and the broadcasts handled; exit on { type: "stop" } or when the parent goes away.
// Its adapter's log lines (Redis lost and back) go to stdout/stderr, which run.mjs keeps and
// shows only when a run fails.
import cluster from "node:cluster";
import { createServer } from "node:http";

const config = JSON.parse(process.argv[2]);
const { server: implementation, adapter: adapterKind } = config;

function send(message) {
  if (process.connected) process.send?.(message);
}

function fail(error) {
  const message = error instanceof Error ? error.message : String(error);
  if (!process.connected) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: "error", message: `node ${config.name}: ${message}` }, () =>
    process.exit(1),
  );
}

process.on("disconnect", () => process.exit(0));

/** A connected node-redis client; errors (Redis going away) are the adapter's business. */
async function redisClient() {
  const { createClient } = await import("redis");
  const client = createClient({
    url: config.redisUrl,
    // null: node-redis's own default back-off (what users get); a number: a fixed retry delay.
    ...(config.redisRetryMs === null
      ? {}
      : { socket: { reconnectStrategy: () => config.redisRetryMs } }),
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function pubSubPair() {
  const pub = await redisClient();
  const sub = pub.duplicate();
  sub.on("error", () => {});
  await sub.connect();
  return [pub, sub];
}

/** The adapter factory of this configuration, created as each package's README shows. */
async function makeAdapter() {
  const duplexio = implementation === "duplexio";
  switch (adapterKind) {
    case "redis": {
      const { createAdapter } = duplexio
        ? await import("duplexio/adapters/redis")
        : await import("@socket.io/redis-adapter");
      const [pub, sub] = await pubSubPair();
      return createAdapter(pub, sub);
    }
    case "sharded": {
      const { createShardedAdapter } = duplexio
        ? await import("duplexio/adapters/redis")
        : await import("@socket.io/redis-adapter");
      const [pub, sub] = await pubSubPair();
      return createShardedAdapter(pub, sub);
    }
    case "streams": {
      const { createAdapter } = duplexio
        ? await import("duplexio/adapters/redis-streams")
        : await import("@socket.io/redis-streams-adapter");
      return createAdapter(await redisClient());
    }
    case "cluster": {
      if (!cluster.isWorker) throw new Error("the cluster adapter runs in a node:cluster worker");
      const { createAdapter } = duplexio
        ? await import("duplexio/adapters/cluster")
        : await import("@socket.io/cluster-adapter");
      return createAdapter();
    }
    default:
      throw new Error(`unknown adapter ${adapterKind}`);
  }
}

async function loadServerClass() {
  if (implementation === "socket.io") return (await import("socket.io")).Server;
  if (implementation === "duplexio") return (await import("duplexio")).Server;
  throw new Error(`unknown server implementation ${implementation}`);
}

async function main() {
  let Server;
  try {
    Server = await loadServerClass();
  } catch (error) {
    throw new Error(
      `cannot load ${implementation}: ${error.message}` +
        (implementation === "duplexio" ? " (run npx tsc -p tsconfig.build.json)" : ""),
    );
  }
  const adapter = await makeAdapter();
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ["websocket"], adapter });

  let broadcasts = 0;
  io.on("connection", (socket) => {
    socket.on("broadcast", (data) => {
      broadcasts++;
      io.emit("tick", data);
    });
  });

  process.on("message", (message) => {
    if (message?.type === "count") {
      send({
        type: "count",
        id: message.id,
        name: config.name,
        pid: process.pid,
        clients: io.engine.clientsCount,
        broadcasts,
      });
    } else if (message?.type === "stop") {
      process.exit(0);
    }
  });

  httpServer.on("error", fail);
  // Workers of node:cluster all listen on the primary's one port (port 0 in a worker: the
  // same random port for every worker).
  httpServer.listen(0, "127.0.0.1", () => {
    send({
      type: "listening",
      name: config.name,
      port: httpServer.address().port,
      pid: process.pid,
    });
  });
}

main().catch(fail);
