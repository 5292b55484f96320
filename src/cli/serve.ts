import { startDemoServer } from "../demo/server.js";
import { CliError } from "./errors.js";
import {
  describeListenError,
  onShutdownSignal,
  parseCommandOptions,
  parsePort,
} from "./options.js";

const USAGE = `Usage: duplexio serve [--port 8080] [--host 127.0.0.1] [--tick-interval MS] [--redis URL]

The demo: a chat at http://HOST:PORT/ (rooms, acknowledgements, typing, reconnection with
recovery, a plain WebSocket panel), a live dashboard at /dashboard and Prometheus metrics at
/metrics, all on one HTTP server in one process.
  --port N             TCP port (default 8080, or the PORT environment variable; 0 picks one)
  --host H             address to listen on (default 127.0.0.1)
  --tick-interval MS   milliseconds between the server's clock ticks (default 5000, or the
                       DUPLEXIO_TICK_INTERVAL_MS environment variable)
  --redis URL          share the chat with the other servers using this Redis (redis://host:port,
                       or the REDIS_URL environment variable): rooms, presence, messages and
                       recovered sessions span them all, and each dashboard lists them`;

/** A whole number of milliseconds, at least 1. */
function parseInterval(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Number(value);
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 2_147_483_647) {
    throw new CliError(`invalid ${name} "${value}": expected a whole number of milliseconds`);
  }
  return ms;
}

/**
 * `duplexio serve`: starts the demo server, prints its addresses, and shuts it down gracefully
 * (clients told, queues flushed) on SIGINT or SIGTERM.
 */
export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseCommandOptions(
    argv,
    {
      port: { type: "string" },
      host: { type: "string" },
      "tick-interval": { type: "string" },
      redis: { type: "string" },
    },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  const port = parsePort((values.port as string | undefined) ?? process.env.PORT, 8080);
  const tickIntervalMs = parseInterval(
    "tick interval",
    (values["tick-interval"] as string | undefined) ?? process.env.DUPLEXIO_TICK_INTERVAL_MS,
    5000,
  );
  const redisUrl = (values.redis as string | undefined) ?? process.env.REDIS_URL;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new CliError(`invalid Redis URL "${redisUrl}": expected redis://host:port`);
  }
  const server = await startDemoServer({
    host,
    port,
    tickIntervalMs,
    ...(redisUrl === undefined ? {} : { redisUrl }),
  }).catch((error) => {
    if (error instanceof Error && error.message.startsWith("cannot reach Redis")) {
      throw new CliError(error.message);
    }
    throw describeListenError(error, host, port);
  });
  // Handlers first: until they exist a signal kills the process outright, and whoever reads the
  // lines below may signal at once.
  onShutdownSignal(server.stop);
  console.log(`duplexio demo: open ${server.url} in a browser`);
  console.log(`  dashboard:  ${server.url}dashboard`);
  console.log(`  metrics:    ${server.url}metrics`);
  console.log(`  WebSocket:  ${server.url.replace(/^http/, "ws")}ws (subprotocol chat.v1)`);
  if (redisUrl !== undefined)
    console.log(`  cluster:    sharing the chat through Redis at ${redisUrl}`);
}
