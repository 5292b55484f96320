// duplexio with Fastify: the Socket.IO server attaches to Fastify's own node:http server, and is
// closed with it. A room chat: clients "join" a room and "say" things heard by that room only.
//
//   npm run build && node examples/fastify/server.mjs
//
// PORT (default 3000) and HOST (default: all interfaces) come from the environment.
import { Server } from "duplexio";
import Fastify from "fastify";

const fastify = Fastify();
const io = new Server(fastify.server);

// Close the realtime connections first, so Fastify's server close isn't held open by them.
fastify.addHook("preClose", (done) => {
  io.disconnectSockets(true);
  done();
});

fastify.get("/", async () => ({ hello: "duplexio + Fastify" }));

fastify.get("/rooms/:room", async (request) => {
  const sockets = await io.in(request.params.room).fetchSockets();
  return { room: request.params.room, members: sockets.map((socket) => socket.id) };
});

io.on("connection", (socket) => {
  console.log(`a user connected: ${socket.id}`);
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack({ joined: room });
  });
  socket.on("say", (room, text) => {
    io.to(room).emit("said", { room, from: socket.id, text });
  });
});

const address = await fastify.listen({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? "::",
});
console.log(`Listening on http://localhost:${new URL(address).port}/`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await fastify.close();
    console.log("closed");
  });
}
