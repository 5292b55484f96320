// The browser's own WebSocket API talking to duplexio/websocket, with subprotocol negotiation:
// the page offers ["chat.v2", "chat.v1"] and the server picks the one IT prefers among those
// offered (handleProtocols). Every message goes to every connected page, each in the format of
// the protocol its connection agreed on: JSON objects for chat.v2, plain text lines for chat.v1.
//
//   npm run build && node examples/browser-websocket/server.mjs
//   then open http://localhost:8080/ (and http://localhost:8080/?protocols=chat.v1 next to it)
//
// PORT (default 8080) and HOST (default: all interfaces) come from the environment.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { WebSocketServer } from "duplexio/websocket";

/** The server's order of preference: the first one the client offered wins. */
const SUPPORTED = ["chat.v2", "chat.v1"];

const page = await readFile(new URL("./index.html", import.meta.url));

const server = createServer((req, res) => {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (req.method === "GET" && (path === "/" || path === "/index.html")) {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(page);
    return;
  }
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
  res.end("Not Found");
});

/** The subprotocols a handshake request offers, in the client's order. */
function offered(req) {
  const header = req.headers["sec-websocket-protocol"] ?? "";
  return header
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
}

const wss = new WebSocketServer({
  server,
  path: "/chat",
  // A browser that offered subprotocols fails the connection if none is selected, so a client
  // speaking none of ours is refused with a readable answer instead.
  verifyClient: ({ req }, done) => {
    if (offered(req).some((protocol) => SUPPORTED.includes(protocol))) done(true);
    else done(false, 400, `Offer one of these subprotocols: ${SUPPORTED.join(", ")}`);
  },
  // Our preference decides, not the order the client listed them in.
  handleProtocols: (protocols) => SUPPORTED.find((protocol) => protocols.has(protocol)) ?? false,
});

/** A chat message in the format of `ws`'s protocol. */
function format(ws, message) {
  if (ws.protocol === "chat.v2") return JSON.stringify({ type: "message", ...message });
  return `${message.from}: ${message.text}`;
}

/** What a client sent, read according to its protocol; undefined when malformed. */
function parse(ws, data) {
  const text = data.toString();
  if (ws.protocol === "chat.v1") return text;
  try {
    const message = JSON.parse(text);
    return message?.type === "say" && typeof message.text === "string" ? message.text : undefined;
  } catch {
    return undefined;
  }
}

let nextId = 1;
wss.on("connection", (ws) => {
  const name = `user${nextId++}`;
  console.log(`${name} connected with ${ws.protocol}`);
  ws.send(
    ws.protocol === "chat.v2"
      ? JSON.stringify({ type: "welcome", you: name, protocol: ws.protocol })
      : `welcome ${name} (${ws.protocol})`,
  );
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? undefined : parse(ws, data);
    if (text === undefined) {
      ws.close(1003, "unsupported message");
      return;
    }
    const message = { from: name, text, at: new Date().toISOString() };
    console.log(`${name} (${ws.protocol}): ${text}`);
    for (const client of wss.clients) {
      if (client.readyState === client.OPEN) client.send(format(client, message));
    }
  });
  ws.on("close", (code) => {
    console.log(`${name} left (${code})`);
  });
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST, () => {
  console.log(`Listening on http://localhost:${server.address().port}/`);
});
