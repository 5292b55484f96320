import { formatUrl, startEchoServer } from "./echo-server.js";
import {
  describeListenError,
  onShutdownSignal,
  parseByteCount,
  parseCommandOptions,
  parsePort,
} from "./options.js";

const USAGE = `Usage: duplexio echo [--port 9001] [--host 127.0.0.1] [--deflate] [--max-payload N]

A WebSocket echo server: every message comes back as it was sent (text as text, binary as binary).
  --port N          TCP port (default 9001; 0 picks a free one)
  --host H          address to listen on (default 127.0.0.1)
  --deflate         accept permessage-deflate (RFC 7692)
  --max-payload N   largest message accepted, in bytes (default 104857600)`;

/** `duplexio echo`: prints one line when it listens, closes clients cleanly on SIGINT/SIGTERM. */
export async function runEcho(argv: string[]): Promise<void> {
  const { values } = parseCommandOptions(
    argv,
    {
      port: { type: "string" },
      host: { type: "string" },
      deflate: { type: "boolean" },
      "max-payload": { type: "string" },
    },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  const port = parsePort(values.port as string | undefined, 9001, USAGE);
  const maxPayload = parseByteCount(
    "max-payload",
    values["max-payload"] as string | undefined,
    100 * 1024 * 1024,
    USAGE,
  );
  const deflate = values.deflate === true;
  const server = await startEchoServer({ host, port, deflate, maxPayload }).catch((error) => {
    throw describeListenError(error, host, port);
  });
  // Handlers first: until they exist a signal kills the process outright, and whoever reads the
  // line below may signal at once.
  onShutdownSignal(server.stop);
  console.log(
    `duplexio echo listening on ${formatUrl("ws", host, server.port)}${deflate ? " (permessage-deflate)" : ""}`,
  );
}
