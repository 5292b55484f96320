// Command-line flags of bench/socketio/run.mjs.
import { parseArgs } from "node:util";
import { parseList, parseNumber, parseSize } from "../lib/cli.mjs";

export const USAGE = `Usage: node bench/socketio/run.mjs [options]   (npm run bench:socketio -- [options])

  --servers LIST        servers to compare, in order (duplexio, socket.io; repeats allowed,
                        e.g. socket.io,socket.io for a fairness check)  [duplexio,socket.io]
  --scenarios LIST      echo, broadcast or both                        [echo,broadcast]
  --duration S          measured seconds per run (broadcast: no burst starts
                        after it)                                       [3]
  --rounds R            runs per server per cell; the summary shows the best [2]
  --pin                 pin the server to CPU 0 and the load generator to CPU 1 (taskset)
  --out FILE            JSON results file          [bench/results/socketio-latest.json]
  --help                this text

 echo (event with ack):
  --sizes LIST          payload string lengths; k suffix = KiB          [32,1k]
  --connections N       load connections (0: probe alone)               [100]
  --window M            echo packets in flight per connection (<= 899)  [16]
  --warmup S            warm-up seconds per run (not measured)          [1]

 broadcast (io.emit to every client):
  --clients N           receiving connections                           [1000]
  --broadcasts M        at most M measured broadcasts                   [5000]
  --warmup-bursts K     bursts before the measured ones                 [5]
  --burst B             broadcasts per burst (next burst once all arrived) [10]
  --broadcast-size S    payload string length of each tick              [32]
`;

/** Parsed, validated options; throws an Error with a readable message on bad flags. */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      servers: { type: "string", default: "duplexio,socket.io" },
      scenarios: { type: "string", default: "echo,broadcast" },
      rounds: { type: "string", default: "2" },
      pin: { type: "boolean", default: false },
      out: { type: "string", default: "bench/results/socketio-latest.json" },
      help: { type: "boolean", default: false },
      sizes: { type: "string", default: "32,1k" },
      connections: { type: "string", default: "100" },
      window: { type: "string", default: "16" },
      duration: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      clients: { type: "string", default: "1000" },
      broadcasts: { type: "string", default: "5000" },
      "warmup-bursts": { type: "string", default: "5" },
      burst: { type: "string", default: "10" },
      "broadcast-size": { type: "string", default: "32" },
    },
  });
  const integer = (name, min, max) => parseNumber(values[name], name, { min, max, integer: true });
  const seconds = (name, min, max) =>
    parseNumber(values[name], name, { min, max, integer: false }) * 1000;
  return {
    help: values.help,
    servers: parseList(values.servers, "servers", (s, name) => {
      if (s !== "duplexio" && s !== "socket.io") throw new Error(`--${name}: unknown server ${s}`);
      return s;
    }),
    scenarios: parseList(values.scenarios, "scenarios", (s, name) => {
      if (s !== "echo" && s !== "broadcast") throw new Error(`--${name}: unknown scenario ${s}`);
      return s;
    }),
    rounds: integer("rounds", 1, 20),
    pin: values.pin,
    out: values.out,
    sizes: parseList(values.sizes, "sizes", parseSize),
    connections: integer("connections", 0, 10_000),
    // Load ack ids run from 100 to 100 + window - 1: three digits, one ack length to check.
    window: integer("window", 1, 899),
    durationMs: seconds("duration", 0.5, 600),
    warmupMs: seconds("warmup", 0, 60),
    clients: integer("clients", 1, 10_000),
    broadcasts: integer("broadcasts", 1, 100_000),
    warmupBursts: integer("warmup-bursts", 0, 1000),
    burst: integer("burst", 1, 1000),
    broadcastSize: parseSize(values["broadcast-size"], "broadcast-size"),
  };
}
