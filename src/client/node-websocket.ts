/**
 * Node only (imported by `node.ts`, never by the browser entry): the WebSocket the client uses in
 * Node. It is duplexio's own WebSocket client, except that a handshake the server answers with
 * anything but 101 fails with an error that says how: the HTTP status, its text and the server's
 * reason from a short body (Engine.IO answers a refused upgrade with 400 and "Session ID unknown",
 * "Transport unknown"...), where the plain client only says "Unexpected server response: 400".
 * Given the Manager's cookie jar (`cookies` among the options), the handshake carries its
 * cookies, and the cookies of the server's answer are kept.
 * @module
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import { WebSocket, type WebSocketOptions } from "../websocket/index.js";
import type { CookieStoreLike } from "./engine/options.js";
import { reasonFromBody } from "./engine/transport.js";
import { withCookieHeader } from "./node-cookies.js";

/** Bytes of a refusal's body read for the server's reason. */
const MAX_REASON_BODY = 4096;
/** How long reading that body may delay the error. */
const REASON_WAIT_MS = 1000;

/**
 * A refused WebSocket handshake: `statusCode`, `statusMessage` and `reason` are what the client's
 * WebSocket transport reads to describe it (see `TransportError.status`).
 */
export class HandshakeRefusedError extends Error {
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly reason: string | undefined,
  ) {
    super(
      `Unexpected server response: ${statusCode}${statusMessage ? ` ${statusMessage}` : ""}${reason ? ` (${reason})` : ""}`,
    );
    this.name = "HandshakeRefusedError";
  }
}

/** duplexio's WebSocket client, reporting refused handshakes with their status and reason. */
export class ClientWebSocket extends WebSocket {
  constructor(
    url: string,
    protocols?: string | string[],
    options?: WebSocketOptions & { cookies?: CookieStoreLike },
  ) {
    const { cookies, ...rest } = options ?? {};
    const target = cookies === undefined ? undefined : new URL(url);
    const headers = target && withCookieHeader(rest.headers, cookies?.header(target));
    super(url, protocols ?? [], headers === undefined ? rest : { ...rest, headers });
    if (cookies !== undefined && target !== undefined) {
      const keep = (response: IncomingMessage): void => {
        const setCookie = response.headers["set-cookie"];
        if (setCookie !== undefined) cookies.store(target, setCookie);
      };
      this.on("upgrade", keep);
      this.on("unexpected-response", (_request, response) => keep(response));
    }
    this.on("unexpected-response", (request, response) => this.#refused(request, response));
  }

  /**
   * Reads up to {@link MAX_REASON_BODY} bytes of the answer for {@link REASON_WAIT_MS} at most,
   * reports the error, then ends the exchange (the base class then reports `close` 1006).
   */
  #refused(request: ClientRequest, response: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let reported = false;
    const report = (): void => {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      // Closed meanwhile (the client gave up): nobody to tell.
      if (this.readyState !== WebSocket.CLOSED && this.listenerCount("error") > 0) {
        const body = Buffer.concat(chunks).toString("utf8");
        const error = new HandshakeRefusedError(
          response.statusCode ?? 0,
          response.statusMessage ?? "",
          reasonFromBody(body),
        );
        this.emit("error", error);
      }
      response.destroy();
      request.destroy();
    };
    const timer = setTimeout(report, REASON_WAIT_MS);
    response.on("data", (chunk: Buffer) => {
      if (size < MAX_REASON_BODY) chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_REASON_BODY) report();
    });
    response.on("end", report);
    response.on("error", report);
    // The client closed while the answer was being read.
    this.once("close", report);
  }
}
