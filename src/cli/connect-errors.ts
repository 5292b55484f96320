import { request as httpRequest, type IncomingMessage, STATUS_CODES } from "node:http";
import { request as httpsRequest } from "node:https";
import { reasonFromBody } from "../client/engine/transport.js";

/** Plain words for the network errors a user meets when a server is not where they think. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (temporary)",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed by the server",
};

/**
 * What an error wraps: `cause`, the Socket.IO client's `description` (an Error or an ErrorEvent,
 * whose `error` is the network error), AggregateError's `errors`.
 */
function wrappedErrors(error: object): unknown[] {
  const { cause, description, error: inner, errors } = error as Record<string, unknown>;
  return [cause, description, inner, ...(Array.isArray(errors) ? errors : [])];
}

/** The message of the innermost wrapped error (the most specific one), if any. */
function innermostMessage(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  for (const inner of wrappedErrors(error)) {
    const found = innermostMessage(inner, depth + 1);
    if (found !== undefined) return found;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

/** The errno-style code of an error or of the errors it wraps (`cause`, AggregateError). */
export function findErrorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code in NETWORK_ERRORS) return code;
  const nested = wrappedErrors(error);
  for (const inner of nested) {
    const found = findErrorCode(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `cannot connect to <url>: connection refused` (or the error's own message). */
export function describeConnectFailure(url: string, error: unknown): string {
  const code = findErrorCode(error);
  if (code !== undefined) return `cannot connect to ${url}: ${NETWORK_ERRORS[code]}`;
  const message = error instanceof Error ? error.message : String(error);
  const detail = innermostMessage(error);
  const reason =
    detail === undefined || message.includes(detail) ? message : `${message} (${detail})`;
  return `cannot connect to ${url}: ${reason}`;
}

/** The hint for an answer that no Socket.IO server gives at its path. */
export const NOT_SOCKET_IO = "is this a Socket.IO server? check --path";

/**
 * For `connect --socketio`: what an HTTP answer says about the server, from the client's
 * TransportError (`status`, `url`, `reason`) or its parse error on the handshake. A 404, an answer
 * that is not Engine.IO, or a WebSocket handshake answered without switching protocols: most
 * likely not a Socket.IO server at this path (`http://host/socket.io/ answered 404 Not Found: is
 * this a Socket.IO server? check --path`). Other refusals are the server's: its status and
 * reason. Undefined when the error is none of these (a network failure).
 */
export function describeNotSocketIo(error: unknown): string | undefined {
  const { status, url, reason, message } = error as {
    status?: unknown;
    url?: unknown;
    reason?: unknown;
    message?: unknown;
  };
  if (typeof status === "number" && typeof url === "string") {
    // The user typed http(s): the WebSocket endpoint is shown the same way.
    const endpoint = url.replace(/^ws/, "http");
    const text = STATUS_CODES[status];
    const answered = `${endpoint} answered ${status}${text ? ` ${text}` : ""}`;
    if (status === 404 || status < 400) return `${answered}: ${NOT_SOCKET_IO}`;
    return typeof reason === "string" ? `${answered}: ${reason}` : answered;
  }
  // The client's parse error on the handshake: `<url> answered HTTP 200 with something that is
  // not Engine.IO (...)`.
  const garbage =
    typeof message === "string"
      ? /\((\S+) answered HTTP (\d+) with something that is not Engine\.IO/.exec(message)
      : null;
  if (garbage === null) return undefined;
  const [, endpoint, code] = garbage;
  const text = STATUS_CODES[Number(code)];
  return `${endpoint} answered ${code}${text ? ` ${text}` : ""} with something other than Engine.IO: ${NOT_SOCKET_IO}`;
}

/**
 * The answer of a server that did not switch to WebSocket: `handshake refused: HTTP 403 Forbidden`
 * for errors (4xx, 5xx), `server did not upgrade: HTTP 200 OK` for the rest (not a WebSocket
 * endpoint, or a redirect, whose target is named); the server's reason from the body, when it gave
 * a short one, in parentheses.
 */
export function describeUnexpectedResponse(
  statusCode: number,
  statusMessage: string | undefined,
  location?: string,
  reason?: string,
): string {
  const text = statusMessage || STATUS_CODES[statusCode] || "";
  const status = `HTTP ${statusCode}${text ? ` ${text}` : ""}`;
  const because = reason && reason.toLowerCase() !== text.toLowerCase() ? ` (${reason})` : "";
  if (statusCode >= 400) return `handshake refused: ${status}${because}`;
  const target = location !== undefined ? ` (to ${location})` : "";
  return `server did not upgrade: ${status}${target}${because}`;
}

/** The server's reason in a refused handshake's body (Engine.IO's "Transport unknown", ...). */
export function responseReason(body: string): string | undefined {
  return reasonFromBody(body);
}

/** How long looking for a Socket.IO server may take. */
const PROBE_TIMEOUT_MS = 2000;
/** Bytes of the probe's answer read: an Engine.IO handshake is far shorter. */
const PROBE_MAX_BYTES = 4096;

/**
 * For `connect` in WebSocket mode when the handshake failed: whether a Socket.IO server answers at
 * the URL's path (or at /socket.io/ when the URL has none), with an Engine.IO polling handshake
 * (`GET <path>?EIO=4&transport=polling`, answered with `0{"sid":...}`). The session it opened is
 * closed at once (a close packet). Resolves to the path where one answered, or null; never
 * rejects, and gives up after {@link PROBE_TIMEOUT_MS}.
 */
export function findSocketIoPath(target: string): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve(null);
  }
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  const path = url.pathname === "/" ? "/socket.io/" : url.pathname;
  const base = `${secure ? "https" : "http"}://${url.host}${path}?EIO=4&transport=polling`;
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const request = send(base, { timeout: PROBE_TIMEOUT_MS }, (response: IncomingMessage) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
        if (body.length > PROBE_MAX_BYTES) response.destroy();
      });
      response.on("close", () => {
        const sid =
          response.statusCode === 200 ? /^0\{.*"sid":"([^"]+)"/.exec(body)?.[1] : undefined;
        if (sid === undefined) {
          resolve(null);
          return;
        }
        resolve(path);
        // Close the session the probe opened rather than leave it to the server's ping timeout.
        send(`${base}&sid=${encodeURIComponent(sid)}`, {
          method: "POST",
          timeout: PROBE_TIMEOUT_MS,
        })
          .on("response", (answer: IncomingMessage) => answer.resume())
          .on("timeout", function (this: { destroy(): void }) {
            this.destroy();
          })
          .on("error", () => {})
          .end("1");
      });
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(null));
    request.end();
  });
}
