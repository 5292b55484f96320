// The node:cluster deployment of the cluster bench: one primary, N workers running node.mjs with
// the cluster adapter, all on one port of 127.0.0.1 (Node's default scheduling on Linux, round
// robin: the primary accepts each connection and hands it to the next worker).
//   node bench/cluster/cluster-primary.mjs '<JSON { server, workers }>'
// The primary calls the adapter package's setupPrimary() (duplexio's or
// @socket.io/cluster-adapter's), which routes the adapter messages between the workers.
//
// IPC to run.mjs: { type: "listening", port, pid, workers: [{ name, pid }] } once every worker
// listens; { type: "count", id } is answered with { type: "count", id, nodes: [per worker] }
// (clients connected, broadcasts handled); { type: "stop" } or the parent going away ends the
// workers and the primary.
import cluster from "node:cluster";
import { fileURLToPath } from "node:url";

const NODE = fileURLToPath(new URL("./node.mjs", import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const COUNT_TIMEOUT_MS = 5000;

const config = JSON.parse(process.argv[2]);

function send(message) {
  if (process.connected) process.send?.(message);
}

let stopping = false;
/**
 * Asks every worker to exit (so that a worker run with --cpu-prof writes its profile), kills
 * the ones still there after 3 s, then exits.
 */
async function shutDown(code) {
  if (stopping) return;
  stopping = true;
  const alive = Object.values(cluster.workers ?? {}).filter(
    (worker) =>
      worker !== undefined &&
      worker.process.exitCode === null &&
      worker.process.signalCode === null,
  );
  await Promise.all(
    alive.map(
      (worker) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => worker.process.kill("SIGKILL"), 3000);
          worker.process.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          if (worker.isConnected()) worker.send({ type: "stop" }, undefined, () => {});
          else worker.process.kill("SIGKILL");
        }),
    ),
  );
  process.exit(code);
}

function fail(message) {
  if (!process.connected) {
    console.error(message);
    void shutDown(1);
    return;
  }
  process.send({ type: "error", message }, () => void shutDown(1));
}

process.on("disconnect", () => void shutDown(0));
process.on("exit", () => {
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
});

const setupPrimary =
  config.server === "duplexio"
    ? (await import("duplexio/adapters/cluster")).setupPrimary
    : (await import("@socket.io/cluster-adapter")).setupPrimary;
setupPrimary();

const workers = [];
for (let i = 0; i < config.workers; i++) {
  const name = `node${i + 1}`;
  cluster.setupPrimary({
    exec: NODE,
    args: [JSON.stringify({ name, server: config.server, adapter: "cluster" })],
    // Each worker's own flags (with --cpu-prof: its own profile name), not the primary's.
    execArgv: config.workerExecArgv[i],
  });
  const worker = cluster.fork();
  workers.push({ name, worker, port: null });
  worker.on("exit", (code, signal) => {
    if (!stopping) fail(`worker ${name} exited (${signal ?? code})`);
  });
}

const timer = setTimeout(
  () => fail(`workers not listening within ${READY_TIMEOUT_MS} ms`),
  READY_TIMEOUT_MS,
);

/** Pending count requests: id -> { answers, resolve }. */
const counts = new Map();

cluster.on("message", (worker, message) => {
  const entry = workers.find((w) => w.worker === worker);
  if (entry === undefined) return;
  if (message?.type === "error") {
    fail(message.message);
  } else if (message?.type === "listening") {
    entry.port = message.port;
    if (workers.every((w) => w.port !== null)) {
      clearTimeout(timer);
      const ports = new Set(workers.map((w) => w.port));
      if (ports.size !== 1) {
        fail(`workers listen on different ports: ${[...ports].join(", ")}`);
        return;
      }
      send({
        type: "listening",
        port: entry.port,
        pid: process.pid,
        workers: workers.map((w) => ({ name: w.name, pid: w.worker.process.pid })),
      });
    }
  } else if (message?.type === "count") {
    const pending = counts.get(message.id);
    if (pending === undefined) return;
    pending.answers.set(entry.name, message);
    if (pending.answers.size === workers.length) pending.done();
  }
});

process.on("message", (message) => {
  if (message?.type === "count") {
    const id = message.id;
    const pending = { answers: new Map() };
    const timeout = setTimeout(() => pending.done(), COUNT_TIMEOUT_MS);
    pending.done = () => {
      clearTimeout(timeout);
      counts.delete(id);
      send({
        type: "count",
        id,
        nodes: workers.map((w) => pending.answers.get(w.name) ?? { name: w.name, missing: true }),
      });
    };
    counts.set(id, pending);
    for (const { worker } of workers) {
      if (worker.isConnected()) worker.send({ type: "count", id }, undefined, () => {});
    }
  } else if (message?.type === "stop") {
    void shutDown(0);
  }
});
