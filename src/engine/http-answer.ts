/**
 * Answers to HTTP requests whose body the server will not read: an oversized polling POST (413),
 * a refused request that carries a body (400), without resetting the connection under the client.
 *
 * Closing a TCP connection while unread bytes sit in its receive buffer makes the kernel send a
 * reset (RST) rather than a FIN, and the reset can overtake or erase the answer: the sender's next
 * write fails with EPIPE or ECONNRESET, and many clients (Node's `net` and `http`, Python's
 * `http.client`, load generators) then report that error and never read the answer that had
 * arrived. So when the body is still coming, the answer goes out with `Connection: close` and the
 * rest of the body is read and dropped (a "lingering close", RFC 9112 section 9.6) until the client
 * has sent it all or gives up, stops sending for {@link LINGER_IDLE_MS}, or {@link LINGER_MAX_MS}
 * have passed; only then does the connection close. Nothing is kept: the cost is bounded in time
 * and nil in memory.
 * @module
 */

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/** Longest time a connection is kept reading a refused body (nginx's `lingering_time` is 30 s). */
export const LINGER_MAX_MS = 5000;
/** The connection closes once the client has sent nothing for this long while lingering. */
export const LINGER_IDLE_MS = 1000;

/**
 * Writes a complete answer (`status`, `headers`, `body`) to `request`. When the request's body is
 * still unread, the connection is closed afterwards, politely (see the module comment); otherwise
 * Node's keep-alive rules apply as usual. Does nothing if the response already started.
 */
export function answerWithoutBody(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: string,
): void {
  if (response.headersSent || response.writableEnded) return;
  headers["Content-Length"] = Buffer.byteLength(body);
  if (!hasUnreadBody(request)) {
    response.writeHead(status, headers);
    response.end(body);
    return;
  }
  headers.Connection = "close";
  response.writeHead(status, headers);
  // The answer is complete (Content-Length) and on its way; the response stays open only so that
  // Node does not close the socket, which it does as soon as a `Connection: close` response ends.
  if (body.length > 0) response.write(body);
  else response.flushHeaders();
  linger(request, response);
}

/** Whether body bytes of `request` may still arrive. */
function hasUnreadBody(request: IncomingMessage): boolean {
  if (request.complete || request.readableEnded || request.destroyed) return false;
  const length = request.headers["content-length"];
  return (
    request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
  );
}

/** Reads and drops the rest of the body, then ends the response (and so the connection). */
function linger(request: IncomingMessage, response: ServerResponse): void {
  const finish = (): void => {
    clearTimeout(idleTimer);
    clearTimeout(maxTimer);
    request.off("data", onData);
    request.off("end", finish);
    request.off("close", finish);
    // With the body read, Node's close of the socket is a FIN. At the deadline, bytes may still be
    // unread and the close a reset, but by then the answer has long been delivered.
    if (!response.writableEnded) response.end();
  };
  const onData = (): void => {
    idleTimer.refresh();
  };
  const idleTimer = setTimeout(finish, LINGER_IDLE_MS);
  const maxTimer = setTimeout(finish, LINGER_MAX_MS);
  // The connection itself keeps the process alive as long as it matters.
  idleTimer.unref();
  maxTimer.unref();
  request.on("data", onData);
  request.once("end", finish);
  request.once("close", finish);
  request.resume();
}
