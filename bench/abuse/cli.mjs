// Flags of bench/abuse/run.mjs.
import { parseArgs } from "node:util";
import { parseList, parseNumber } from "../lib/cli.mjs";

export const ATTACK_IDS = [
  "slow-readers",
  "fragments",
  "polling-post",
  "namespace",
  "slowloris",
  "idle",
];
export const SERVER_KINDS = [
  "ws:duplexio",
  "ws:ws",
  "sio:duplexio",
  "sio:socket.io",
  "cli:serve",
  "cli:echo",
];

export const USAGE = `Usage: node bench/abuse/run.mjs [options]

Attacks a fresh server process per (attack, server) and prints, per attack, a table: server
memory before / peak / after (abusers gone, two forced GCs), when and how the abuser was cut,
and how a well-behaved client was served meanwhile. Does not build: run
\`npx tsc -p tsconfig.build.json\` first when dist/ may be stale. The full default run takes
about 20 minutes (attack 5 holds its connections 62 s per server); --quick takes about 4.

  --attacks LIST        slow-readers, fragments, polling-post, namespace, slowloris, idle
                        (fragments = fragments-x1 and fragments-x10)          [all]
  --servers LIST        duplexio, ws, socket.io (library names), or server kinds:
                        ws:duplexio, ws:ws, sio:duplexio, sio:socket.io,
                        cli:serve, cli:echo                                   [all]
  --quick               short development run: --duration 3 --slow-clients 50
                        --hold 8 --slowloris-connections 200 --idle-connections 500
                        --post-timeout 8 --fragment-timeout 15 (flags given win)

 1 slow readers (ws:duplexio, ws:ws)
  --slow-clients N      clients that never read                               [200]
  --slow-payload B      bytes sent to each per event-loop turn                [10240]
  --duration S          how long the server sends                             [20]
  --rss-cap MIB         safety stop: the server stops sending above this RSS  [2048]
 2 fragment flood (ws:duplexio, ws:ws)
  --fragments N         one-byte fragments per message                        [100000]
  --fragment-connections LIST  connections at once, one case each             [1,10]
  --fragment-timeout S  wait at most this long for the echo or the close      [30]
 3 oversized polling POST (sio:duplexio, sio:socket.io)
  --post-mib N          Content-Length and body size, MiB                     [100]
  --post-timeout S      give up after                                         [30]
 4 huge namespace name (sio:duplexio, sio:socket.io)
  --namespace-kib N     namespace name size, KiB                              [900]
  --namespace-wait S    watch the connection this long after the answer       [3]
 5 slowloris and idle (all six server kinds)
  --slowloris-connections N                                                   [2000]
  --idle-connections N                                                        [5000]
  --hold S              how long the connections are held                     [62]

  --dist DIR            duplexio build to test; it must find node_modules from
                        there (see README.md)                                 [dist]
  --out FILE            JSON results      [bench/results/abuse-<date>-<time>.json]
  --report FILE         print the tables of an earlier results file, run nothing
  --help                this text
`;

const QUICK = {
  duration: "3",
  "slow-clients": "50",
  hold: "8",
  "slowloris-connections": "200",
  "idle-connections": "500",
  "post-timeout": "8",
  "fragment-timeout": "15",
};

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      attacks: { type: "string" },
      servers: { type: "string" },
      quick: { type: "boolean", default: false },
      "slow-clients": { type: "string" },
      "slow-payload": { type: "string" },
      duration: { type: "string" },
      "rss-cap": { type: "string" },
      fragments: { type: "string" },
      "fragment-connections": { type: "string" },
      "fragment-timeout": { type: "string" },
      "post-mib": { type: "string" },
      "post-timeout": { type: "string" },
      "namespace-kib": { type: "string" },
      "namespace-wait": { type: "string" },
      "slowloris-connections": { type: "string" },
      "idle-connections": { type: "string" },
      hold: { type: "string" },
      dist: { type: "string", default: "dist" },
      out: { type: "string" },
      report: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const v = {
    ...(values.quick ? QUICK : {}),
    ...Object.fromEntries(Object.entries(values).filter(([, x]) => x !== undefined)),
  };
  const num = (name, fallback, min, max, integer = true) =>
    parseNumber(v[name] ?? String(fallback), name, { min, max, integer });
  return {
    help: values.help,
    report: values.report,
    quick: values.quick,
    attacks:
      v.attacks === undefined
        ? ATTACK_IDS
        : parseList(v.attacks, "attacks", (s, name) => {
            if (!ATTACK_IDS.includes(s) && !/^fragments-x\d+$/.test(s))
              throw new Error(`--${name}: unknown attack ${s}`);
            return s;
          }),
    servers:
      v.servers === undefined
        ? SERVER_KINDS
        : [
            ...new Set(
              parseList(v.servers, "servers", (s, name) => {
                if (SERVER_KINDS.includes(s)) return [s];
                const kinds = SERVER_KINDS.filter((k) =>
                  s === "duplexio"
                    ? k.endsWith(":duplexio") || k.startsWith("cli:")
                    : k.endsWith(`:${s}`),
                );
                if (kinds.length === 0) throw new Error(`--${name}: unknown server ${s}`);
                return kinds;
              }).flat(),
            ),
          ],
    slowClients: num("slow-clients", 200, 1, 10_000),
    slowPayload: num("slow-payload", 10_240, 1, 16 * 1024 * 1024),
    durationS: num("duration", 20, 1, 600, false),
    rssCapMiB: num("rss-cap", 2048, 64, 1024 * 1024),
    fragments: num("fragments", 100_000, 2, 10_000_000),
    fragmentConnections: parseList(
      v["fragment-connections"] ?? "1,10",
      "fragment-connections",
      (s, name) => parseNumber(s, name, { min: 1, max: 1000, integer: true }),
    ),
    fragmentTimeoutS: num("fragment-timeout", 30, 1, 600, false),
    postMiB: num("post-mib", 100, 1, 10_240),
    postTimeoutS: num("post-timeout", 30, 1, 600, false),
    namespaceKiB: num("namespace-kib", 900, 1, 100 * 1024),
    namespaceWaitS: num("namespace-wait", 3, 0, 600, false),
    slowlorisConnections: num("slowloris-connections", 2000, 1, 60_000),
    idleConnections: num("idle-connections", 5000, 1, 60_000),
    holdS: num("hold", 62, 1, 3600, false),
    dist: v.dist,
    out: v.out,
  };
}
