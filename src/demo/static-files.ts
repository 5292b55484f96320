/**
 * Serves the demo's pages and their scripts from `examples/chat/public/`.
 *
 * Only the files listed here are served, by exact URL path: a request path is never joined to a
 * directory, so `/../../etc/passwd` and friends cannot reach anything. Files are read on each
 * request (they are small, and an edited page shows on reload without a restart).
 * @module
 */

import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the browser side of the demo lives (the same from `src/demo/` and `dist/demo/`). */
export const PUBLIC_DIRECTORY = new URL("../../examples/chat/public/", import.meta.url);

/** URL path -> file name in the public directory. */
const ROUTES: ReadonlyMap<string, string> = new Map([
  ["/", "index.html"],
  ["/index.html", "index.html"],
  ["/dashboard", "dashboard.html"],
  ["/chat.js", "chat.js"],
  ["/plain-websocket.js", "plain-websocket.js"],
  ["/dashboard.js", "dashboard.js"],
  ["/style.css", "style.css"],
]);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/**
 * What the pages may load: only this server's scripts, styles and connections (`'self'` covers
 * ws:// to the same host). No inline scripts, so even an escaping mistake in the page could not
 * run injected code.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Answers `request` if its path is one of the demo's files and returns true; returns false
 * (leaving the response alone) for any other path.
 */
export function serveStaticFile(
  request: IncomingMessage,
  response: ServerResponse,
  directory: URL = PUBLIC_DIRECTORY,
): boolean {
  const url = request.url ?? "/";
  const queryAt = url.indexOf("?");
  const file = ROUTES.get(queryAt === -1 ? url : url.slice(0, queryAt));
  if (file === undefined) return false;
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" });
    response.end("Method Not Allowed\n");
    return true;
  }
  readFile(new URL(file, directory)).then(
    (body) => {
      if (response.headersSent || response.destroyed) return;
      const extension = file.slice(file.lastIndexOf(".") + 1);
      response.writeHead(200, {
        "Content-Type": CONTENT_TYPES[extension] ?? "application/octet-stream",
        "Content-Length": body.length,
        // Revalidate every time: the files may change while the server runs.
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        ...(extension === "html" ? { "Content-Security-Policy": CONTENT_SECURITY_POLICY } : {}),
      });
      response.end(request.method === "HEAD" ? undefined : body);
    },
    () => {
      // A missing file is an installation problem, not the client's: say so.
      if (response.headersSent || response.destroyed) return;
      response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
      response.end(`The demo's file ${file} is missing from ${directory.pathname}\n`);
    },
  );
  return true;
}
