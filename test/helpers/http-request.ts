/**
 * One plain HTTP request to a server on 127.0.0.1, on a connection of its own, bounded in time:
 * for tests that look at an HTTP answer (status and body) without a client library.
 */
import { request } from "node:http";
import { withTimeout } from "./timing.js";

/** Sends `method path` (with `body`, if any); resolves with the status and the body as text. */
export function httpRequest(
  port: number,
  path: string,
  method = "GET",
  body?: string,
): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    }),
    5000,
    `${method} ${path}`,
  );
}
