/**
 * Serves the browser bundles of `duplexio/client` next to the Socket.IO endpoint, as socket.io's
 * `serveClient` does: `<path>/duplexio.min.js` (and the socket.io names `socket.io.min.js`,
 * `socket.io.js`) give the classic script defining the global `io`, `<path>/duplexio.esm.min.js`
 * the ES module, each with its `.map`. Responses carry an ETag (304 on a matching If-None-Match)
 * and are gzipped when the client accepts it; files are read and compressed once, then kept in
 * memory.
 * @module
 */

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";

const gzip = promisify(gzipCallback);

/** The bundle files `scripts/build-client.mjs` writes. */
const IIFE_FILE = "duplexio.min.js";
const ESM_FILE = "duplexio.esm.min.js";

/** Requested name -> file of the bundle directory. */
const SERVED_NAMES: ReadonlyMap<string, string> = new Map(
  [
    [IIFE_FILE, IIFE_FILE],
    ["socket.io.min.js", IIFE_FILE],
    ["socket.io.js", IIFE_FILE],
    [ESM_FILE, ESM_FILE],
    ["socket.io.esm.min.js", ESM_FILE],
  ].flatMap(([name, file]) => [
    [name, file],
    // Every name of a bundle has its map, so a browser following the comment of either finds it.
    [`${name}.map`, `${file}.map`],
  ]) as [string, string][],
);

/** Extensions of requests under the path that are file requests, not Engine.IO requests. */
const FILE_REQUEST = /\.(?:js|map)$/;

/** Where the bundles are looked for, first match wins. */
const DEFAULT_DIRECTORIES = [
  // Running from the package: dist/server/serve-client.js next to dist/client/.
  new URL("../client/", import.meta.url),
  // Running from the sources (src/server/serve-client.ts): the build output of the repository.
  new URL("../../dist/client/", import.meta.url),
];

/** Answers a request if it is for a client bundle file; false leaves it to the next handler. */
export type ClientBundleHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/** Options of {@link createClientBundleHandler}. */
export interface ClientBundleHandlerOptions {
  /**
   * The directory holding `duplexio.min.js`, `duplexio.esm.min.js` and their maps (a path, or a
   * `file:` URL ending with a slash). Default: the package's `dist/client`.
   */
  directory?: string | URL;
}

/** A file as served: its bytes, their gzip, and the validator. */
interface LoadedFile {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
  contentType: string;
}

/**
 * Creates the handler serving the client bundles under `path` (the Socket.IO path, e.g.
 * `"/socket.io"`; a trailing slash is ignored). It answers GET and HEAD of the bundle names, 404
 * to other `.js`/`.map` files under the path, and returns false for anything else (Engine.IO
 * requests included) without touching the response. It never throws.
 *
 * Hook it before the Engine.IO routing: `if (serveClient && handler(req, res)) return;`.
 */
export function createClientBundleHandler(
  path: string,
  options: ClientBundleHandlerOptions = {},
): ClientBundleHandler {
  const prefix = `${path.replace(/\/+$/, "")}/`;
  const directories = options.directory === undefined ? DEFAULT_DIRECTORIES : [options.directory];
  const cache = new Map<string, Promise<LoadedFile | undefined>>();

  const load = (file: string): Promise<LoadedFile | undefined> => {
    let loading = cache.get(file);
    if (loading === undefined) {
      loading = loadFile(directories, file);
      cache.set(file, loading);
      // A bundle that was not built yet may be built later: try again on the next request.
      loading.then(
        (loaded) => {
          if (loaded === undefined) cache.delete(file);
        },
        () => cache.delete(file),
      );
    }
    return loading;
  };

  return (request, response) => {
    const url = request.url ?? "";
    const queryAt = url.indexOf("?");
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    if (!pathname.startsWith(prefix)) return false;
    const name = pathname.slice(prefix.length);
    if (name.includes("/") || !FILE_REQUEST.test(name)) return false;
    const file = SERVED_NAMES.get(name);
    if (file === undefined) {
      sendText(response, 404, "Not Found");
      return true;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      sendText(response, 405, "Method Not Allowed");
      return true;
    }
    load(file).then(
      (loaded) => {
        if (loaded === undefined) {
          sendText(response, 404, "Client bundle not built (npm run build:client)");
        } else {
          sendFile(request, response, loaded);
        }
      },
      () => sendText(response, 500, "Internal Server Error"),
    );
    return true;
  };
}

async function loadFile(
  directories: readonly (string | URL)[],
  file: string,
): Promise<LoadedFile | undefined> {
  for (const directory of directories) {
    const location =
      directory instanceof URL
        ? new URL(file, directory)
        : `${directory.replace(/\/+$/, "")}/${file}`;
    let body: Buffer;
    try {
      body = await readFile(location);
    } catch {
      continue;
    }
    return {
      body,
      gzipped: await gzip(body, { level: 9 }),
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
      contentType: file.endsWith(".map")
        ? "application/json; charset=utf-8"
        : "application/javascript; charset=utf-8",
    };
  }
  return undefined;
}

function sendFile(request: IncomingMessage, response: ServerResponse, file: LoadedFile): void {
  if (response.headersSent || response.destroyed) return;
  response.setHeader("ETag", file.etag);
  // Browsers may keep the bundle but must check it is still current (a deploy changes it).
  response.setHeader("Cache-Control", "public, max-age=0, must-revalidate");
  response.setHeader("Vary", "Accept-Encoding");
  if (noneMatchIncludes(request.headers["if-none-match"], file.etag)) {
    response.writeHead(304);
    response.end();
    return;
  }
  const compressed = acceptsGzip(request.headers["accept-encoding"]);
  const body = compressed ? file.gzipped : file.body;
  response.setHeader("Content-Type", file.contentType);
  response.setHeader("Content-Length", body.length);
  if (compressed) response.setHeader("Content-Encoding", "gzip");
  response.writeHead(200);
  response.end(request.method === "HEAD" ? undefined : body);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** If-None-Match uses the weak comparison (RFC 9110 section 13.1.2): `W/` does not matter. */
function noneMatchIncludes(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  for (const candidate of header.split(",")) {
    const tag = candidate.trim();
    if (tag === "*" || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}

/** Whether Accept-Encoding lists gzip (or `*`) with a non-zero quality. */
function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(",") : header;
  let accepted = false;
  for (const item of value.split(",")) {
    const [coding = "", ...params] = item.split(";");
    const name = coding.trim().toLowerCase();
    if (name !== "gzip" && name !== "*") continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    // An explicit gzip entry overrides `*`.
    if (name === "gzip") return quality > 0;
    accepted = quality > 0;
  }
  return accepted;
}
