// duplexio with Express, as the socket.io docs attach it: one node:http server runs the Express
// app and the Socket.IO server. A chat: every "chat message" goes to every connected client.
//
//   npm run build && node examples/express/server.mjs
//
// PORT (default 3000) and HOST (default: all interfaces) come from the environment.
import { createServer } from "node:http";
import { Server } from "duplexio";
import express from "express";

const app = express();
const server = createServer(app);
const io = new Server(server);

app.get("/", (_req, res) => {
  res.send("<h1>duplexio + Express</h1>");
});

app.get("/api/status", (_req, res) => {
  res.json({ ok: true, clients: io.engine.clientsCount });
});

io.on("connection", (socket) => {
  console.log(`a user connected: ${socket.id}`);
  socket.on("chat message", (message, ack) => {
    io.emit("chat message", message);
    if (typeof ack === "function") ack("delivered");
  });
  socket.on("disconnect", (reason) => {
    console.log(`user disconnected: ${socket.id} (${reason})`);
  });
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST, () => {
  console.log(`Listening on http://localhost:${server.address().port}/`);
});
