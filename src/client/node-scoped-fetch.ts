/**
 * Node only (imported by `node.ts`, never by the browser entry): a fetch for one polling
 * transport with connections of its own. Node's global fetch shares one keep-alive pool per
 * process, so after a ping timeout the reconnection's handshake could go out on a kept-alive
 * connection to the path that just died and wait for the whole handshake timeout. Here each
 * transport has its own agents, destroyed when the transport is done.
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { FetchLike, FetchResponseLike, ScopedFetch } from "./engine/options.js";

/** Creates the fetch and its `close()`, which destroys every connection it opened. */
export function createScopedFetch(): ScopedFetch {
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  const fetch: FetchLike = (url, init) =>
    new Promise((resolve, reject) => {
      const signal = init.signal;
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      const target = new URL(url);
      const secure = target.protocol === "https:";
      const request = (secure ? httpsRequest : httpRequest)(
        target,
        { method: init.method, headers: init.headers, agent: secure ? httpsAgent : httpAgent },
        (response) => resolve(toResponse(response)),
      );
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
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The response as the polling transport reads it; the body is collected from the start. */
function toResponse(response: IncomingMessage): FetchResponseLike {
  const status = response.statusCode ?? 0;
  const body = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
    response.on("aborted", () => reject(new Error("the response was cut short")));
  });
  // A body nobody reads must not become an unhandled rejection.
  body.catch(() => undefined);
  return {
    ok: status >= 200 && status < 300,
    status,
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
