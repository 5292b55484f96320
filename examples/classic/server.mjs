// The classic socket.io example as an ES module, with the Server class: an HTTP page at "/" and a
// Socket.IO server on the same port that prints what clients send() and send()s to each client
// every few seconds.
//
//   npm run build && node examples/classic/server.mjs
//
// PORT (default 8080), HOST (default: all interfaces) and MESSAGE_INTERVAL_MS (default 5000) come
// from the environment so the example's test can run it on a free port without waiting 5 s.
import { createServer } from "node:http";
import { Server } from "duplexio";

const port = Number(process.env.PORT ?? 8080);
const intervalMs = Number(process.env.MESSAGE_INTERVAL_MS ?? 5000);

const server = createServer((_req, res) => {
  res.writeHead(200, { "Content-Type": "text/html" });
  res.end("<h1>Hello Socket Lover!</h1>");
});

const io = new Server(server);
io.on("connection", (client) => {
  client.on("message", (event) => {
    console.log("Received message from client!", event);
  });
  const interval = setInterval(() => {
    client.send(`This is a message from the server! ${Date.now()}`);
  }, intervalMs);
  client.on("disconnect", () => {
    clearInterval(interval);
  });
});

server.listen(port, process.env.HOST, () => {
  console.log(`Listening on http://localhost:${server.address().port}/`);
});
