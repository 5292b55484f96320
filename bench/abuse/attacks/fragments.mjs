// Attack 2, fragment flood: one message split into 100,000 one-byte fragments (7 bytes each on
// the wire: 700 KB for a 100 KB message), on 1 connection, then on 10 connections at once. The
// server echoes whole messages, so it either reassembles (the echo comes back: how long did it
// take, what did it cost) or refuses (a close frame: which code, after how long).
import { openWebSocket } from "../../lib/handshake.mjs";
import { endingOf, mapLimit, spread, tally } from "../lib/abuse-helpers.mjs";
import {
  FrameReader,
  maskedFrame,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  oneByteFragments,
  parseClosePayload,
} from "../lib/ws-frames.mjs";

export const name = "fragments";
export const title =
  "Attack 2: fragment flood (raw WebSocket): messages of 100,000 one-byte fragments";

export function cases(options) {
  return options.fragmentConnections.map((connections) => ({
    id: `fragments-x${connections}`,
    label: `${connections} connection(s) at once, each one message of ${options.fragments.toLocaleString("en-US")} one-byte fragments`,
    servers: ["ws:duplexio", "ws:ws"],
    probe: "ws-echo",
    config: {
      connections,
      fragments: options.fragments,
      timeoutMs: options.fragmentTimeoutS * 1000,
    },
  }));
}

export async function orchestrate({ port, config, startAbuser }) {
  const abuser = await startAbuser({ ...config, port });
  const { result } = await abuser.next("result", config.timeoutMs + 60_000);
  return result;
}

export async function abuse({ port, connections, fragments, timeoutMs }) {
  const stream = oneByteFragments(fragments);
  const opened = await mapLimit(connections, 10, async () => {
    try {
      return (await openWebSocket({ host: "127.0.0.1", port, deflate: false, path: "/" })).socket;
    } catch (error) {
      return String(error.message);
    }
  });
  // Everything is written at once, on every connection, then each waits for its outcome.
  const outcomes = opened.map((socket) => {
    if (typeof socket === "string")
      return Promise.resolve({ outcome: `handshake failed: ${socket}` });
    return new Promise((resolve) => {
      const began = performance.now();
      let writtenMs = null;
      let closeFrame = null;
      let sawEnd = false;
      let errorCode = null;
      let settled = false;
      const done = (outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          ...outcome,
          writtenMs,
          closeFrame,
          ending: endingOf({ sawEnd, errorCode }),
        });
        socket.destroy();
      };
      const timer = setTimeout(
        () => done({ outcome: "no answer", afterMs: performance.now() - began }),
        timeoutMs,
      );
      const reader = new FrameReader({
        keep: 0,
        onMessage: (_opcode, length) => {
          done({
            outcome: length === fragments ? "echoed" : `echo of ${length} B`,
            afterMs: performance.now() - began,
          });
        },
        onControl: (opcode, payload) => {
          if (opcode === OP_PING) socket.write(maskedFrame(OP_PONG, payload));
          if (opcode !== OP_CLOSE) return;
          closeFrame = parseClosePayload(payload);
          // Answer as a client should, then wait for the server to end the connection.
          socket.write(maskedFrame(OP_CLOSE, payload.subarray(0, 2)));
          done({ outcome: "refused", afterMs: performance.now() - began });
        },
      });
      socket.on("data", (chunk) => reader.push(chunk));
      socket.on("end", () => {
        sawEnd = true;
      });
      socket.on("error", (error) => {
        errorCode = error.code ?? "error";
      });
      socket.on("close", () =>
        done({ outcome: "connection closed", afterMs: performance.now() - began }),
      );
      socket.write(stream, () => {
        writtenMs = performance.now() - began;
      });
    });
  });
  return { wireBytesPerMessage: stream.length, connections: await Promise.all(outcomes) };
}

function describe(c) {
  if (c.outcome === "refused") {
    const reason = c.closeFrame.reason === "" ? "" : ` "${c.closeFrame.reason.slice(0, 30)}"`;
    return `close ${c.closeFrame.code}${reason}`;
  }
  if (c.outcome === "connection closed") return `closed, no close frame (${c.ending})`;
  return c.outcome;
}

export const columns = ["outcome", "time (min/p50/max s)"];

export function cells(run) {
  const r = run.result;
  if (r === undefined) return ["-", "-"];
  const times = spread(r.connections.map((c) => c.afterMs));
  const fmt = (ms) => (ms === null ? "-" : (ms / 1000).toFixed(2));
  return [
    tally(r.connections.map(describe), 2),
    times.n <= 1 ? fmt(times.min) : `${fmt(times.min)}/${fmt(times.p50)}/${fmt(times.max)}`,
  ];
}

export function details() {
  return [];
}
