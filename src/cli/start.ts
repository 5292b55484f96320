import type { IncomingMessage, ServerResponse } from "node:http";
import { formatUrl, startEchoServer } from "./echo-server.js";
import {
  describeListenError,
  onShutdownSignal,
  parseCommandOptions,
  parsePort,
} from "./options.js";
import { START_PAGE } from "./start-page.js";

const USAGE = `Usage: duplexio start [--port 8080] [--host 127.0.0.1]

The demo server: a page at http://HOST:PORT/ that talks to a WebSocket echo endpoint at /echo
with the browser's own WebSocket.
  --port N   TCP port (default 8080, or the PORT environment variable)
  --host H   address to listen on (default 127.0.0.1)`;

function servePage(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  if (req.url !== "/" && req.url !== "/index.html") {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found\n");
    return;
  }
  res.writeHead(200, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": Buffer.byteLength(START_PAGE),
  });
  res.end(req.method === "HEAD" ? undefined : START_PAGE);
}

/** `duplexio start`, what `npm start` runs. */
export async function runStart(argv: string[]): Promise<void> {
  const { values } = parseCommandOptions(
    argv,
    { port: { type: "string" }, host: { type: "string" } },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  const port = parsePort((values.port as string | undefined) ?? process.env.PORT, 8080, USAGE);
  const server = await startEchoServer({
    host,
    port,
    path: "/echo",
    deflate: true,
    maxPayload: 1024 * 1024,
    onRequest: servePage,
  }).catch((error) => {
    throw describeListenError(error, host, port);
  });
  console.log(`duplexio demo: open ${formatUrl("http", host, server.port)} in a browser`);
  console.log(`  WebSocket echo endpoint: ${formatUrl("ws", host, server.port, "/echo")}`);
  onShutdownSignal(server.stop);
}
