/**
 * Node only (imported by `node.ts`, never by the browser entry): a fetch for one polling
 * transport with connections of its own. Node's global fetch shares one keep-alive pool per
 * process, so after a ping timeout the reconnection's handshake could go out on a kept-alive
 * connection to the path that just died and wait for the whole handshake timeout. Here each
 * transport has its own agents, destroyed when the transport is done, unless the options give an
 * `agent` (the caller's: used, never destroyed). The TLS options (`ca`, `cert`, `key`, `pfx`,
 * `passphrase`, `ciphers`, `rejectUnauthorized`) go to every https request. With the Manager's
 * cookie jar, each request carries the cookies the server set before, and keeps the ones it sets.
 * @module
 */
import {
  type Agent,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { TLS_OPTIONS } from "./engine/connection-options.js";
import type {
  CookieStoreLike,
  FetchLike,
  FetchResponseLike,
  NodeConnectionOptions,
  ScopedFetch,
} from "./engine/options.js";
import { withCookieHeader } from "./node-cookies.js";

/**
 * Creates the fetch and its `close()`, which destroys every connection it opened (its own agents;
 * a given `agent` is left alone).
 */
export function createScopedFetch(
  connection: NodeConnectionOptions = {},
  cookies?: CookieStoreLike,
): ScopedFetch {
  const given = connection.agent;
  const ownHttp = given ? undefined : new HttpAgent({ keepAlive: true });
  const ownHttps = given ? undefined : new HttpsAgent({ keepAlive: true });
  const tls: Record<string, unknown> = {};
  for (const name of TLS_OPTIONS) {
    if (connection[name] !== undefined) tls[name] = connection[name];
  }
  const fetch: FetchLike = (url, init) =>
    new Promise((resolve, reject) => {
      const signal = init.signal;
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      const target = new URL(url);
      const secure = target.protocol === "https:";
      const agent = (given || (secure ? ownHttps : ownHttp)) as Agent;
      const headers = withCookieHeader(init.headers, cookies?.header(target));
      const options: RequestOptions = { method: init.method, headers, agent };
      const request = secure
        ? httpsRequest(target, { ...tls, ...options })
        : httpRequest(target, options);
      request.on("response", (response) => {
        const setCookie = response.headers["set-cookie"];
        if (cookies !== undefined && setCookie !== undefined) cookies.store(target, setCookie);
        resolve(toResponse(response));
      });
      const onAbort = (): void => {
        request.destroy(abortError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      request.on("error", reject);
      request.on("close", () => signal?.removeEventListener("abort", onAbort));
      request.end(init.body);
    });
  return {
    fetch,
    close() {
      ownHttp?.destroy();
      ownHttps?.destroy();
    },
  };
}

/**
 * Bytes of an error response's body kept (the transport only looks for a short reason in it): a
 * server answering an error with an endless body cannot fill the memory.
 */
const MAX_ERROR_BODY = 4096;

/** The response as the polling transport reads it; the body is collected from the start. */
function toResponse(response: IncomingMessage): FetchResponseLike {
  const status = response.statusCode ?? 0;
  const ok = status >= 200 && status < 300;
  const body = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks).toString("utf8"));
    response.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (!ok && size >= MAX_ERROR_BODY) {
        done();
        response.destroy();
      }
    });
    response.on("end", done);
    response.on("error", reject);
    response.on("aborted", () => reject(new Error("the response was cut short")));
  });
  // A body nobody reads must not become an unhandled rejection.
  body.catch(() => undefined);
  return {
    ok,
    status,
    statusText: response.statusMessage ?? "",
    text: () => body,
    body: {
      cancel: async () => {
        response.destroy();
      },
    },
  };
}

function abortError(): Error {
  const error = new Error("This operation was aborted");
  error.name = "AbortError";
  return error;
}
