/**
 * A polling request forwarded by another node, as the owner of the session runs it: a request
 * whose body is already complete, and a response that collects its status, headers and body and
 * hands them over once ended, to travel back. They offer what the engine uses of Node's
 * `IncomingMessage` and `ServerResponse` (and what Express-style middlewares commonly use), so
 * the engine serves them as it serves a request that arrived here.
 */
import { EventEmitter } from "node:events";
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeader,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import { Readable } from "node:stream";
import type { HeaderLines } from "../../protocol/cluster/session-forward.js";

/** Headers that describe one connection, not the request: never forwarded either way. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

/** Whether a header travels between nodes. */
export function isForwardedHeader(name: string): boolean {
  return !HOP_BY_HOP.has(name.toLowerCase());
}

/** The header lines of a received request that travel to the owner. */
export function requestHeaderLines(request: IncomingMessage): HeaderLines {
  const raw = request.rawHeaders;
  const lines: HeaderLines = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (isForwardedHeader(raw[i])) lines.push([raw[i], raw[i + 1]]);
  }
  return lines;
}

/** Header lines as Node's parsed headers (lower-case names, repeated ones joined). */
function parsedHeaders(lines: HeaderLines): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = Object.create(null);
  for (const [rawName, value] of lines) {
    const name = rawName.toLowerCase();
    const existing = headers[name];
    if (name === "set-cookie") {
      headers[name] = Array.isArray(existing) ? [...existing, value] : [value];
    } else if (existing === undefined) {
      headers[name] = value;
    } else {
      headers[name] = `${existing}${name === "cookie" ? "; " : ", "}${value}`;
    }
  }
  return headers as IncomingHttpHeaders;
}

/** A forwarded request: method, URL, headers, and its whole body (a readable stream). */
export class ForwardedRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly httpVersion = "1.1";
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** Set once the body has been read. */
  complete = false;
  /**
   * What middlewares commonly read of the connection: the client's address as the receiving node
   * saw it. Not a socket: the connection is the receiving node's.
   */
  readonly socket: { readonly remoteAddress: string | undefined; readonly encrypted: boolean };

  constructor(
    method: string,
    url: string,
    lines: HeaderLines,
    body: Uint8Array | null,
    address = "",
  ) {
    super();
    this.socket = { remoteAddress: address === "" ? undefined : address, encrypted: false };
    this.method = method;
    this.url = url;
    this.headers = parsedHeaders(lines);
    this.rawHeaders = lines.flat();
    if (body !== null && body.length > 0)
      this.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    this.push(null);
    this.once("end", () => {
      this.complete = true;
    });
  }

  override _read(): void {}

  /** As Node's type, for the engine's code. */
  asIncomingMessage(): IncomingMessage {
    return this as unknown as IncomingMessage;
  }
}

/** The answer of a forwarded request, once ended. */
export type ForwardedAnswer = (status: number, headers: HeaderLines, body: Buffer) => void;

/** A response whose status, headers and body go back to the node that forwarded the request. */
export class ForwardedResponse extends EventEmitter {
  readonly req: ForwardedRequest;
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  readonly #headers = new Map<string, [name: string, value: OutgoingHttpHeader]>();
  readonly #chunks: Buffer[] = [];
  readonly #onAnswer: ForwardedAnswer;

  constructor(request: ForwardedRequest, onAnswer: ForwardedAnswer) {
    super();
    this.req = request;
    this.#onAnswer = onAnswer;
  }

  /** As Node's type, for the engine's code. */
  asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }

  setHeader(name: string, value: OutgoingHttpHeader): this {
    this.#headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.#headers.get(name.toLowerCase())?.[1];
  }

  getHeaders(): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const [key, [, value]] of this.#headers) headers[key] = value;
    return headers;
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(
    status: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders,
    headers?: OutgoingHttpHeaders,
  ): this {
    this.statusCode = status;
    const fields = typeof reasonOrHeaders === "object" ? reasonOrHeaders : headers;
    if (fields !== undefined) {
      for (const [name, value] of Object.entries(fields)) {
        if (value !== undefined) this.setHeader(name, value);
      }
    }
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  write(chunk: string | Uint8Array, callback?: () => void): boolean {
    if (this.writableEnded || this.destroyed) return false;
    this.headersSent = true;
    this.#chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    if (callback) process.nextTick(callback);
    return true;
  }

  end(chunk?: string | Uint8Array | (() => void), callback?: () => void): this {
    if (typeof chunk === "function") {
      callback = chunk;
      chunk = undefined;
    }
    if (this.writableEnded) return this;
    if (chunk !== undefined && chunk.length > 0) this.write(chunk);
    this.writableEnded = true;
    this.headersSent = true;
    if (!this.destroyed) {
      const lines: HeaderLines = [];
      for (const [name, value] of this.#headers.values()) {
        if (!isForwardedHeader(name) || name.toLowerCase() === "content-length") continue;
        if (Array.isArray(value)) for (const item of value) lines.push([name, String(item)]);
        else lines.push([name, String(value)]);
      }
      this.#onAnswer(this.statusCode, lines, Buffer.concat(this.#chunks));
    }
    process.nextTick(() => {
      this.writableFinished = true;
      this.emit("finish");
      if (callback) callback();
      this.destroyed = true;
      this.emit("close");
    });
    return this;
  }

  /** The client went away before the answer (as a closed connection: "close" without "finish"). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }
}
