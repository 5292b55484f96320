// Polling-only clients through nginx, 3 duplexio nodes on one Redis (examples/nginx): plain
// round-robin, where most requests reach a node that does not hold their session and are
// forwarded to the owner through Redis, against the same set-up with stickiness, where every
// request reaches its owner. Forwarding's cost as a ratio, side by side in one run.
//
//   npm run build && node --import tsx bench/nosticky/polling.mjs [--clients 30] [--duration 5]
//
// Runs through tsx because it reuses the test helpers that start redis-server
// (test/helpers/redis.ts), the example's nodes (test/examples/example-process.ts) and nginx with
// the example's configuration (test/examples/nginx.ts). See README.md.
import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { io } from "../../dist/client/node.js";
import { startExample } from "../../test/examples/example-process.ts";
import { startNginx } from "../../test/examples/nginx.ts";
import { startRedis } from "../../test/helpers/redis.ts";
import { percentile } from "../lib/stats.mjs";

const USAGE = `Usage: node --import tsx bench/nosticky/polling.mjs [options]
  --clients N     loaded run: polling-only clients, each with one ack in flight   [30]
  --duration S    measured seconds per run                                        [5]
  --warmup S      seconds before measuring (not counted)                          [1]
  --rounds R      runs per set-up per load, alternating; the best is shown        [2]
  --size B        bytes of each echoed string                                     [64]`;

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "30" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    rounds: { type: "string", default: "2" },
    size: { type: "string", default: "64" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const CLIENTS = Number(values.clients);
const DURATION_MS = Number(values.duration) * 1000;
const WARMUP_MS = Number(values.warmup) * 1000;
const ROUNDS = Number(values.rounds);
const SIZE = Number(values.size);
for (const [name, n, max] of [
  ["clients", CLIENTS, 250],
  ["duration", DURATION_MS, 60_000],
  ["rounds", ROUNDS, 10],
  ["size", SIZE, 100_000],
]) {
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    console.error(`--${name}: expected 1..${max}\n${USAGE}`);
    process.exit(2);
  }
}

/** Stickiness by client address (ip_hash would hash 127.0.0.x alike: only 3 octets count). */
const STICKY = "hash $remote_addr consistent;";
const SETUPS = [
  { name: "round-robin (forwarding)", balance: undefined },
  { name: "sticky (hash $remote_addr)", balance: STICKY },
];

/** Client i's own source address, 127.0.1.1 upwards: the sticky set-up tells clients apart by it. */
function localAddress(i) {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

function connect(url, i) {
  const agent = new Agent({ keepAlive: true, localAddress: localAddress(i) });
  const socket = io(url, { forceNew: true, transports: ["polling"], reconnection: false, agent });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${i}: no connect in 10 s`)), 10_000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve({ socket, agent });
    });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * `clients` clients, each with one "echo" ack in flight, for warm-up + duration: acks per second
 * and round-trip percentiles of the measured window. Every ack is checked.
 */
async function measure(url, clients) {
  const sockets = [];
  try {
    for (let i = 0; i < clients; i++) sockets.push(await connect(url, i));
    const payload = "x".repeat(SIZE);
    const start = performance.now();
    const measureFrom = start + WARMUP_MS;
    const end = measureFrom + DURATION_MS;
    const samples = [];
    let failures = 0;
    await Promise.all(
      sockets.map(async ({ socket }) => {
        while (performance.now() < end) {
          const sent = performance.now();
          const answer = await socket.timeout(10_000).emitWithAck("echo", payload);
          const now = performance.now();
          if (answer?.value !== payload) failures++;
          if (sent >= measureFrom && now <= end) samples.push(now - sent);
        }
      }),
    );
    if (failures > 0) throw new Error(`${failures} acks did not echo the payload`);
    samples.sort((a, b) => a - b);
    return {
      perSecond: samples.length / (DURATION_MS / 1000),
      p50: percentile(samples, 0.5),
      p99: percentile(samples, 0.99),
    };
  } finally {
    for (const { socket, agent } of sockets) {
      socket.close();
      agent.destroy();
    }
  }
}

const fixed = (n, digits) => (n === null ? "-" : n.toFixed(digits));

const redis = await startRedis();
const nodes = [];
try {
  for (const name of ["a", "b", "c"]) {
    nodes.push(
      await startExample("examples/nginx/node.mjs", { REDIS_URL: redis.url, NODE_NAME: name }),
    );
  }
  const upstreams = nodes.map((node) => Number(new URL(node.url).port));
  const loads = [
    { label: "1 client (unloaded)", clients: 1 },
    { label: `${CLIENTS} clients`, clients: CLIENTS },
  ];
  const best = new Map();
  for (const load of loads) {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating, so that drift (other processes, the CPU's clock) hits both set-ups alike.
      const order = round % 2 === 0 ? SETUPS : [...SETUPS].reverse();
      for (const setup of order) {
        const nginx = await startNginx({ upstreams, balance: setup.balance });
        try {
          const result = await measure(nginx.url, load.clients);
          console.log(
            `${load.label}, ${setup.name}, round ${round + 1}: ${fixed(result.perSecond, 0)} acks/s, p50 ${fixed(result.p50, 2)} ms, p99 ${fixed(result.p99, 2)} ms`,
          );
          const key = `${load.label}|${setup.name}`;
          const previous = best.get(key);
          if (previous === undefined || result.perSecond > previous.perSecond)
            best.set(key, result);
        } finally {
          await nginx.stop();
        }
      }
    }
  }
  console.log(
    `\nPolling-only clients, nginx in front of 3 nodes on one Redis, ${SIZE}-byte echo with ack, one in flight per client, best of ${ROUNDS}, ${DURATION_MS / 1000} s each\n`,
  );
  console.log("| load | set-up | acks/s | p50 ms | p99 ms |");
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const load of loads) {
    const rr = best.get(`${load.label}|${SETUPS[0].name}`);
    const sticky = best.get(`${load.label}|${SETUPS[1].name}`);
    for (const [setup, r] of [
      [SETUPS[0].name, rr],
      [SETUPS[1].name, sticky],
    ]) {
      console.log(
        `| ${load.label} | ${setup} | ${fixed(r.perSecond, 0)} | ${fixed(r.p50, 2)} | ${fixed(r.p99, 2)} |`,
      );
    }
    console.log(
      `| ${load.label} | round-robin / sticky | ${fixed(rr.perSecond / sticky.perSecond, 2)}x | ${fixed(rr.p50 / sticky.p50, 2)}x | ${fixed(rr.p99 / sticky.p99, 2)}x |`,
    );
  }
  const unloaded = loads[0].label;
  const added =
    best.get(`${unloaded}|${SETUPS[0].name}`).p50 - best.get(`${unloaded}|${SETUPS[1].name}`).p50;
  console.log(
    `\nForwarding latency (unloaded p50, round-robin minus sticky): ${fixed(added, 2)} ms`,
  );
} finally {
  await Promise.all(nodes.map((node) => node.stop()));
  await redis.stop();
}
