// One duplexio node of the nginx example: a Socket.IO server sharing rooms and sessions with the
// other nodes through Redis (the Redis Streams adapter), so that a request may land on any node.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3001 NODE_NAME=a node examples/nginx/node.mjs
//
// Events: "join" (room, ack), "echo" (value, ack), "to room" (room, value, ack: the room gets
// "message" with value), "count" (ack: the clients of all nodes), and every ack also says which
// node answered.
import { createServer } from "node:http";
import { Server } from "duplexio";
import { createAdapter } from "duplexio/adapters/redis-streams";
import { createClient } from "redis";

const name = process.env.NODE_NAME ?? String(process.pid);
const redis = createClient({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
redis.on("error", (error) => console.error(`redis: ${error.message}`));
await redis.connect();

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(redis),
  connectionStateRecovery: {},
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(String(room));
    if (typeof ack === "function") ack({ node: name });
  });
  socket.on("echo", (value, ack) => {
    if (typeof ack === "function") ack({ node: name, value });
  });
  socket.on("count", async (ack) => {
    const sockets = await io.fetchSockets();
    if (typeof ack === "function") ack({ node: name, value: sockets.length });
  });
  socket.on("to room", (room, value, ack) => {
    io.to(String(room)).emit("message", value);
    if (typeof ack === "function") ack({ node: name });
  });
});

const stop = () => {
  io.close().then(() => redis.destroy());
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

httpServer.listen(Number(process.env.PORT ?? 3001), process.env.HOST ?? "127.0.0.1", () => {
  console.log(`Listening on http://localhost:${httpServer.address().port}/ (node ${name})`);
});
