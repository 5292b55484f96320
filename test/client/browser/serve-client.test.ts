/**
 * src/server/serve-client.ts over a real HTTP server: the bundle names and their aliases, content
 * types, ETag and 304, gzip when accepted (quality values honoured), HEAD, 405, 404 for other
 * files under the path, Engine.IO and foreign requests left alone, bundles missing until built.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server as HttpServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  type ClientBundleHandlerOptions,
  createClientBundleHandler,
} from "../../../src/server/serve-client.js";
import { withTimeout } from "../../helpers/timing.js";

const IIFE = `(()=>{globalThis.io=function(){};})();\n//# sourceMappingURL=duplexio.min.js.map\n`;
const ESM = `var io=()=>{};export{io};\n//# sourceMappingURL=duplexio.esm.min.js.map\n`;
const IIFE_MAP = `{"version":3,"sources":["iife"]}`;
const ESM_MAP = `{"version":3,"sources":["esm"]}`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends a raw request (no automatic decompression, any method) and collects the reply. */
function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return withTimeout(
    new Promise<Reply>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path,
          method: options.method ?? "GET",
          headers: options.headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    }),
    5000,
    `${options.method ?? "GET"} ${path}`,
  );
}

/** An HTTP server whose requests go to the handler first, then answer 299 "passed". */
async function serve(
  path: string,
  options: ClientBundleHandlerOptions,
): Promise<{ http: HttpServer; port: number }> {
  const handler = createClientBundleHandler(path, options);
  const http = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(299).end("passed");
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { http, port: (http.address() as AddressInfo).port };
}

describe("the client bundle handler", () => {
  let directory: string;
  let http: HttpServer;
  let port: number;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "duplexio-serve-"));
    await writeFile(join(directory, "duplexio.min.js"), IIFE);
    await writeFile(join(directory, "duplexio.esm.min.js"), ESM);
    await writeFile(join(directory, "duplexio.min.js.map"), IIFE_MAP);
    await writeFile(join(directory, "duplexio.esm.min.js.map"), ESM_MAP);
    ({ http, port } = await serve("/socket.io", { directory }));
  });
  after(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await rm(directory, { recursive: true, force: true });
  });

  it("serves the classic script under its names, the module and the maps", async () => {
    const cases: [string, string, string][] = [
      ["/socket.io/duplexio.min.js", IIFE, "application/javascript; charset=utf-8"],
      ["/socket.io/socket.io.min.js", IIFE, "application/javascript; charset=utf-8"],
      ["/socket.io/socket.io.js", IIFE, "application/javascript; charset=utf-8"],
      ["/socket.io/duplexio.esm.min.js", ESM, "application/javascript; charset=utf-8"],
      ["/socket.io/socket.io.esm.min.js", ESM, "application/javascript; charset=utf-8"],
      ["/socket.io/duplexio.min.js.map", IIFE_MAP, "application/json; charset=utf-8"],
      ["/socket.io/socket.io.min.js.map", IIFE_MAP, "application/json; charset=utf-8"],
      ["/socket.io/duplexio.esm.min.js.map", ESM_MAP, "application/json; charset=utf-8"],
      ["/socket.io/socket.io.min.js?v=4.8.1", IIFE, "application/javascript; charset=utf-8"],
    ];
    const etags = new Map<string, string>();
    for (const [path, body, type] of cases) {
      const reply = await send(port, path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.body.toString(), body, path);
      assert.equal(reply.headers["content-type"], type, path);
      assert.equal(reply.headers["content-length"], String(Buffer.byteLength(body)), path);
      assert.equal(reply.headers["cache-control"], "public, max-age=0, must-revalidate");
      assert.equal(reply.headers.vary, "Accept-Encoding");
      assert.equal(reply.headers["content-encoding"], undefined);
      const etag = reply.headers.etag as string;
      assert.match(etag, /^"[\w-]+"$/, path);
      const known = etags.get(body);
      if (known !== undefined) assert.equal(etag, known, "one ETag per file, whatever the name");
      etags.set(body, etag);
    }
    assert.equal(new Set(etags.values()).size, 4, "different files, different ETags");
  });

  it("answers 304 to a matching If-None-Match (weak, listed or *), 200 otherwise", async () => {
    const first = await send(port, "/socket.io/duplexio.min.js");
    const etag = first.headers.etag as string;
    for (const condition of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const reply = await send(port, "/socket.io/socket.io.min.js", {
        headers: { "if-none-match": condition },
      });
      assert.equal(reply.status, 304, condition);
      assert.equal(reply.body.length, 0);
      assert.equal(reply.headers.etag, etag);
      assert.equal(reply.headers["cache-control"], "public, max-age=0, must-revalidate");
    }
    const stale = await send(port, "/socket.io/duplexio.min.js", {
      headers: { "if-none-match": '"stale"' },
    });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.toString(), IIFE);
  });

  it("gzips when the client accepts it, honouring quality values", async () => {
    const expectations: [string, boolean][] = [
      ["gzip", true],
      ["gzip, deflate, br", true],
      ["br;q=1.0, gzip;q=0.8", true],
      ["*", true],
      ["GZIP", true],
      ["gzip;q=0", false],
      ["*, gzip;q=0", false],
      ["br", false],
      ["identity", false],
      ["*;q=0", false],
    ];
    for (const [accept, gzipped] of expectations) {
      const reply = await send(port, "/socket.io/duplexio.min.js", {
        headers: { "accept-encoding": accept },
      });
      assert.equal(reply.status, 200, accept);
      assert.equal(reply.headers.vary, "Accept-Encoding");
      if (gzipped) {
        assert.equal(reply.headers["content-encoding"], "gzip", accept);
        assert.equal(gunzipSync(reply.body).toString(), IIFE, accept);
        assert.equal(reply.headers["content-length"], String(reply.body.length));
      } else {
        assert.equal(reply.headers["content-encoding"], undefined, accept);
        assert.equal(reply.body.toString(), IIFE, accept);
      }
    }
  });

  it("HEAD gives the headers without a body; other methods get 405", async () => {
    const head = await send(port, "/socket.io/duplexio.min.js", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(Buffer.byteLength(IIFE)));
    assert.equal(head.body.length, 0);
    for (const method of ["POST", "PUT", "DELETE"]) {
      const reply = await send(port, "/socket.io/duplexio.min.js", { method });
      assert.equal(reply.status, 405, method);
      assert.equal(reply.headers.allow, "GET, HEAD");
    }
  });

  it("404 for other script and map files under the path", async () => {
    for (const path of [
      "/socket.io/other.js",
      "/socket.io/socket.io.msgpack.min.js",
      "/socket.io/duplexio.js.map",
      "/socket.io/.js",
      "/socket.io/..%2fpackage.js",
    ]) {
      const reply = await send(port, path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.body.toString(), "Not Found");
    }
  });

  it("leaves Engine.IO requests and everything outside the path to the next handler", async () => {
    for (const path of [
      "/socket.io/",
      "/socket.io/?EIO=4&transport=polling",
      "/socket.io/?EIO=4&transport=polling&file=x.js",
      "/socket.io",
      "/socket.iox/duplexio.min.js",
      "/duplexio.min.js",
      "/assets/socket.io.min.js",
      "/socket.io/sub/duplexio.min.js",
      "/socket.io/duplexio.min.json",
    ]) {
      const reply = await send(port, path);
      assert.equal(reply.status, 299, path);
      assert.equal(reply.body.toString(), "passed", path);
    }
  });

  it("takes the path with or without a trailing slash, and a directory as a file: URL", async () => {
    for (const [path, options] of [
      ["/custom/", { directory }],
      ["/custom", { directory: pathToFileURL(`${directory}/`) }],
    ] as const) {
      const other = await serve(path, options);
      try {
        const reply = await send(other.port, "/custom/socket.io.min.js");
        assert.equal(reply.status, 200, path);
        assert.equal(reply.body.toString(), IIFE);
        assert.equal((await send(other.port, "/socket.io/socket.io.min.js")).status, 299);
      } finally {
        other.http.closeAllConnections();
        await new Promise((resolve) => other.http.close(resolve));
      }
    }
  });

  it("answers 404 while the bundles are not built, and serves them once they are", async () => {
    const empty = await mkdtemp(join(tmpdir(), "duplexio-serve-empty-"));
    const other = await serve("/socket.io", { directory: empty });
    try {
      const missing = await send(other.port, "/socket.io/duplexio.min.js");
      assert.equal(missing.status, 404);
      assert.match(missing.body.toString(), /not built/);
      await writeFile(join(empty, "duplexio.min.js"), IIFE);
      const built = await send(other.port, "/socket.io/duplexio.min.js");
      assert.equal(built.status, 200);
      assert.equal(built.body.toString(), IIFE);
      // Read once: a rebuild on disk is not picked up by a running server.
      await writeFile(join(empty, "duplexio.min.js"), "changed");
      assert.equal((await send(other.port, "/socket.io/duplexio.min.js")).body.toString(), IIFE);
    } finally {
      other.http.closeAllConnections();
      await new Promise((resolve) => other.http.close(resolve));
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("many first requests at once (before the files are loaded) are all served", async () => {
    const other = await serve("/socket.io", { directory });
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          send(other.port, "/socket.io/duplexio.esm.min.js", {
            headers: i % 2 === 0 ? { "accept-encoding": "gzip" } : {},
          }),
        ),
      );
      for (const [i, reply] of replies.entries()) {
        assert.equal(reply.status, 200);
        const body = i % 2 === 0 ? gunzipSync(reply.body) : reply.body;
        assert.equal(body.toString(), ESM);
      }
    } finally {
      other.http.closeAllConnections();
      await new Promise((resolve) => other.http.close(resolve));
    }
  });
});
