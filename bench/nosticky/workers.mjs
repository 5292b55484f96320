// `--workers 2` against one process on this machine: raw WebSocket echo and Socket.IO echo with
// acks, msgs/s and p99, side by side in one run. The servers are bench/nosticky/workers-server.mjs
// (one process, or runWorkers with N workers on one port); the load generators are the ones of
// `npm run bench` (bench/load-generator.mjs) and `npm run bench:socketio`
// (bench/socketio/load-generator.mjs), driven through bench/lib/processes.mjs.
//
//   npm run build && node bench/nosticky/workers.mjs [--workers 2]
//
// See README.md.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runMeasured } from "../lib/processes.mjs";
import { fixed, grouped } from "../lib/report.mjs";

const USAGE = `Usage: node bench/nosticky/workers.mjs [options]
  --workers N       workers of the cluster set-up, against one process        [2]
  --connections N   load connections                                           [100]
  --window M        messages in flight per connection                          [16]
  --size B          payload bytes                                              [32]
  --duration S      measured seconds per run                                   [3]
  --warmup S        warm-up seconds per run                                    [1]
  --rounds R        runs per set-up and kind, alternating; the best is shown   [2]`;

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "2" },
    connections: { type: "string", default: "100" },
    window: { type: "string", default: "16" },
    size: { type: "string", default: "32" },
    duration: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    rounds: { type: "string", default: "2" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const options = Object.fromEntries(
  ["workers", "connections", "window", "size", "duration", "warmup", "rounds"].map((name) => [
    name,
    Number(values[name]),
  ]),
);
for (const [name, max] of [
  ["workers", 64],
  ["connections", 1000],
  ["window", 256],
  ["size", 65536],
  ["duration", 60],
  ["warmup", 60],
  ["rounds", 10],
]) {
  if (!Number.isSafeInteger(options[name]) || options[name] < 1 || options[name] > max) {
    console.error(`--${name}: expected 1..${max}\n${USAGE}`);
    process.exit(2);
  }
}

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const SERVER = here("./workers-server.mjs");
const KINDS = {
  raw: {
    title: "raw WebSocket echo",
    loadModule: here("../load-generator.mjs"),
    config: { deflate: false, text: false },
  },
  socketio: {
    title: "Socket.IO echo with ack",
    loadModule: here("../socketio/load-generator.mjs"),
    config: { scenario: "echo" },
  },
};
const SETUPS = [
  { name: "one process", workers: 0 },
  { name: `--workers ${options.workers}`, workers: options.workers },
];

const best = new Map();
for (const [kind, spec] of Object.entries(KINDS)) {
  for (let round = 0; round < options.rounds; round++) {
    // Alternating, so that drift hits both set-ups alike.
    const order = round % 2 === 0 ? SETUPS : [...SETUPS].reverse();
    for (const setup of order) {
      const measured = await runMeasured({
        server: {
          kind: "workers",
          module: SERVER,
          args: [kind, String(setup.workers)],
          ownCpu: true,
        },
        loadModule: spec.loadModule,
        loadConfig: {
          ...spec.config,
          host: "127.0.0.1",
          connections: options.connections,
          window: options.window,
          size: options.size,
          warmupMs: options.warmup * 1000,
          durationMs: options.duration * 1000,
        },
        label: `${kind} ${setup.name}`,
        pin: false,
        deadlineMs: (options.warmup + options.duration) * 1000 + 60_000,
      });
      const { result, server } = measured;
      if (result.protocolErrors > 0 || result.droppedConnections > 0) {
        throw new Error(`${kind} ${setup.name}: ${result.firstError ?? "errors during the run"}`);
      }
      console.log(
        `${spec.title}, ${setup.name}, round ${round + 1}: ${grouped(Math.round(result.messagesPerSec))} msgs/s, p99 ${fixed(result.latencyMs.p99, 2)} ms, server CPU ${fixed(server.cpuPercent, 0)}%, load generator CPU ${fixed(result.loadCpuPercent, 0)}%`,
      );
      const key = `${kind}|${setup.name}`;
      const previous = best.get(key);
      if (previous === undefined || result.messagesPerSec > previous.result.messagesPerSec) {
        best.set(key, measured);
      }
    }
  }
}

console.log(
  `\n${options.connections} connections x ${options.window} in flight, ${options.size}-byte payloads, best of ${options.rounds} x ${options.duration} s; one load generator process\n`,
);
console.log("| echo | set-up | msgs/s | p99 ms |");
console.log("| --- | --- | ---: | ---: |");
for (const [kind, spec] of Object.entries(KINDS)) {
  const rows = SETUPS.map((setup) => best.get(`${kind}|${setup.name}`));
  for (const [i, { result }] of rows.entries()) {
    console.log(
      `| ${spec.title} | ${SETUPS[i].name} | ${grouped(Math.round(result.messagesPerSec))} | ${fixed(result.latencyMs.p99, 2)} |`,
    );
  }
  const ratio = rows[1].result.messagesPerSec / rows[0].result.messagesPerSec;
  const p99Ratio = rows[1].result.latencyMs.p99 / rows[0].result.latencyMs.p99;
  console.log(
    `| ${spec.title} | ${SETUPS[1].name} / one process | ${fixed(ratio, 2)}x | ${fixed(p99Ratio, 2)}x |`,
  );
}
