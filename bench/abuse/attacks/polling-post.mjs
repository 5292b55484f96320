// Attack 3, oversized polling POST: after a real Engine.IO handshake (a valid sid), one HTTP
// POST to the polling transport announcing Content-Length: 100 MiB, and the body streamed as
// fast as the server takes it. What does the client read before the connection ends (413?
// nothing? a reset?), how long until it is cut, and how much did the server take meanwhile?
import { connect } from "node:net";
import { endingOf, firstLine, tally } from "../lib/abuse-helpers.mjs";

export const name = "polling-post";
export const title =
  "Attack 3: oversized Engine.IO polling POST (Content-Length: 100 MiB, valid sid)";

const MIB = 1024 * 1024;

export function cases(options) {
  return [
    {
      id: "polling-post",
      label: `one POST of ${options.postMiB} MiB announced in Content-Length, streamed, ${options.postTimeoutS} s at most`,
      servers: ["sio:duplexio", "sio:socket.io"],
      probe: "sio-echo",
      config: { bytes: options.postMiB * MIB, timeoutMs: options.postTimeoutS * 1000 },
    },
  ];
}

export async function orchestrate({ port, config, startAbuser }) {
  const abuser = await startAbuser({ ...config, port });
  const { result } = await abuser.next("result", config.timeoutMs + 60_000);
  return result;
}

/** GET the polling handshake, return the sid (the open packet 0{"sid":...}). */
function handshake(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let response = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("handshake timed out"));
    }, 10_000);
    socket.on("connect", () =>
      socket.write(
        `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      ),
    );
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      response += chunk;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const sid = /"sid":"([^"]+)"/.exec(response)?.[1];
      if (sid === undefined)
        reject(
          new Error(`no sid in handshake response: ${firstLine(Buffer.from(response, "latin1"))}`),
        );
      else resolve(sid);
    });
  });
}

export async function abuse({ port, bytes, timeoutMs }) {
  const sid = await handshake(port);
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const began = performance.now();
  const since = () => Math.round(performance.now() - began);
  let response = Buffer.alloc(0);
  let statusAtMs = null;
  let bytesAtStatus = null;
  let sawEnd = false;
  let errorCode = null;
  let closedAtMs = null;
  let lastProgress = { atMs: 0, bytes: 0 };
  const accepted = () => Math.max(0, socket.bytesWritten - socket.writableLength - headLength);
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.on("data", (chunk) => {
    if (statusAtMs === null) {
      statusAtMs = since();
      bytesAtStatus = accepted();
    }
    if (response.length < 4096) response = Buffer.concat([response, chunk]).subarray(0, 4096);
  });
  socket.on("end", () => {
    sawEnd = true;
  });
  socket.on("error", (error) => {
    errorCode = error.code ?? "error";
  });
  socket.on("close", () => {
    closedAtMs = since();
  });
  const head =
    `POST /socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)} HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${port}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${bytes}\r\n\r\n`;
  const headLength = Buffer.byteLength(head);
  socket.write(head);
  // The body: one Engine.IO message packet "4aaaa...", 64 KiB per write, each write waiting
  // for the previous to drain, so "accepted" is what the server (its kernel) really took.
  const chunk = Buffer.alloc(64 * 1024, "a");
  const first = Buffer.from(chunk);
  first[0] = 0x34; // "4"
  let queued = 0;
  const deadline = began + timeoutMs;
  while (
    queued < bytes &&
    closedAtMs === null &&
    !socket.destroyed &&
    performance.now() < deadline
  ) {
    const piece = queued === 0 ? first : chunk;
    const n = Math.min(piece.length, bytes - queued);
    const ok = socket.write(n === piece.length ? piece : piece.subarray(0, n));
    queued += n;
    if (!ok) {
      const left = deadline - performance.now();
      await Promise.race([
        new Promise((resolve) => socket.once("drain", resolve)),
        closed,
        new Promise((resolve) => setTimeout(resolve, Math.max(0, left))),
      ]);
    }
    const now = accepted();
    if (now > lastProgress.bytes) lastProgress = { atMs: since(), bytes: now };
  }
  const allWritten = queued >= bytes;
  // Whole body sent (or the writes stalled): wait for the answer and the end, within the deadline.
  if (closedAtMs === null) {
    const left = deadline - performance.now();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, Math.max(0, left)))]);
  }
  const stillOpen = closedAtMs === null;
  const result = {
    sid,
    status: firstLine(response) || null,
    responseHead: response.toString("latin1").split("\r\n\r\n")[0].slice(0, 400),
    statusAtMs,
    bytesAtStatus,
    bodyWritten: allWritten,
    bytesAccepted: accepted(),
    lastProgress,
    ending: stillOpen ? "still open at the deadline" : endingOf({ sawEnd, errorCode }),
    closedAtMs,
    timeoutMs,
  };
  socket.destroy();
  return result;
}

export const columns = ["abuser read", "status after", "cut after", "server took"];

export function cells(run) {
  const r = run.result;
  if (r === undefined) return ["-", "-", "-", "-"];
  const status = r.status ?? "nothing";
  const statusAt =
    r.statusAtMs === null
      ? "-"
      : `${(r.statusAtMs / 1000).toFixed(2)} s (${(r.bytesAtStatus / MIB).toFixed(1)} MiB in)`;
  const cut =
    r.closedAtMs === null
      ? `not cut in ${(r.timeoutMs / 1000).toFixed(0)} s`
      : `${(r.closedAtMs / 1000).toFixed(2)} s, ${r.ending}`;
  const took = `${(r.bytesAccepted / MIB).toFixed(1)} MiB${r.bodyWritten ? " (all)" : ""}`;
  return [tally([status]), statusAt, cut, took];
}

export function details(run) {
  const r = run.result;
  if (r === undefined) return [];
  const stalled =
    r.closedAtMs === null && !r.bodyWritten
      ? `; the server stopped taking bytes at ${(r.lastProgress.bytes / MIB).toFixed(1)} MiB after ${(r.lastProgress.atMs / 1000).toFixed(1)} s`
      : "";
  return [`response head: ${JSON.stringify(r.responseHead)}${stalled}`];
}
