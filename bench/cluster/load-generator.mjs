// The cluster bench's load generator: one process, the raw Engine.IO-over-WebSocket client of
// bench/socketio (packet-reader.mjs: `net` sockets, pre-encoded masked frames, packets classified
// by their first bytes), neither server's client. Started by run.mjs with its config JSON in
// argv[2]. IPC: { type: "waiting" }; { type: "start", ports } -> connects, { type: "connected" };
// { type: "go", pids } -> runs; one { type: "result" } (or { type: "error" }).
//
// Every broadcast carries its sequence number: the payload is 8 decimal digits then filler, so
// each tick a receiver gets is checked to be exactly the next one it is due (no loss, no
// duplicate, no reordering), at the cost of reading 8 bytes per tick.
//
// Scenarios:
// - "throughput": N receivers spread round robin over the nodes' ports (receiver i on node
//   i mod n) and one control connection on node 1 that keeps W broadcasts in flight: each
//   `42["broadcast","<seq><filler>"]` is answered by node 1 with io.emit("tick", payload) to
//   every client of every node, and a new broadcast is written each time one has reached every
//   receiver. After the warm-up the deliveries, the CPU of the given processes (/proc/<pid>/stat)
//   and the machine's are counted for the measured duration; then no new broadcast is sent, the
//   ones in flight must complete, and every receiver must have had exactly every broadcast.
// - "restart": one receiver per node, the control connection sends broadcasts at a fixed rate;
//   after a steady phase it asks run.mjs to stop Redis (SIGTERM) and restart it; every tick's
//   arrival is timed per receiver to see when cross-node delivery resumes, which ticks of the
//   outage arrive late or never, and whether node 1's own client saw a gap.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { makePayload } from "../lib/frames.mjs";
import { machineBusyPercent, sampleMachineCpu } from "../lib/machine-cpu.mjs";
import { nextMessage, withDeadline } from "../lib/processes.mjs";
import { percentile } from "../lib/stats.mjs";
import {
  CHAR_2,
  CHAR_4,
  connectSocketIO,
  PacketReader,
  textFrame,
} from "../socketio/packet-reader.mjs";

const config = JSON.parse(process.argv[2]);
const SELF = fileURLToPath(import.meta.url);

const SEQ_DIGITS = 8;
/** Where the sequence number starts in a tick message: `42["tick","` is 11 bytes. */
const SEQ_AT = '42["tick","'.length;
const CONNECT_CONCURRENCY = 50;

function send(message) {
  if (process.connected) process.send?.(message);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Filler: ASCII that JSON carries unescaped (as bench/socketio's payloads). */
function filler(size) {
  return makePayload(size).toString("latin1").replace(/"/g, "'").replace(/\n/g, " ");
}

function makeBroadcastFrame(size) {
  const rest = filler(size - SEQ_DIGITS);
  return (seq) => textFrame(`42["broadcast","${String(seq).padStart(SEQ_DIGITS, "0")}${rest}"]`);
}

/**
 * PacketReader.payload plus the sequence number: digits at message offsets SEQ_AT..+8 are
 * accumulated into `this.seq` (-1 when not digits). Installed on a reader instance after its
 * Socket.IO handshake (one shared function, so the call stays monomorphic).
 */
function payloadWithSeq(chunk, start, end) {
  if (this.counter.opcode < 0x8) {
    const seen = this.seen;
    if (seen === 0) this.seq = 0;
    const from = Math.max(start, start + SEQ_AT - seen);
    const to = Math.min(end, start + SEQ_AT + SEQ_DIGITS - seen);
    for (let i = from; i < to; i++) {
      const digit = chunk[i] - 48;
      this.seq = this.seq < 0 || digit < 0 || digit > 9 ? -1 : this.seq * 10 + digit;
    }
  }
  PacketReader.prototype.payload.call(this, chunk, start, end);
}

function captureSeq(reader) {
  reader.seq = 0;
  reader.payload = payloadWithSeq;
}

/** Protocol errors and dropped connections; keeps the first message. */
function makeErrorLog() {
  const log = {
    stopping: false,
    protocolErrors: 0,
    droppedConnections: 0,
    firstError: "",
    note(message) {
      if (log.firstError === "") log.firstError = message;
    },
    protocol(message) {
      log.protocolErrors++;
      log.note(message);
    },
    watch({ socket, reader }) {
      socket.on("error", (error) => {
        if (!log.stopping) log.note(error.message);
      });
      socket.on("close", () => {
        if (!log.stopping) {
          log.droppedConnections++;
          log.note("a connection was closed by the server");
        }
      });
      reader.onError = (message) => log.protocol(message);
    },
  };
  return log;
}

function closeAll(log, connections) {
  log.stopping = true;
  for (const { socket, reader } of connections) {
    reader.stopping = true;
    socket.destroy();
  }
}

/** Opens one connection per entry of `ports`, at most CONNECT_CONCURRENCY handshakes at once. */
async function connectAll(host, ports, onError) {
  const out = new Array(ports.length);
  let next = 0;
  const worker = async () => {
    while (next < ports.length) {
      const i = next++;
      out[i] = await connectSocketIO({ host, port: ports[i], onError });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, ports.length) }, worker));
  return out;
}

// --- CPU of the processes under test --------------------------------------------------------

/** utime + stime of `pid` (all its threads) in ms, or null when it is gone. */
function processCpuMs(pid, clockTicks) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return null;
  }
}

/** Write system calls (write, writev...) `pid` has made, from /proc/<pid>/io; null if unreadable. */
function processWrites(pid) {
  try {
    return Number(/^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "latin1"))[1]);
  } catch {
    return null;
  }
}

function sampleCpu(pids, clockTicks) {
  return {
    at: performance.now(),
    machine: sampleMachineCpu(),
    processes: pids.map(({ label, pid }) => ({
      label,
      cpuMs: processCpuMs(pid, clockTicks),
      writes: processWrites(pid),
    })),
  };
}

/** Write system calls of each process between two samples. */
function writeCounts(before, after) {
  const out = {};
  before.processes.forEach(({ label, writes }, i) => {
    const end = after.processes[i].writes;
    out[label] = writes === null || end === null ? null : end - writes;
  });
  return out;
}

/** CPU % (100 = one core) of each process between two samples. */
function cpuPercents(before, after) {
  const wallMs = after.at - before.at;
  const out = {};
  before.processes.forEach(({ label, cpuMs }, i) => {
    const end = after.processes[i].cpuMs;
    out[label] = cpuMs === null || end === null ? null : ((end - cpuMs) / wallMs) * 100;
  });
  return out;
}

// --- throughput --------------------------------------------------------------------------------

/**
 * Installs the tick check on `receivers` (global indexes from `firstIndex`): each must get every
 * broadcast, in order, once. `onLocalComplete(seq)` runs when every receiver of this process has
 * broadcast `seq`; since each receiver gets them in order, that happens in order of `seq`.
 */
function receiveTicks(receivers, firstIndex, log, onLocalComplete) {
  const tickLength = `42["tick",""]`.length + config.size;
  const capacity = config.maxBroadcasts;
  const reached = new Int32Array(capacity);
  const counts = new Int32Array(receivers.length);
  receivers.forEach(({ reader }, r) => {
    captureSeq(reader);
    reader.onPacket = (byte0, byte1, length) => {
      if (byte0 !== CHAR_4 || byte1 !== CHAR_2 || length !== tickLength) {
        log.protocol(`unexpected packet starting ${String.fromCharCode(byte0, byte1)}`);
        return;
      }
      const due = counts[r];
      if (reader.seq !== due || due >= capacity) {
        log.protocol(
          `receiver ${firstIndex + r}: got broadcast ${reader.seq}, expected ${due} ` +
            `(${reader.seq < due ? "duplicate" : "lost, reordered or never sent"})`,
        );
        return;
      }
      counts[r] = due + 1;
      if (++reached[due] === receivers.length) onLocalComplete(due);
    };
  });
  return {
    reached,
    /** Whether every receiver got exactly `sent` broadcasts (and no protocol error was seen). */
    exact(sent) {
      if (log.protocolErrors > 0) return false;
      for (let r = 0; r < counts.length; r++) {
        if (counts[r] !== sent) {
          log.protocol(`receiver ${firstIndex + r} got ${counts[r]} of ${sent} broadcasts`);
          return false;
        }
      }
      return true;
    },
  };
}

/** Receivers [first, first + count) of `clients`, split in `parts` contiguous blocks. */
function blocksOf(clients, parts) {
  return Array.from({ length: parts }, (_, k) => {
    const first = Math.floor((k * clients) / parts);
    return { first, count: Math.floor(((k + 1) * clients) / parts) - first };
  });
}

/** Receiver i connects to node i mod n (receivers of every process spread over every node). */
function portsOf(ports, { first, count }) {
  return Array.from({ length: count }, (_, j) => ports[(first + j) % ports.length]);
}

/**
 * A helper generator process (--load-processes > 1): holds a block of receivers, reports to the
 * coordinator (its parent) each broadcast all of them got: { type: "done", seq }.
 */
async function runHelper(events) {
  const log = makeErrorLog();
  const receivers = await connectAll(config.host, portsOf(config.ports, config.block), (m) =>
    log.protocol(m),
  );
  for (const connection of receivers) log.watch(connection);
  send({ type: "connected" });
  await events.next("go", 120_000);
  const ticks = receiveTicks(receivers, config.block.first, log, (seq) =>
    send({ type: "done", seq }),
  );
  send({ type: "ready" });
  const { sent } = await events.next("finish", 3_600_000);
  closeAll(log, receivers);
  send({
    type: "helper-result",
    exact: ticks.exact(sent),
    protocolErrors: log.protocolErrors,
    droppedConnections: log.droppedConnections,
    firstError: log.firstError,
  });
  process.disconnect?.();
}

/** Forks the helper processes and waits until their receivers are connected. */
async function startHelpers(ports, blocks, log) {
  const helpers = blocks.map((block) => {
    const child = fork(SELF, [JSON.stringify({ ...config, role: "helper", ports, block })], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.on("error", () => {});
    child.on("exit", (code, signal) => {
      if (!log.stopping) log.protocol(`a load generator helper exited (${signal ?? code})`);
    });
    return child;
  });
  process.on("exit", () => {
    for (const child of helpers) child.kill("SIGKILL");
  });
  await withDeadline(
    Promise.all(helpers.map((child) => nextMessage(child, "connected", "load generator helper"))),
    120_000,
    "helpers connecting",
  );
  return helpers;
}

async function runThroughput(ports, waitForGo) {
  const { host, clients, window: windowSize, size, warmupMs, durationMs, drainMs } = config;
  const log = makeErrorLog();
  const onError = (message) => log.protocol(message);
  const processes = config.loadProcesses;
  const [ownBlock, ...helperBlocks] = blocksOf(clients, processes);
  const connectStart = performance.now();
  const [helpers, receivers] = await Promise.all([
    startHelpers(ports, helperBlocks, log),
    connectAll(host, portsOf(ports, ownBlock), onError),
  ]);
  const control = await connectSocketIO({ host, port: ports[0], onError });
  const connectMs = performance.now() - connectStart;
  const connections = [...receivers, control];
  for (const connection of connections) log.watch(connection);
  const go = await waitForGo();
  const pids = [
    ...go.pids,
    ...helpers.map((child, k) => ({ label: `load${k + 2}`, pid: child.pid })),
  ];

  const frameOf = makeBroadcastFrame(size);
  const capacity = config.maxBroadcasts;
  // processesDone[s]: generator processes whose receivers all got broadcast s.
  const processesDone = new Int32Array(capacity);
  const sentAt = new Float64Array(capacity);
  const doneAt = new Float64Array(capacity);
  let sent = 0;
  let completed = 0;
  let sending = true;
  let onDrained = null;

  const sendOne = () => {
    if (!sending || sent >= capacity) return;
    sentAt[sent] = performance.now();
    control.socket.write(frameOf(sent));
    sent++;
  };
  const onProcessDone = (seq) => {
    if (++processesDone[seq] < processes) return;
    doneAt[seq] = performance.now();
    completed++;
    sendOne();
    if (completed === sent && onDrained !== null) onDrained();
  };
  const ticks = receiveTicks(receivers, ownBlock.first, log, onProcessDone);
  for (const child of helpers) {
    child.on("message", (message) => {
      if (message?.type === "done") onProcessDone(message.seq);
    });
  }
  // io.emit reaches the control connection too: checked, not counted.
  control.reader.onPacket = (byte0, byte1) => {
    if (byte0 !== CHAR_4 || byte1 !== CHAR_2) {
      log.protocol(`control: unexpected packet starting ${String.fromCharCode(byte0, byte1)}`);
    }
  };
  const ready = helpers.map((child) => nextMessage(child, "ready", "load generator helper"));
  for (const child of helpers) child.send({ type: "go" });
  await withDeadline(Promise.all(ready), 10_000, "helpers ready");

  const runStart = performance.now();
  for (let i = 0; i < windowSize; i++) sendOne();
  await sleep(warmupMs);
  send({ type: "measure-start" });
  const windowStartUs = Number(process.hrtime.bigint() / 1000n);
  const cpuBefore = sampleCpu(pids, go.clockTicks);
  const before = { at: cpuBefore.at, completed, sent };
  await sleep(durationMs);
  const cpuAfter = sampleCpu(pids, go.clockTicks);
  const after = { at: cpuAfter.at, completed, sent };
  const windowEndUs = Number(process.hrtime.bigint() / 1000n);
  send({ type: "measure-end" });

  // Drain: no new broadcast; every one sent must reach every receiver, within drainMs.
  sending = false;
  if (completed < sent) {
    const drained = new Promise((resolve) => {
      onDrained = resolve;
    });
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), drainMs);
    });
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      const stuck = processesDone.findIndex((n, s) => s < sent && n < processes);
      closeAll(log, connections);
      throw new Error(
        `${sent - completed} of ${sent} broadcasts did not reach every receiver within ` +
          `${drainMs} ms after the run (broadcast ${stuck}: ${ticks.reached[stuck]} of ` +
          `${receivers.length} receivers of the first generator process; ` +
          `${log.firstError || "no protocol error"})`,
      );
    }
  }
  // Anything extra (a duplicate) would arrive now.
  await sleep(config.graceMs);
  const helperResults = helpers.map((child) =>
    nextMessage(child, "helper-result", "load generator helper"),
  );
  for (const child of helpers) child.send({ type: "finish", sent });
  const fromHelpers = await withDeadline(Promise.all(helperResults), 10_000, "helper results");
  closeAll(log, connections);
  let exact = ticks.exact(sent);
  for (const result of fromHelpers) {
    exact &&= result.exact;
    log.protocolErrors += result.protocolErrors;
    log.droppedConnections += result.droppedConnections;
    if (result.firstError !== "") log.note(result.firstError);
  }

  const elapsedMs = after.at - before.at;
  // A broadcast counts once it has reached every receiver: deliveries = broadcasts x receivers.
  const broadcasts = after.completed - before.completed;
  // Fan-out of the broadcasts sent in the measured window (they all completed in the drain).
  const fanOut = [];
  for (let s = before.sent; s < after.sent; s++) fanOut.push(doneAt[s] - sentAt[s]);
  fanOut.sort((a, b) => a - b);
  const cpu = cpuPercents(cpuBefore, cpuAfter);
  // The generator's processes count as one "load" figure.
  const loadProcessesCpuPercent = [cpu.load];
  for (let k = 0; k < helpers.length; k++) {
    loadProcessesCpuPercent.push(cpu[`load${k + 2}`]);
    cpu.load = (cpu.load ?? 0) + (cpu[`load${k + 2}`] ?? 0);
    delete cpu[`load${k + 2}`];
  }
  const machine = machineBusyPercent(cpuBefore.machine, cpuAfter.machine);
  const measuredCpu = Object.values(cpu).reduce((a, b) => a + (b ?? 0), 0);
  return {
    connectMs,
    runMs: performance.now() - runStart,
    elapsedMs,
    // The measured window on CLOCK_MONOTONIC in µs, the clock of V8's CPU profiles.
    windowUs: { start: windowStartUs, end: windowEndUs },
    deliveries: broadcasts * clients,
    deliveriesPerSec: ((broadcasts * clients) / elapsedMs) * 1000,
    broadcasts,
    broadcastsPerSec: (broadcasts / elapsedMs) * 1000,
    broadcastsSent: sent,
    exact,
    latencyMs: {
      samples: fanOut.length,
      p50: percentile(fanOut, 0.5),
      p99: percentile(fanOut, 0.99),
      max: fanOut.length > 0 ? fanOut[fanOut.length - 1] : null,
    },
    cpuPercent: cpu,
    loadProcessesCpuPercent,
    writeSyscalls: writeCounts(cpuBefore, cpuAfter),
    machineBusyPercent: machine,
    otherProcessesCpuPercent: machine === null ? null : Math.max(0, machine - measuredCpu),
    protocolErrors: log.protocolErrors,
    droppedConnections: log.droppedConnections,
    firstError: log.firstError,
  };
}

// --- restart -----------------------------------------------------------------------------------

async function runRestart(ports, waitForGo, events) {
  const { host, size, rate, steadyMs, afterResumeMs, graceMs, maxResumeMs } = config;
  const log = makeErrorLog();
  const onError = (message) => log.protocol(message);
  // Receiver k on node k+1; the control connection on node 1.
  const receivers = await connectAll(host, ports, onError);
  const control = await connectSocketIO({ host, port: ports[0], onError });
  const connections = [...receivers, control];
  for (const connection of connections) log.watch(connection);
  await waitForGo();

  const frameOf = makeBroadcastFrame(size);
  const tickLength = `42["tick",""]`.length + size;
  const capacity = Math.ceil(((steadyMs + 60_000 + maxResumeMs + afterResumeMs) * rate) / 1000);
  const sentAt = new Float64Array(capacity);
  const arrivals = receivers.map(({ socket }) => {
    const record = {
      at: new Float64Array(capacity).fill(Number.NaN),
      duplicates: 0,
      reordered: 0,
      last: -1,
      droppedAt: null,
    };
    socket.on("close", () => {
      if (!log.stopping) record.droppedAt = performance.now();
    });
    return record;
  });
  let sent = 0;
  const start = performance.now();

  receivers.forEach(({ reader }, r) => {
    captureSeq(reader);
    const record = arrivals[r];
    reader.onPacket = (byte0, byte1, length) => {
      const seq = reader.seq;
      if (byte0 !== CHAR_4 || byte1 !== CHAR_2 || length !== tickLength || seq < 0 || seq >= sent) {
        log.protocol(
          `receiver ${r}: unexpected packet starting ${String.fromCharCode(byte0, byte1)}`,
        );
        return;
      }
      if (!Number.isNaN(record.at[seq])) {
        record.duplicates++;
        return;
      }
      record.at[seq] = performance.now();
      if (seq < record.last) record.reordered++;
      else record.last = seq;
    };
  });
  control.reader.onPacket = () => {};
  // Node 1 gone (the process died): nothing more will be broadcast.
  let controlClosed = false;
  control.socket.on("close", () => {
    controlClosed = true;
  });

  // Paced: every 5 ms, whatever is due at `rate` per second since the start.
  let pacing = true;
  const pace = () => {
    if (!pacing || controlClosed) return;
    const due = Math.min(capacity, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) {
      sentAt[sent] = performance.now();
      control.socket.write(frameOf(sent));
      sent++;
    }
    setTimeout(pace, 5);
  };
  pace();

  await sleep(steadyMs);
  const stopAt = performance.now();
  send({ type: "stop-redis" });
  const down = await events.next("redis-down", 15_000);
  const downAt = down.at;
  const up = await events.next("redis-up", 30_000);
  const upAt = up.at;

  // Wait until every cross-node receiver got a tick sent after the restart, then a while more.
  const crossNode = arrivals.slice(1);
  const freshArrival = (record) => {
    for (let s = 0; s < sent; s++)
      if (sentAt[s] >= upAt && !Number.isNaN(record.at[s])) return true;
    return false;
  };
  const deadline = upAt + maxResumeMs;
  let resumed = false;
  while (performance.now() < deadline && !controlClosed) {
    if (crossNode.every(freshArrival)) {
      resumed = true;
      break;
    }
    await sleep(20);
  }
  if (resumed) await sleep(afterResumeMs);
  pacing = false;
  const lastSentAt = performance.now();
  await sleep(graceMs);
  closeAll(log, connections);

  const perReceiver = arrivals.map((record, r) => {
    let delivered = 0;
    let lost = 0;
    let firstAfterUp = null;
    let firstFreshAfterUp = null;
    const outage = { sent: 0, delivered: 0, lost: 0, maxLateMs: null };
    const gapTimes = [];
    for (let s = 0; s < sent; s++) {
      const at = record.at[s];
      const inOutage = sentAt[s] >= stopAt && sentAt[s] < upAt;
      if (inOutage) outage.sent++;
      if (Number.isNaN(at)) {
        lost++;
        if (inOutage) outage.lost++;
        continue;
      }
      delivered++;
      gapTimes.push(at);
      if (inOutage) {
        outage.delivered++;
        outage.maxLateMs = Math.max(outage.maxLateMs ?? 0, at - sentAt[s]);
      }
      if (at >= upAt && (firstAfterUp === null || at < firstAfterUp)) firstAfterUp = at;
      if (sentAt[s] >= upAt && (firstFreshAfterUp === null || at < firstFreshAfterUp)) {
        firstFreshAfterUp = at;
      }
    }
    gapTimes.sort((a, b) => a - b);
    let maxGapMs = 0;
    for (let i = 1; i < gapTimes.length; i++)
      maxGapMs = Math.max(maxGapMs, gapTimes[i] - gapTimes[i - 1]);
    return {
      node: r + 1,
      // The connection was closed by the server (its process died) this long after Redis stopped.
      droppedAfterStopMs: record.droppedAt === null ? null : record.droppedAt - stopAt,
      sent,
      delivered,
      lost,
      duplicates: record.duplicates,
      reordered: record.reordered,
      // From Redis answering PING again to the first tick this receiver got afterwards (any
      // tick: one held back during the outage counts), and to the first tick sent after it.
      resumeMs: firstAfterUp === null ? null : firstAfterUp - upAt,
      firstFreshMs: firstFreshAfterUp === null ? null : firstFreshAfterUp - upAt,
      outage,
      maxGapMs,
    };
  });
  return {
    rate,
    sent,
    durationMs: lastSentAt - start,
    stopToDownMs: downAt - stopAt,
    outageMs: upAt - stopAt,
    resumed,
    receivers: perReceiver,
    protocolErrors: log.protocolErrors,
    droppedConnections: log.droppedConnections,
    firstError: log.firstError,
  };
}

// --- IPC ---------------------------------------------------------------------------------------

/** Messages from run.mjs, awaited by type; each is stamped with its arrival time. */
function makeEvents() {
  const queue = [];
  const waiters = [];
  process.on("message", (message) => {
    if (message?.type === "stop") process.exit(0);
    const stamped = { ...message, at: performance.now() };
    const i = waiters.findIndex((w) => w.type === message?.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(stamped);
    else queue.push(stamped);
  });
  return {
    next(type, ms) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const waiter = { type, resolve };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no "${type}" from run.mjs within ${ms} ms`));
        }, ms);
        waiter.resolve = (message) => {
          clearTimeout(timer);
          resolve(message);
        };
        waiters.push(waiter);
      });
    },
  };
}

function fail(error) {
  // Open sockets would keep the process alive: exit once reported.
  const message = error instanceof Error ? error.message : String(error);
  if (!process.connected) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: "error", message }, () => process.exit(1));
}

process.on("disconnect", () => process.exit(0));
const events = makeEvents();
if (config.role === "helper") {
  await runHelper(events).catch(fail);
} else {
  send({ type: "waiting" });
  try {
    const { ports } = await events.next("start", 60_000);
    const waitForGo = async () => {
      send({ type: "connected" });
      return events.next("go", 30_000);
    };
    const result =
      config.scenario === "restart"
        ? await runRestart(ports, waitForGo, events)
        : await runThroughput(ports, waitForGo);
    send({ type: "result", result });
    process.disconnect?.();
  } catch (error) {
    fail(error);
  }
}
