// Attack 1, slow readers: 200 raw TCP clients complete the WebSocket handshake and never read
// again, while the application sends each of them a 10 KB message every event-loop turn for
// --duration seconds without looking at bufferedAmount. Does the server cut them, and when,
// and what does its memory do meanwhile?
import { openWebSocket } from "../../lib/handshake.mjs";
import { endingOf, mapLimit, spread, tally } from "../lib/abuse-helpers.mjs";
import { FrameReader, OP_CLOSE, parseClosePayload } from "../lib/ws-frames.mjs";

export const name = "slow-readers";
export const title =
  "Attack 1: slow readers (raw WebSocket): clients that never read, sent 10 KB every event-loop turn";

export function cases(options) {
  return [
    {
      id: "slow-readers",
      label: `${options.slowClients} clients that never read, ${options.slowPayload} B per client per event-loop turn, ${options.durationS} s`,
      servers: ["ws:duplexio", "ws:ws"],
      probe: "ws-echo",
      config: {
        clients: options.slowClients,
        durationMs: options.durationS * 1000,
        payloadBytes: options.slowPayload,
        maxRssBytes: options.rssCapMiB * 1024 * 1024,
      },
    },
  ];
}

/** Runner side: connect the abusers, flood them from the server, relay cuts, collect. */
export async function orchestrate({ server, port, config, startAbuser }) {
  const abuser = await startAbuser({ ...config, port });
  const connected = await abuser.next("connected", 60_000);
  const serverCloses = [];
  const onServerMessage = (message) => {
    if (message?.type !== "client-closed") return;
    serverCloses.push(message);
    abuser.send({ type: "closed", slowId: message.slowId, at: message.closedAt });
  };
  server.process.on("message", onServerMessage);
  const startedAt = Date.now();
  let flood = null;
  let floodError = null;
  try {
    flood = (await server.request("flood", config, config.durationMs + 120_000)).result;
  } catch (error) {
    floodError = String(error.message ?? error);
  }
  // The abusers stay for the whole duration even when the flood stopped early (RSS cap), so a
  // server that cuts them late still gets the chance.
  const left = startedAt + config.durationMs - Date.now();
  if (left > 0 && server.running) await new Promise((resolve) => setTimeout(resolve, left));
  // From here on the abuser closes its sockets itself: later closes are not the server's doing.
  server.process.off("message", onServerMessage);
  abuser.send({ type: "finish" });
  const { result } = await abuser.next("result", 60_000);
  const floodStart = flood?.startedAt ?? startedAt;
  return {
    connected: connected.connected,
    connectFailures: connected.failed,
    flood,
    floodError,
    cutsMs: serverCloses.map((c) => c.closedAt - floodStart),
    serverCloses: serverCloses.map((c) => ({
      slowId: c.slowId,
      afterMs: c.closedAt - floodStart,
      code: c.code,
      reason: c.reason,
    })),
    abuser: result,
  };
}

/** Abuser side. */
export async function abuse({ port, clients }, channel) {
  const sockets = await mapLimit(clients, 50, async (i) => {
    try {
      const { socket } = await openWebSocket({
        host: "127.0.0.1",
        port,
        deflate: false,
        path: `/slow?i=${i}`,
      });
      // Never read again: Node stops reading the socket once its small internal buffer is full,
      // then the kernel's receive buffer fills and the server's writes back up. (Node has no API
      // to shrink SO_RCVBUF on a TCP socket: the kernel default stays, about 128 KiB here.)
      socket.pause();
      socket.on("error", () => {});
      return { socket, i };
    } catch {
      return null;
    }
  });
  const open = sockets.filter((s) => s !== null);
  channel.send({ type: "connected", connected: open.length, failed: clients - open.length });

  // When the server says it closed a client, read what that client was sent to the end, to learn
  // what it received: a close frame (code, reason), or the connection just ended (FIN or RST).
  const drains = new Map();
  const drain = (entry, serverClosedAt) =>
    new Promise((resolve) => {
      const { socket } = entry;
      let closeFrame = null;
      let sawEnd = false;
      let errorCode = null;
      let messages = 0;
      const reader = new FrameReader({
        keep: 0,
        onMessage: () => {
          messages++;
        },
        onControl: (opcode, payload) => {
          if (opcode === OP_CLOSE && closeFrame === null) closeFrame = parseClosePayload(payload);
        },
      });
      const finish = (how) =>
        resolve({
          i: entry.i,
          serverClosedAt,
          drainedBytes: reader.bytes,
          drainedMessages: messages,
          closeFrame,
          ending: how ?? endingOf({ sawEnd, errorCode }),
        });
      entry.finishDrain = () => finish("still draining at the end");
      socket.on("data", (chunk) => reader.push(chunk));
      socket.on("end", () => {
        sawEnd = true;
      });
      socket.on("error", (error) => {
        errorCode = error.code ?? "error";
      });
      socket.on("close", () => finish());
      socket.resume();
    });
  channel.on("closed", ({ slowId, at }) => {
    const entry = open.find((s) => s.i === slowId);
    if (entry !== undefined && !drains.has(slowId)) drains.set(slowId, drain(entry, at));
  });
  await new Promise((resolve) => channel.on("finish", resolve));
  // Bounded: drains still running after 10 s are cut short.
  const timer = setTimeout(() => {
    for (const entry of open) entry.finishDrain?.();
  }, 10_000);
  const drained = await Promise.all(drains.values());
  clearTimeout(timer);
  for (const { socket } of open) socket.destroy();
  return { drained };
}

function receivedOf(d) {
  if (d.closeFrame !== null) {
    const reason = d.closeFrame.reason === "" ? "" : ` "${d.closeFrame.reason.slice(0, 30)}"`;
    return `close ${d.closeFrame.code}${reason}, ${d.ending}`;
  }
  return `no close frame, ${d.ending}`;
}

const MIB = 1024 * 1024;

export const columns = ["cut (n, first/p50/last s)", "abuser received", "flood"];

export function cells(run) {
  const r = run.result;
  if (r === undefined) return ["-", "-", "-"];
  const cuts = spread(r.cutsMs);
  const cut =
    cuts.n === 0
      ? `0/${r.connected} in ${(run.config.durationMs / 1000).toFixed(0)} s`
      : `${cuts.n}/${r.connected}: ${(cuts.min / 1000).toFixed(1)}/${(cuts.p50 / 1000).toFixed(1)}/${(cuts.max / 1000).toFixed(1)}`;
  const received = r.abuser.drained.length === 0 ? "-" : tally(r.abuser.drained.map(receivedOf), 2);
  const f = r.flood;
  const flood =
    f === null
      ? `failed: ${r.floodError}`
      : f.stopReason === "rss-cap"
        ? `STOPPED at RSS cap after ${(f.durationMs / 1000).toFixed(1)} s`
        : `ran ${(f.durationMs / 1000).toFixed(1)} s`;
  return [cut, received, flood];
}

/** Extra lines under the table: bufferedAmount and deliveries per second over time. */
export function details(run) {
  const f = run.result?.flood;
  if (!f) return [];
  const peakTotal = Math.max(...f.samples.map((s) => s.bufferedTotal));
  const peakOne = Math.max(...f.samples.map((s) => s.bufferedMax));
  const perSecond = [];
  for (let i = 1; i < f.samples.length; i++) {
    const a = f.samples[i - 1];
    const b = f.samples[i];
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    perSecond.push({
      t: b.t,
      delivered: (b.delivered - a.delivered) / dt,
      sent: (b.sent - a.sent) / dt,
      buffered: b.bufferedTotal,
      open: b.open,
    });
  }
  const every = Math.max(1, Math.ceil(perSecond.length / 10));
  const series = perSecond
    .filter((_, i) => i % every === 0 || i === perSecond.length - 1)
    .map(
      (p) =>
        `${(p.t / 1000).toFixed(1)}s ${Math.round(p.delivered)}/${Math.round(p.sent)} ${(p.buffered / MIB).toFixed(0)}M ${p.open}o`,
    )
    .join(" | ");
  return [
    `bufferedAmount peak: ${(peakTotal / MIB).toFixed(1)} MiB over all clients, ${(peakOne / MIB).toFixed(2)} MiB for one; ` +
      `messages sent ${f.sent.toLocaleString("en-US")}, written to the kernel ${f.delivered.toLocaleString("en-US")}, send errors ${f.sendErrors}`,
    `over time (delivered/s / send() calls/s, bufferedAmount total, slow clients open): ${series}`,
  ];
}
