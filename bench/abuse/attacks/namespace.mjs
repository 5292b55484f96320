// Attack 4, huge namespace name: a Socket.IO CONNECT (40/<name>,) to a namespace whose name is
// 900 KB, over the WebSocket transport (under Engine.IO's default 1 MB message limit, so it is
// delivered). What comes back (how big, does it echo the name), and does the connection stay
// open and usable (a CONNECT to "/" answered afterwards)?
import { openWebSocket } from "../../lib/handshake.mjs";
import { endingOf } from "../lib/abuse-helpers.mjs";
import {
  FrameReader,
  maskedFrame,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseClosePayload,
} from "../lib/ws-frames.mjs";

export const name = "namespace";
export const title = "Attack 4: Socket.IO CONNECT to a 900 KB namespace name (WebSocket transport)";

export function cases(options) {
  return [
    {
      id: "namespace",
      label: `CONNECT to a ${options.namespaceKiB} KiB namespace name, then ${options.namespaceWaitS} s watching the connection`,
      servers: ["sio:duplexio", "sio:socket.io"],
      probe: "sio-echo",
      config: { nameBytes: options.namespaceKiB * 1024, waitMs: options.namespaceWaitS * 1000 },
    },
  ];
}

export async function orchestrate({ port, config, startAbuser }) {
  const abuser = await startAbuser({ ...config, port });
  const { result } = await abuser.next("result", config.waitMs + 60_000);
  return result;
}

export async function abuse({ port, nameBytes, waitMs }) {
  const { socket, leftover } = await openWebSocket({
    host: "127.0.0.1",
    port,
    deflate: false,
    path: "/socket.io/?EIO=4&transport=websocket",
  });
  const name = `/${"n".repeat(nameBytes - 1)}`;
  const probe = "n".repeat(10_000);
  const messages = [];
  let opened = null;
  let sentAt = null;
  let closeFrame = null;
  let closedAtMs = null;
  let sawEnd = false;
  let errorCode = null;
  let mainConnectAnswer = null;
  let mainSentAt = null;
  let onOpen;
  const openPacket = new Promise((resolve) => {
    onOpen = resolve;
  });
  const since = () => (sentAt === null ? null : Math.round(performance.now() - sentAt));
  const reader = new FrameReader({
    keep: nameBytes + 4096,
    onMessage: (_opcode, length, head) => {
      const text = head.toString();
      if (text === "2") return socket.write(maskedFrame(OP_TEXT, "3"));
      if (text.startsWith("0{")) {
        opened = text.slice(0, 200);
        return onOpen();
      }
      if (sentAt === null) return;
      const aboutName = text.includes(probe);
      if (mainSentAt !== null && !aboutName && mainConnectAnswer === null && /^4[04]/.test(text)) {
        mainConnectAnswer = { atMs: since(), text: text.slice(0, 80) };
        return;
      }
      messages.push({
        atMs: since(),
        length,
        start: text.slice(0, 60),
        echoesName: text.includes(name),
        containsNameStart: aboutName,
      });
    },
    onControl: (opcode, payload) => {
      if (opcode === OP_PING) socket.write(maskedFrame(OP_PONG, payload));
      if (opcode === OP_CLOSE && closeFrame === null)
        closeFrame = { ...parseClosePayload(payload), atMs: since() };
    },
  });
  socket.on("data", (chunk) => reader.push(chunk));
  socket.on("end", () => {
    sawEnd = true;
  });
  socket.on("error", (error) => {
    errorCode = error.code ?? "error";
  });
  const closed = new Promise((resolve) =>
    socket.on("close", () => {
      closedAtMs = since();
      resolve();
    }),
  );
  if (leftover.length > 0) reader.push(leftover);
  await Promise.race([openPacket, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (opened === null) {
    socket.destroy();
    return { error: "no Engine.IO open packet" };
  }
  sentAt = performance.now();
  socket.write(maskedFrame(OP_TEXT, `40${name},`));
  // Give the answer 2 s, then check the connection is still usable with a normal CONNECT to "/".
  await Promise.race([
    closed,
    new Promise((resolve) => setTimeout(resolve, Math.min(2000, waitMs))),
  ]);
  if (closedAtMs === null) {
    mainSentAt = performance.now();
    socket.write(maskedFrame(OP_TEXT, "40"));
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, waitMs))]);
  const stillOpen = closedAtMs === null;
  socket.destroy();
  return {
    sentBytes: name.length + 3,
    answers: messages,
    mainConnectAnswer,
    closeFrame,
    stillOpen,
    closedAtMs,
    ending: stillOpen ? "open" : endingOf({ sawEnd, errorCode }),
  };
}

export const columns = ["answer (size, first bytes)", "echoes name", "connection after"];

export function cells(run) {
  const r = run.result;
  if (r === undefined) return ["-", "-", "-"];
  if (r.error) return [r.error, "-", "-"];
  const first = r.answers[0];
  const answer =
    first === undefined
      ? "nothing"
      : `${first.length.toLocaleString("en-US")} B ${JSON.stringify(first.start.slice(0, 24))} after ${first.atMs} ms`;
  const echoes =
    first === undefined
      ? "-"
      : first.echoesName
        ? "YES (whole name)"
        : first.containsNameStart
          ? "partly"
          : "no";
  let after;
  if (r.stillOpen)
    after = r.mainConnectAnswer ? `open, "/" CONNECT answered` : 'open, "/" CONNECT unanswered';
  else {
    const frame = r.closeFrame === null ? "no close frame" : `close ${r.closeFrame.code}`;
    after = `closed after ${r.closedAtMs} ms (${frame}, ${r.ending})`;
  }
  return [answer, echoes, after];
}

export function details(run) {
  const r = run.result;
  if (r === undefined || r.error) return [];
  return [
    `messages after the CONNECT: ${r.answers.map((m) => `${m.length} B ${JSON.stringify(m.start.slice(0, 40))} @${m.atMs} ms`).join(", ") || "none"}`,
  ];
}
