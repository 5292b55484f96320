import { type RawData, WebSocket } from "../websocket/index.js";
import {
  describeConnectFailure,
  describeUnexpectedResponse,
  findErrorCode,
  findSocketIoPath,
  responseReason,
} from "./connect-errors.js";
import type { ConnectOptions } from "./connect-options.js";
import { CliError } from "./errors.js";
import { formatBinary, parseHex } from "./format.js";
import { deferred, type Printer, type Session } from "./session.js";

/** Ms the closing handshake may take before the connection is dropped. */
const CLOSE_TIMEOUT_MS = 5000;

const HELP = [
  "commands: /ping [data], /close [code] [reason], /binary <hex>, //text sends /text;",
  "other lines are sent as text messages",
].join(" ");

/** Close codes a peer uses when all went well: 1000 normal, 1001 going away, 1005 none given. */
const NORMAL_CLOSE_CODES = new Set([1000, 1001, 1005]);

/** Bytes of a refused handshake's body read for the server's reason. */
const MAX_REASON_BYTES = 4096;

/**
 * `; a Socket.IO server answers at /socket.io/: try "duplexio connect --socketio http://host/"`
 * when a Socket.IO server answers at the URL's path (or /socket.io/), else "". Socket.IO servers
 * refuse a plain WebSocket (HTTP 400 "Transport unknown") or hang up on it (other paths).
 */
async function socketIoHint(url: string): Promise<string> {
  const path = await findSocketIoPath(url);
  if (path === null) return "";
  const target = new URL(url);
  const origin = `${target.protocol === "wss:" || target.protocol === "https:" ? "https" : "http"}://${target.host}/`;
  const pathFlag = path === "/socket.io/" ? "" : ` --path ${path}`;
  return `; a Socket.IO server answers at ${path}: try "duplexio connect --socketio ${origin}${pathFlag}"`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data as ArrayBuffer);
}

/**
 * `duplexio connect <url>` over plain WebSocket, with duplexio's own client. Text arrives as
 * text, binary as hex (or base64) with its length; pings and pongs are shown.
 */
export function openWebSocketSession(
  options: ConnectOptions,
  print: Printer,
  showSent: boolean,
): Session {
  const opened = deferred<void>();
  const finished = deferred<number>();
  let failure: string | null = null;
  let closingByUs = false;

  const fail = (message: string, exitCode = 1) => {
    opened.reject(new CliError(message, exitCode));
    finished.resolve(exitCode);
  };

  let ws: WebSocket;
  try {
    ws = new WebSocket(options.url, options.protocols, {
      headers: options.headers,
      handshakeTimeout: options.timeoutMs,
      closeTimeout: CLOSE_TIMEOUT_MS,
    });
  } catch (error) {
    fail(`cannot connect to ${options.url}: ${errorMessage(error)}`, 2);
    return {
      opened: opened.promise,
      finished: finished.promise,
      handleLine() {},
      end() {},
      abort() {},
    };
  }

  /** Whether the server answered the handshake or hung up on it (not a network failure). */
  let answered = false;
  ws.on("unexpected-response", (request, response) => {
    answered = true;
    const location = response.headers.location;
    const describe = (reason?: string): string =>
      describeUnexpectedResponse(
        response.statusCode ?? 0,
        response.statusMessage,
        typeof location === "string" ? location : undefined,
        reason,
      );
    failure = describe();
    // A short body may say why (Engine.IO: "Transport unknown"); the exchange ends once it is
    // read (or cut at MAX_REASON_BYTES), and the handshake timeout bounds the wait.
    const chunks: Buffer[] = [];
    let size = 0;
    response.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_REASON_BYTES) request.destroy();
    });
    response.on("end", () => {
      failure = describe(responseReason(Buffer.concat(chunks).toString("utf8")));
      request.destroy();
    });
    // Cut short (by us, or the server): the status alone says enough.
    response.on("error", () => {});
  });
  let isOpen = false;
  ws.on("error", (error) => {
    if (!isOpen && failure === null && !closingByUs) {
      // A server hanging up on the handshake (a Socket.IO server does, on other paths) answered.
      if (findErrorCode(error) === "ECONNRESET") answered = true;
      failure = /handshake has timed out/i.test(error.message)
        ? `cannot connect to ${options.url}: no handshake answer within ${options.timeoutMs} ms`
        : describeConnectFailure(options.url, error);
    }
    if (failure === null) print("*", `error: ${error.message}`);
  });
  ws.on("open", () => {
    isOpen = true;
    const protocol = ws.protocol === "" ? "no subprotocol" : `subprotocol ${ws.protocol}`;
    const extensions = ws.extensions === "" ? "no extensions" : `extensions ${ws.extensions}`;
    print("*", `connected to ${ws.url} (${protocol}, ${extensions})`);
    opened.resolve();
  });
  ws.on("message", (data, isBinary) => {
    const bytes = asBytes(data);
    print("<", isBinary ? formatBinary(bytes, options.binaryEncoding) : bytes.toString());
  });
  ws.on("ping", (data) => print("<", `ping${data.length > 0 ? ` ${data.toString()}` : ""}`));
  ws.on("pong", (data) => print("<", `pong${data.length > 0 ? ` ${data.toString()}` : ""}`));
  ws.on("close", (code, reason) => {
    if (!isOpen) {
      const message = failure ?? `cannot connect to ${options.url}: connection closed`;
      if (closingByUs) fail("interrupted while connecting", 130);
      else if (!answered) fail(message);
      // A server that refused: maybe a Socket.IO server, which needs --socketio.
      else socketIoHint(options.url).then((hint) => fail(`${message}${hint}`));
      return;
    }
    const text = reason.length > 0 ? ` ${reason.toString()}` : "";
    print("*", `closed: ${code}${text}${closingByUs ? "" : " (by the server)"}`);
    finished.resolve(code !== 1006 && (closingByUs || NORMAL_CLOSE_CODES.has(code)) ? 0 : 1);
  });

  /** Starts the closing handshake; false (and a line saying why) when the code or reason is bad. */
  const close = (code?: number, reason?: string): boolean => {
    const before = closingByUs;
    // Set first: closing while connecting reports its error and close synchronously.
    closingByUs = true;
    try {
      ws.close(code, reason);
    } catch (error) {
      closingByUs = before;
      print("*", `cannot close: ${errorMessage(error)}`);
      return false;
    }
    return true;
  };

  const send = (data: string | Buffer, binary: boolean, shown: string): void => {
    if (ws.readyState !== WebSocket.OPEN) {
      print("*", "not sent: the connection is closing");
      return;
    }
    ws.send(data, { binary });
    if (showSent) print(">", shown);
  };

  const command = (name: string, rest: string): void => {
    switch (name) {
      case "/ping":
        try {
          ws.ping(rest);
          if (showSent) print(">", `ping${rest ? ` ${rest}` : ""}`);
        } catch (error) {
          print("*", `cannot ping: ${errorMessage(error)}`);
        }
        return;
      case "/close": {
        const match = /^(\S+)?\s*([\s\S]*)$/.exec(rest);
        const codeText = match?.[1];
        const code = codeText === undefined ? 1000 : Number(codeText);
        if (!Number.isInteger(code)) {
          print("*", `invalid close code "${codeText}": 1000 or 3000-4999`);
          return;
        }
        const reason = match?.[2] ?? "";
        if (close(code, reason) && showSent)
          print(">", `close ${code}${reason ? ` ${reason}` : ""}`);
        return;
      }
      case "/binary": {
        const bytes = parseHex(rest);
        if (bytes === null) print("*", "usage: /binary <hex bytes>, e.g. /binary 0102ff");
        else send(bytes, true, formatBinary(bytes, options.binaryEncoding));
        return;
      }
      case "/help":
        print("*", HELP);
        return;
      default:
        print("*", `unknown command ${name} (/help lists them; //text sends /text)`);
    }
  };

  return {
    opened: opened.promise,
    finished: finished.promise,
    handleLine(line) {
      if (line.startsWith("//")) {
        send(line.slice(1), false, line.slice(1));
        return;
      }
      if (line.startsWith("/")) {
        const space = line.search(/\s/);
        const name = space === -1 ? line : line.slice(0, space);
        command(name, space === -1 ? "" : line.slice(space + 1));
        return;
      }
      send(line, false, line);
    },
    end() {
      if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
      close(1000);
    },
    abort() {
      closingByUs = true;
      ws.terminate();
    },
  };
}
