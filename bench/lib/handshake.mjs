// The raw client's opening handshake (RFC 6455 section 4.1): one HTTP/1.1 upgrade request
// written on a plain TCP socket, the 101 response checked by hand. No HTTP client library, so
// the load generator depends on neither of the WebSocket implementations under test.
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_RESPONSE_HEAD = 8192;

/**
 * Opens one WebSocket connection. Resolves with the socket (paused from the caller's point of
 * view: no `data` listener left attached), any bytes that arrived after the response head, and
 * the negotiated permessage-deflate client window bits (null when not negotiated). `path` is the
 * request target (the Socket.IO bench asks for /socket.io/?EIO=4&transport=websocket).
 */
export function openWebSocket({ host, port, deflate, path = "/", timeoutMs = 10_000 }) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString("base64");
    const socket = connect({ host, port, noDelay: true });
    let head = Buffer.alloc(0);
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error("handshake timed out")), timeoutMs);
    socket.on("error", fail);
    socket.on("connect", () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: ${host}:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${key}`,
        "Sec-WebSocket-Version: 13",
      ];
      // What Chrome offers: context takeover both ways, the client may take any window.
      if (deflate)
        lines.push("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    const onData = (chunk) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const endOfHead = head.indexOf("\r\n\r\n");
      if (endOfHead === -1) {
        if (head.length > MAX_RESPONSE_HEAD) fail(new Error("response head too large"));
        return;
      }
      socket.off("data", onData);
      socket.off("error", fail);
      // Until the caller attaches its own listener, an error must not crash the process; the
      // caller sees the socket destroyed instead.
      socket.on("error", () => {});
      clearTimeout(timer);
      const checked = checkResponse(head.subarray(0, endOfHead).toString("latin1"), key, deflate);
      if (checked.error !== undefined) {
        socket.destroy();
        reject(new Error(checked.error));
        return;
      }
      resolve({
        socket,
        leftover: head.subarray(endOfHead + 4),
        clientWindowBits: checked.clientWindowBits,
      });
    };
    socket.on("data", onData);
  });
}

function checkResponse(text, key, deflate) {
  const [statusLine, ...headerLines] = text.split("\r\n");
  if (!/^HTTP\/1\.1 101\b/.test(statusLine)) return { error: `unexpected response: ${statusLine}` };
  const headers = new Map();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const expected = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  if (headers.get("sec-websocket-accept") !== expected)
    return { error: "bad Sec-WebSocket-Accept" };
  const extensions = headers.get("sec-websocket-extensions");
  if (!deflate) {
    if (extensions !== undefined) return { error: `unexpected extensions: ${extensions}` };
    return { clientWindowBits: null };
  }
  if (extensions === undefined || !/^permessage-deflate\b/.test(extensions)) {
    return { error: "server did not accept permessage-deflate" };
  }
  const bits = /client_max_window_bits\s*=\s*"?(\d+)"?/.exec(extensions);
  const clientWindowBits = bits === null ? 15 : Number(bits[1]);
  // zlib cannot produce a raw deflate stream for an 8-bit window (it silently uses 9).
  if (clientWindowBits < 9 || clientWindowBits > 15) {
    return { error: `unsupported client_max_window_bits=${clientWindowBits}` };
  }
  return { clientWindowBits };
}

/**
 * A plain TCP connection shaped like openWebSocket's result, for the Node TCP echo baseline and
 * the TCP idle row: no handshake.
 */
export function openTcp(host, port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      resolve({ socket, leftover: Buffer.alloc(0), clientWindowBits: null });
    });
  });
}

/**
 * Runs `open()` `count` times with at most `concurrency` opens in progress at once (no SYN
 * storm, no accept-queue overflow), and resolves with the results in order. The first failure
 * rejects; connections already opened are then destroyed, so none keeps the process alive.
 */
export async function openMany(count, concurrency, open) {
  const out = new Array(count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < count && !failed) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } catch (error) {
    failed = true;
    for (const opened of out) (opened?.socket ?? opened)?.destroy?.();
    throw error;
  }
  return out;
}
