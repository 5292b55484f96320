import type { BinaryEncoding } from "./format.js";
import {
  type ParsedCommand,
  parseCommandOptions,
  stringList,
  stringOption,
  usageError,
} from "./options.js";

/** `duplexio connect --help`. */
export const CONNECT_USAGE = `Usage: duplexio connect <url> [options]

An interactive client: prints what arrives (with timestamps) and sends the lines you type. With
piped input it sends every line, then closes cleanly and exits once the input ends.

WebSocket (default; <url> is ws://, wss://, http:// or https://):
  --protocol P      offer subprotocol P (repeatable)
  lines are sent as text messages; commands:
    /ping [data]          send a ping (the pong is printed)
    /close [code] [reason]  close (code 1000 or 3000-4999) and exit
    /binary <hex>         send a binary message
    //text                send "/text"

Socket.IO (--socketio; <url> is http:// or https://, its path is the namespace):
  --namespace /x    namespace to join (default: the URL's path, else /)
  --auth JSON       the handshake's auth payload, e.g. '{"token":"abc"}'
  --path P          the server's Engine.IO path (default /socket.io/)
  --transport T     only "websocket" or only "polling" (default: polling, then upgrade)
  --ack-timeout MS  how long to wait for an acknowledgement (default 10000)
  lines are sent as "message" events; commands:
    emit <event> [json ...]   emit an event with JSON arguments and print the acknowledgement
                              (or that none came), e.g. emit chat "hello" {"to":"room1"} 42;
                              room commands are events too: emit join "room1"
    /close                    disconnect and exit
  With piped input it disconnects once every emit has its acknowledgement (or timed out);
  --wait keeps it listening for events that come later.

Both:
  --header "K: V"   extra handshake header (repeatable)
  --base64          show binary data as base64 (default hex)
  --timeout MS      how long the connection may take to open (default 10000)
  --wait S          once the input has ended, keep printing for S more seconds before closing

Ctrl-C (or SIGINT/SIGTERM) and Ctrl-D close the connection cleanly (WebSocket code 1000,
Socket.IO disconnect); the exit code is 0, or 1 when the server ended the connection abnormally.`;

/** What `duplexio connect` was asked to do. */
export interface ConnectOptions {
  mode: "websocket" | "socketio";
  /** The URL to connect to, with its scheme filled in (and the namespace as path, Socket.IO). */
  url: string;
  protocols: string[];
  headers: Record<string, string>;
  /** Socket.IO only. */
  auth: Record<string, unknown> | undefined;
  /** Socket.IO only: the Engine.IO path. */
  path: string | undefined;
  /** Socket.IO only: the one transport to use. */
  transport: "websocket" | "polling" | undefined;
  binaryEncoding: BinaryEncoding;
  /** Ms the connection may take to open. */
  timeoutMs: number;
  /** Socket.IO only: ms to wait for an acknowledgement. */
  ackTimeoutMs: number;
  /** Ms to keep the connection after the input ends. */
  waitMs: number;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-zA-Z-]+$/;

function parseUrl(text: string, socketIo: boolean, namespace: string | undefined): string {
  const withScheme = SCHEME.test(text) ? text : `${socketIo ? "http" : "ws"}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(`invalid URL "${text}"`, CONNECT_USAGE);
  }
  const schemes = socketIo
    ? ["http:", "https:", "ws:", "wss:"]
    : ["ws:", "wss:", "http:", "https:"];
  if (!schemes.includes(url.protocol))
    throw usageError(`unsupported URL scheme "${url.protocol}" in "${text}"`, CONNECT_USAGE);
  if (socketIo) {
    // socket.io-client takes http(s) URLs; ws(s) ones name the same server.
    if (url.protocol === "ws:") url.protocol = "http:";
    if (url.protocol === "wss:") url.protocol = "https:";
    if (namespace !== undefined) {
      if (!namespace.startsWith("/"))
        throw usageError(`invalid namespace "${namespace}": it starts with /`, CONNECT_USAGE);
      url.pathname = namespace;
    }
  }
  url.hash = "";
  return url.href;
}

function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = colon === -1 ? "" : line.slice(0, colon).trim();
    const value = colon === -1 ? "" : line.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value))
      throw usageError(`invalid header "${line}": expected "Name: value"`, CONNECT_USAGE);
    const known = Object.keys(headers).find((key) => key.toLowerCase() === name.toLowerCase());
    if (known === undefined) headers[name] = value;
    else headers[known] = `${headers[known]}, ${value}`;
  }
  return headers;
}

function parseAuth(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError(`--auth is not JSON: ${text}`, CONNECT_USAGE);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw usageError(`--auth must be a JSON object, e.g. '{"token":"abc"}'`, CONNECT_USAGE);
  return value as Record<string, unknown>;
}

function parseNumber(
  name: string,
  text: string | undefined,
  fallback: number,
  min: "zero" | "positive",
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const tooSmall = min === "zero" ? value < 0 : value <= 0;
  if (text.trim() === "" || !Number.isFinite(value) || tooSmall)
    throw usageError(
      `invalid --${name} "${text}": expected a ${min === "zero" ? "non-negative" : "positive"} number`,
      CONNECT_USAGE,
    );
  return value;
}

/** Flags of options that only mean something with --socketio. */
const SOCKET_IO_ONLY = ["namespace", "auth", "path", "transport", "ack-timeout"];

function fromParsed(parsed: ParsedCommand): ConnectOptions {
  const socketIo = parsed.values.socketio === true;
  const [target] = parsed.positionals;
  if (target === undefined) throw usageError("missing <url>", CONNECT_USAGE);
  if (!socketIo) {
    const misplaced = SOCKET_IO_ONLY.find((name) => parsed.values[name] !== undefined);
    if (misplaced !== undefined) throw usageError(`--${misplaced} needs --socketio`, CONNECT_USAGE);
  } else if (stringList(parsed, "protocol").length > 0) {
    throw usageError("--protocol is for WebSocket mode, not with --socketio", CONNECT_USAGE);
  }
  const transport = stringOption(parsed, "transport");
  if (transport !== undefined && transport !== "websocket" && transport !== "polling")
    throw usageError(`invalid --transport "${transport}": websocket or polling`, CONNECT_USAGE);
  const protocols = stringList(parsed, "protocol");
  const badProtocol = protocols.find((p) => !HEADER_NAME.test(p));
  if (badProtocol !== undefined)
    throw usageError(`invalid subprotocol "${badProtocol}"`, CONNECT_USAGE);
  return {
    mode: socketIo ? "socketio" : "websocket",
    url: parseUrl(target, socketIo, stringOption(parsed, "namespace")),
    protocols,
    headers: parseHeaders(stringList(parsed, "header")),
    auth: parseAuth(stringOption(parsed, "auth")),
    path: stringOption(parsed, "path"),
    transport,
    binaryEncoding: parsed.values.base64 === true ? "base64" : "hex",
    timeoutMs: Math.round(
      parseNumber("timeout", stringOption(parsed, "timeout"), 10000, "positive"),
    ),
    ackTimeoutMs: Math.round(
      parseNumber("ack-timeout", stringOption(parsed, "ack-timeout"), 10000, "positive"),
    ),
    waitMs: Math.round(parseNumber("wait", stringOption(parsed, "wait"), 0, "zero") * 1000),
  };
}

/** Parses `duplexio connect` arguments; null when --help was asked for. Bad usage: CliError (2). */
export function parseConnectOptions(argv: string[]): ConnectOptions | null {
  const parsed = parseCommandOptions(
    argv,
    {
      protocol: { type: "string", multiple: true },
      header: { type: "string", multiple: true },
      socketio: { type: "boolean" },
      namespace: { type: "string" },
      auth: { type: "string" },
      path: { type: "string" },
      transport: { type: "string" },
      base64: { type: "boolean" },
      timeout: { type: "string" },
      "ack-timeout": { type: "string" },
      wait: { type: "string" },
    },
    CONNECT_USAGE,
    1,
  );
  if (parsed.values.help === true) return null;
  return fromParsed(parsed);
}
