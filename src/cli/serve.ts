import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { createAdapter } from "../adapters/cluster/index.js";
import { DemoRedisError } from "../demo/cluster.js";
import { type DemoServer, type DemoServerOptions, startDemoServer } from "../demo/server.js";
import { runWorkers } from "../workers/index.js";
import { CliError } from "./errors.js";
import {
  describeListenError,
  onShutdownSignal,
  parseCommandOptions,
  parsePort,
} from "./options.js";

const USAGE = `Usage: duplexio serve [--port 8080] [--host 127.0.0.1] [--workers N] [--tick-interval MS] [--redis URL]

The demo: a chat at http://HOST:PORT/ (rooms, acknowledgements, typing, reconnection with
recovery, a plain WebSocket panel), a live dashboard at /dashboard and Prometheus metrics at
/metrics, all on one HTTP server.
  --port N             TCP port (default 8080, or the PORT environment variable; 0 picks one)
  --host H             address to listen on (default 127.0.0.1)
  --workers N          worker processes serving the port together (default 1: this process);
                       "auto" is one per CPU core. They share rooms, broadcasts and sessions
                       through the cluster adapter (no Redis), any of them serves any request;
                       one that dies is restarted
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

/** `--workers`: a whole number from 1 to 1024, or "auto" (one per core). */
function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === "auto") return availableParallelism();
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 1 || n > 1024) {
    throw new CliError(`invalid worker count "${value}": expected 1 to 1024, or auto`, 2);
  }
  return n;
}

/** Prints where the demo is (the URL ends in the port, which the tests read). */
function printAddresses(url: string, redisUrl: string | undefined, workers: number): void {
  console.log(`duplexio demo: open ${url} in a browser`);
  console.log(`  dashboard:  ${url}dashboard`);
  console.log(`  metrics:    ${url}metrics`);
  console.log(`  WebSocket:  ${url.replace(/^http/, "ws")}ws (subprotocol chat.v1)`);
  if (workers > 1) {
    const through = redisUrl === undefined ? "the cluster adapter" : `Redis at ${redisUrl}`;
    console.log(
      `  workers:    ${workers} processes on one port, sharing the chat through ${through}`,
    );
  }
  if (redisUrl !== undefined)
    console.log(`  cluster:    sharing the chat through Redis at ${redisUrl}`);
}

/** Starts the demo server, turning start-up errors into one-line messages. */
async function startServer(options: DemoServerOptions, host: string, port: number) {
  return startDemoServer(options).catch((error): DemoServer => {
    if (error instanceof DemoRedisError) {
      throw new CliError(error.message);
    }
    throw describeListenError(error, host, port);
  });
}

/**
 * `duplexio serve`: starts the demo server, prints its addresses, and shuts it down gracefully
 * (clients told, queues flushed) on SIGINT or SIGTERM. With `--workers N` (N > 1) this process is
 * the primary of N workers (see `duplexio/workers`), each running the demo with the cluster
 * adapter (or the Redis one with `--redis`); cluster starts each worker with the same command.
 */
export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseCommandOptions(
    argv,
    {
      port: { type: "string" },
      host: { type: "string" },
      workers: { type: "string" },
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
  const workers = parseWorkers(values.workers as string | undefined);
  const options: DemoServerOptions = {
    host,
    port,
    tickIntervalMs,
    ...(redisUrl === undefined ? {} : { redisUrl }),
  };
  if (workers === 1 && cluster.isPrimary) {
    const server = await startServer(options, host, port);
    // Handlers first: until they exist a signal kills the process outright, and whoever reads the
    // lines below may signal at once.
    onShutdownSignal(server.stop);
    printAddresses(server.url, redisUrl, 1);
    return;
  }
  const primary = runWorkers(
    async () => {
      const adapter = redisUrl === undefined ? { adapter: createAdapter() } : {};
      const server = await startServer({ ...options, ...adapter }, host, port);
      // SIGTERM comes from the primary (a Ctrl-C reaches it too, and it passes it on as SIGTERM).
      onShutdownSignal(server.stop, ["SIGTERM"]);
    },
    { workers },
  );
  if (primary === undefined) return;
  // The addresses once every worker listens: a client connecting earlier would find only the
  // workers already up (cluster hands connections to the listening ones).
  let listening = 0;
  const onListening = (_worker: unknown, address: { port: number }): void => {
    if (++listening < workers) return;
    cluster.off("listening", onListening);
    const urlHost = host.includes(":") ? `[${host}]` : host;
    printAddresses(`http://${urlHost}:${address.port}/`, redisUrl, workers);
  };
  cluster.on("listening", onListening);
  await primary.stopped.then(
    () => process.exit(0),
    (error: Error) => {
      throw new CliError(error.message, 1);
    },
  );
}
