/**
 * The server side of the browser tests: an HTTP server on 127.0.0.1 with a Socket.IO server
 * (duplexio's or socket.io's) attached, a test page at "/" and the client bundle at the Socket.IO
 * path: from duplexio's own serveClient (dist/client, checked to be newer than the sources), or
 * built fresh from the sources into a temporary directory and served in front of the server.
 *
 * With DUPLEXIO_TEST_CLIENT=socket.io-client, the page gets socket.io-client's own
 * dist/socket.io.min.js (and .esm.min.js) instead, to check the browser suites themselves.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildClientBundles } from "../../../scripts/build-client.mjs";
import { createClientBundleHandler } from "../../../src/server/serve-client.js";
import { withTimeout } from "../../helpers/timing.js";
import { clientIsOfficial } from "../behaviour/client-under-test.js";
import type { Server, ServerKind, ServerOptions } from "../behaviour/harness.js";

/** Bundles in a temporary directory. */
export interface BuiltBundles {
  directory: string;
  remove(): Promise<void>;
}

/** Builds the client bundles (or copies the official one) into a fresh temporary directory. */
export async function buildBundles(): Promise<BuiltBundles> {
  const directory = await mkdtemp(join(tmpdir(), "duplexio-bundle-"));
  try {
    if (clientIsOfficial) {
      const dist = new URL("../../../node_modules/socket.io-client/dist/", import.meta.url);
      for (const [from, to] of [
        ["socket.io.min.js", "duplexio.min.js"],
        ["socket.io.esm.min.js", "duplexio.esm.min.js"],
      ] as const) {
        await copyFile(fileURLToPath(new URL(from, dist)), join(directory, to));
      }
    } else {
      await buildClientBundles({ outdir: directory, log: () => {} });
    }
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return { directory, remove: () => rm(directory, { recursive: true, force: true }) };
}

/** Newest modification time of the files under `directory`. */
function newestIn(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Throws unless dist/client/duplexio.min.js (what duplexio's serveClient serves) was built after
 * the last change to the client's sources: a stale bundle must not pass for the current client.
 */
export function assertDistBundleFresh(): void {
  const bundle = fileURLToPath(new URL("../../../dist/client/duplexio.min.js", import.meta.url));
  const sources = ["src/client", "src/protocol"].map((dir) =>
    fileURLToPath(new URL(`../../../${dir}`, import.meta.url)),
  );
  const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  if (built < Math.max(...sources.map(newestIn))) {
    throw new Error(
      "dist/client/duplexio.min.js is missing or older than src/client: run `npm run build:client`",
    );
  }
}

/** The test page: loads the classic-script bundle from the Socket.IO path. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>duplexio client</title>
<script src="/socket.io/duplexio.min.js"></script>
<p>duplexio client test page</p>
`;

/** A running page server. */
export interface PageServer {
  io: Server;
  http: HttpServer;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Closes the Socket.IO server and every connection, bounded. */
  close(): Promise<void>;
}

/** How the page server is set up. */
export interface PageServerSetup {
  kind: ServerKind;
  /**
   * Serve these bundles (a handler in front of every request listener). Without them, the page
   * gets the bundle from duplexio's own `serveClient`, i.e. the built dist/client.
   */
  bundles?: BuiltBundles;
  options?: ServerOptions;
  /** Port to listen on (default: a free one); the same port again for a restart. */
  port?: number;
  /** Destroy every WebSocket upgrade request (the page must fall back to polling). */
  refuseWebSocket?: boolean;
}

/** Starts a page server. */
export async function startPageServer(setup: PageServerSetup): Promise<PageServer> {
  if (setup.bundles === undefined && setup.kind.name !== "duplexio") {
    throw new Error(`${setup.kind.name} does not serve duplexio's bundle: pass bundles`);
  }
  const http = createServer((_request, response) => {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
  });
  const server = new setup.kind.Server(http, {
    serveClient: setup.bundles === undefined,
    ...setup.options,
  });
  const serveBundle =
    setup.bundles === undefined
      ? () => false
      : createClientBundleHandler("/socket.io", { directory: setup.bundles.directory });
  // In front of every request listener, the Socket.IO server's among them, as serveClient is.
  const listeners = http.listeners("request") as ((...args: unknown[]) => void)[];
  http.removeAllListeners("request");
  http.on("request", (request: IncomingMessage, response) => {
    if (serveBundle(request, response)) return;
    if (request.url === "/" || request.url === "/index.html") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
      return;
    }
    for (const listener of listeners) listener.call(http, request, response);
  });
  if (setup.refuseWebSocket) {
    http.removeAllListeners("upgrade");
    http.on("upgrade", (_request, socket) => socket.destroy());
  }
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(setup.port ?? 0, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  return {
    io: server,
    http,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          http.closeAllConnections();
        }),
        10000,
        "closing the page server",
      ),
  };
}
