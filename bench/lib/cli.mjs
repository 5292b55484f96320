// Command-line flags of bench/echo-matrix.mjs, and list/number/size parsing for every bench.
import { parseArgs } from "node:util";

export const USAGE = `Usage: node bench/echo-matrix.mjs [options]   (npm run bench:echo -- [options])

  --servers LIST      servers to compare, in order (duplexio, ws; repeats allowed,
                      e.g. ws,ws for a fairness check)              [duplexio,ws]
  --deflate LIST      off, on or off,on (permessage-deflate)         [off,on]
  --sizes LIST        payload sizes in bytes; k suffix = KiB         [32,1k,64k]
  --connections N     load connections (0: probe alone, unloaded latency) [100]
  --window M          messages in flight per load connection         [16]
  --inflight-cap B    at most B payload bytes in flight per connection: the window
                      shrinks for big payloads (64k -> 4); 0 = no cap [256k]
  --duration S        measured seconds per run                       [3]
  --warmup S          warm-up seconds per run (not measured)         [1]
  --rounds R          runs per server per cell; the summary shows the best [2]
  --text              send text frames instead of binary
  --pin               pin the server to CPU 0 and the load generator to CPU 1 (taskset)
  --out FILE          JSON results file                   [bench/results/latest.json]
  --help              this text
`;

/**
 * The options of a bench's command line from `parse(argv)`, or null when there is nothing to
 * run: `--help` printed `usage`, or a bad flag printed its error and usage (exit code 2).
 */
export function commandLine(parse, usage) {
  let options;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
    return null;
  }
  if (options.help) {
    console.log(usage);
    return null;
  }
  return options;
}

/** Comma-separated `value`, each item through `parseItem(item, name)`; throws when empty. */
export function parseList(value, name, parseItem) {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new Error(`--${name}: empty list`);
  return items.map((item) => parseItem(item, name));
}

/** Bytes from "32", "1k" or "64KiB" (1 B .. 16 MiB); throws a readable Error otherwise. */
export function parseSize(text, name) {
  const match = /^(\d+)(k|K|kib|KiB)?$/.exec(text);
  if (match === null) throw new Error(`--${name}: not a size: ${text}`);
  const bytes = Number(match[1]) * (match[2] === undefined ? 1 : 1024);
  if (bytes < 1 || bytes > 16 * 1024 * 1024) throw new Error(`--${name}: ${text} out of range`);
  return bytes;
}

/** A number within min..max (an integer when `integer`); throws a readable Error otherwise. */
export function parseNumber(text, name, { min, max, integer }) {
  const value = Number(text);
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new Error(
      `--${name}: expected ${integer ? "an integer" : "a number"} in ${min}..${max}, got ${text}`,
    );
  }
  return value;
}

/** Parsed, validated options; throws an Error with a readable message on bad flags. */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      servers: { type: "string", default: "duplexio,ws" },
      deflate: { type: "string", default: "off,on" },
      sizes: { type: "string", default: "32,1k,64k" },
      connections: { type: "string", default: "100" },
      window: { type: "string", default: "16" },
      "inflight-cap": { type: "string", default: "256k" },
      duration: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      rounds: { type: "string", default: "2" },
      text: { type: "boolean", default: false },
      pin: { type: "boolean", default: false },
      out: { type: "string", default: "bench/results/latest.json" },
      help: { type: "boolean", default: false },
    },
  });
  return {
    help: values.help,
    servers: parseList(values.servers, "servers", (s, name) => {
      if (s !== "duplexio" && s !== "ws") throw new Error(`--${name}: unknown server ${s}`);
      return s;
    }),
    deflate: parseList(values.deflate, "deflate", (s, name) => {
      if (s !== "off" && s !== "on") throw new Error(`--${name}: expected off or on, got ${s}`);
      return s === "on";
    }),
    sizes: parseList(values.sizes, "sizes", parseSize),
    connections: parseNumber(values.connections, "connections", {
      min: 0,
      max: 10_000,
      integer: true,
    }),
    window: parseNumber(values.window, "window", { min: 1, max: 1024, integer: true }),
    inflightCap:
      values["inflight-cap"] === "0" ? 0 : parseSize(values["inflight-cap"], "inflight-cap"),
    durationMs:
      parseNumber(values.duration, "duration", { min: 0.5, max: 600, integer: false }) * 1000,
    warmupMs: parseNumber(values.warmup, "warmup", { min: 0, max: 60, integer: false }) * 1000,
    rounds: parseNumber(values.rounds, "rounds", { min: 1, max: 20, integer: true }),
    text: values.text,
    pin: values.pin,
    out: values.out,
  };
}
