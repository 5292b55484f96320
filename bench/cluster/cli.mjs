// Command-line flags of bench/cluster/run.mjs, and the configurations it knows.
import { parseArgs } from "node:util";
import { parseList, parseNumber, parseSize } from "../lib/cli.mjs";

/**
 * Every configuration: which Socket.IO server, with which adapter package, and whether it needs
 * Redis. "duplexio-*" use duplexio's own adapters (`duplexio/adapters/...`), "socket.io-*" the
 * official ones (@socket.io/redis-adapter, @socket.io/redis-streams-adapter,
 * @socket.io/cluster-adapter). Redis clients are node-redis (the `redis` package) everywhere.
 */
export const CONFIGS = {
  "duplexio-redis": { server: "duplexio", adapter: "redis", redis: true },
  "duplexio-streams": { server: "duplexio", adapter: "streams", redis: true },
  "duplexio-sharded": { server: "duplexio", adapter: "sharded", redis: true },
  "duplexio-cluster": { server: "duplexio", adapter: "cluster", redis: false },
  "socket.io-redis": { server: "socket.io", adapter: "redis", redis: true },
  "socket.io-streams": { server: "socket.io", adapter: "streams", redis: true },
  "socket.io-sharded": { server: "socket.io", adapter: "sharded", redis: true },
  "socket.io-cluster": { server: "socket.io", adapter: "cluster", redis: false },
};

export const USAGE = `Usage: node bench/cluster/run.mjs [options]   (npm run bench:cluster -- [options])

Broadcast across a cluster of Socket.IO servers: duplexio's adapters vs socket.io 4.8's.
Configurations: ${Object.keys(CONFIGS).join(", ")}.

  --scenarios LIST      throughput, restart or both                     [throughput,restart]
  --out FILE            JSON results file           [bench/results/cluster-latest.json]
  --cpu-prof DIR        run every server node (and cluster primary) with node --cpu-prof,
                        profiles written to DIR (one .cpuprofile per process and run)
  --help                this text

 throughput (io.emit from node 1 to every client of every node):
  --configs LIST        configurations, in order
                        [duplexio-redis,duplexio-streams,duplexio-cluster,socket.io-redis]
  --baseline NAME       the configuration every ratio is taken against   [socket.io-redis]
  --rounds R            runs per configuration; rounds alternate the order [3]
  --nodes N             server nodes (processes, or node:cluster workers) [3]
  --clients N           receiving connections, spread round robin        [1000]
  --window W            broadcasts in flight (a new one each time one has
                        reached every receiver)                          [16]
  --size S              payload string length of each broadcast (>= 8)   [64]
  --load-processes P    load generator processes sharing the receivers (raise it when
                        the load cpu% nears 100 on a machine with spare cores) [1]
  --warmup S            warm-up seconds per run (not measured)           [1]
  --duration S          measured seconds per run                         [3]

 restart (Redis stopped and started again during a steady broadcast):
  --restart LIST        configurations (those with Redis); a ":warn" suffix runs that
                        configuration's nodes with node --unhandled-rejections=warn
                        (socket.io's Redis adapter leaves a failed PUBLISH unhandled,
                        which ends the process under Node's default, "throw")
                        [duplexio-redis,duplexio-streams,socket.io-redis,socket.io-redis:warn]
  --restart-rounds R    runs per configuration (the outcome of a Pub/Sub outage depends
                        on which node's client reconnects first: it varies)  [1]
  --rate N              broadcasts per second from node 1                [100]
  --outage S            seconds between Redis's exit and its restart     [3]
  --redis-retry MS      node-redis reconnection: "default" (the library's back-off,
                        50 ms x 2^n up to 2 s, plus up to 200 ms jitter) or a fixed
                        delay in ms (measures the adapters rather than the back-off) [default]
`;

function configName(name, flag) {
  if (!(name in CONFIGS)) throw new Error(`--${flag}: unknown configuration ${name}`);
  return name;
}

/** Parsed, validated options; throws an Error with a readable message on bad flags. */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scenarios: { type: "string", default: "throughput,restart" },
      out: { type: "string", default: "bench/results/cluster-latest.json" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", default: false },
      configs: {
        type: "string",
        default: "duplexio-redis,duplexio-streams,duplexio-cluster,socket.io-redis",
      },
      baseline: { type: "string", default: "socket.io-redis" },
      rounds: { type: "string", default: "3" },
      nodes: { type: "string", default: "3" },
      clients: { type: "string", default: "1000" },
      window: { type: "string", default: "16" },
      size: { type: "string", default: "64" },
      "load-processes": { type: "string", default: "1" },
      warmup: { type: "string", default: "1" },
      duration: { type: "string", default: "3" },
      restart: {
        type: "string",
        default: "duplexio-redis,duplexio-streams,socket.io-redis,socket.io-redis:warn",
      },
      "restart-rounds": { type: "string", default: "1" },
      rate: { type: "string", default: "100" },
      outage: { type: "string", default: "3" },
      "redis-retry": { type: "string", default: "default" },
    },
  });
  const integer = (name, min, max) => parseNumber(values[name], name, { min, max, integer: true });
  const seconds = (name, min, max) =>
    parseNumber(values[name], name, { min, max, integer: false }) * 1000;
  const scenarios = parseList(values.scenarios, "scenarios", (s, name) => {
    if (s !== "throughput" && s !== "restart") throw new Error(`--${name}: unknown scenario ${s}`);
    return s;
  });
  const restart = parseList(values.restart, "restart", (item, flag) => {
    const warn = item.endsWith(":warn");
    const config = configName(warn ? item.slice(0, -":warn".length) : item, flag);
    if (!CONFIGS[config].redis) throw new Error(`--${flag}: ${config} has no Redis to restart`);
    return { label: item, config, nodeArgs: warn ? ["--unhandled-rejections=warn"] : [] };
  });
  const size = parseSize(values.size, "size");
  if (size < 8) throw new Error("--size: at least 8 (the sequence number)");
  const retry = values["redis-retry"];
  const configs = parseList(values.configs, "configs", configName);
  if (new Set(configs).size !== configs.length) throw new Error("--configs: a configuration twice");
  return {
    help: values.help,
    scenarios,
    out: values.out,
    cpuProfDir: values["cpu-prof"] ?? null,
    configs,
    baseline: configName(values.baseline, "baseline"),
    rounds: integer("rounds", 1, 20),
    nodes: integer("nodes", 2, 16),
    clients: integer("clients", 1, 20_000),
    window: integer("window", 1, 1000),
    size,
    loadProcesses: integer("load-processes", 1, 16),
    warmupMs: seconds("warmup", 0, 60),
    durationMs: seconds("duration", 0.5, 600),
    restart,
    restartRounds: integer("restart-rounds", 1, 20),
    rate: integer("rate", 1, 10_000),
    outageMs: seconds("outage", 0, 60),
    redisRetryMs:
      retry === "default"
        ? null
        : parseNumber(retry, "redis-retry", { min: 1, max: 60_000, integer: true }),
  };
}
