/**
 * scripts/build-client.mjs: both bundles and their maps are written with a size line each; the
 * command line fails loudly (exit 1, the offending import named) when anything in the bundle
 * graph imports a Node built-in; in Chromium the classic script defines the global `io` with the
 * API attached as socket.io-client's bundle does, and the ES module exports the API and connects.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { buildClientBundles } from "../../../scripts/build-client.mjs";
import { launchChromium, type RunningChromium } from "../../helpers/chromium.js";
import { withTimeout } from "../../helpers/timing.js";
import { SERVER_KINDS, type ServerSocket } from "../behaviour/harness.js";
import { type BuiltBundles, buildBundles, startPageServer } from "./page-server.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const script = join(root, "scripts", "build-client.mjs");

describe("scripts/build-client.mjs", () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "duplexio-build-"));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it("writes the ESM and IIFE bundles with source maps and prints their sizes", async () => {
    const outdir = join(scratch, "ok");
    const lines: string[] = [];
    const built = await buildClientBundles({ outdir, log: (line) => lines.push(line) });
    assert.deepEqual(
      built.map((b) => b.format),
      ["esm", "iife"],
    );
    for (const [i, name] of ["duplexio.esm.min.js", "duplexio.min.js"].entries()) {
      const file = join(outdir, name);
      const code = readFileSync(file, "utf8");
      assert.equal(built[i]!.minified, Buffer.byteLength(code));
      assert.ok(built[i]!.gzipped > 0 && built[i]!.gzipped < built[i]!.minified);
      assert.match(
        lines[i]!,
        new RegExp(`${name.replace(/\./g, "\\.")}  \\d+ B min .*, \\d+ B gzip`),
      );
      assert.ok(code.trimEnd().endsWith(`//# sourceMappingURL=${name}.map`));
      const map = JSON.parse(readFileSync(`${file}.map`, "utf8")) as { sources: string[] };
      assert.ok(map.sources.some((source) => source.endsWith("src/client/socket.ts")));
      // Minified: no line of source formatting left, nothing Node-only in the output.
      assert.ok(code.split("\n").length <= 3, "minified to a line or two");
      assert.doesNotMatch(code, /require\(|from"node:|process\.env/);
      // The browser stand-ins are in place (scripts/build-client.mjs, BROWSER_REPLACEMENTS): no
      // Node connection options, no timer unref, no Node failure details, no base64 tables.
      assert.doesNotMatch(code, /rejectUnauthorized|passphrase|unref|statusCode|\.cause\b|ABCDEF/);
    }
    // The classic script assigns the global, the module exports.
    assert.match(readFileSync(join(outdir, "duplexio.min.js"), "utf8"), /globalThis\.io=/);
    assert.match(readFileSync(join(outdir, "duplexio.esm.min.js"), "utf8"), /export\{/);
  });

  it("fails loudly, naming the import, when the bundle graph imports a Node built-in", async () => {
    const entry = join(scratch, "entry.ts");
    const helper = join(scratch, "helper.ts");
    await writeFile(
      entry,
      [
        `export { helper } from ${JSON.stringify(helper)};`,
        "export const io = () => 1, connect = io, Manager = class {}, Socket = class {}, protocol = 5;",
      ].join("\n"),
    );
    for (const builtin of ["node:events", "buffer", "fs/promises"]) {
      await writeFile(
        helper,
        `import * as m from ${JSON.stringify(builtin)};\nexport const helper = () => m;\n`,
      );
      const outdir = join(scratch, `bad-${builtin.replace(/\W/g, "-")}`);
      const run = spawnSync(process.execPath, [script, `--entry=${entry}`, `--outdir=${outdir}`], {
        cwd: root,
        encoding: "utf8",
        timeout: 60000,
      });
      assert.equal(run.status, 1, `exit status for ${builtin}: ${run.stderr}`);
      assert.match(run.stderr, /building the esm client bundle failed/);
      assert.ok(
        run.stderr.includes(`must not import the Node built-in "${builtin}"`),
        `stderr names ${builtin}: ${run.stderr}`,
      );
      assert.match(run.stderr, /helper\.ts:1:\d+/, "the importing file and line");
      assert.equal(existsSync(join(outdir, "duplexio.esm.min.js")), false);
    }
  });

  it("the command line builds too, with socket.io-client's two reference size lines", () => {
    const outdir = join(scratch, "cli");
    const run = spawnSync(process.execPath, [script, `--outdir=${outdir}`], {
      cwd: root,
      encoding: "utf8",
      timeout: 60000,
    });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /duplexio\.esm\.min\.js {2}\d+ B min .*, \d+ B gzip -9 /);
    assert.match(lines[1]!, /duplexio\.min\.js {2}\d+ B min .*, \d+ B gzip -9 /);
    assert.match(
      lines[2]!,
      /^\(reference\) socket\.io-client\/dist\/socket\.io\.esm\.min\.js {2}\d+ B min/,
    );
    assert.match(
      lines[3]!,
      /^\(reference\) socket\.io-client\/dist\/socket\.io\.min\.js {2}\d+ B min/,
    );
  });
});

describe("the bundles in Chromium", () => {
  let bundles: BuiltBundles;
  let browser: RunningChromium;
  before(async () => {
    bundles = await buildBundles();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await bundles?.remove();
  });

  it("the classic script defines io with Manager, Socket, connect and io attached", async () => {
    const server = await startPageServer({ kind: SERVER_KINDS[0]!, bundles });
    try {
      await browser.page.goto(`${server.url}/`, { timeout: 30000 });
      const shape = await withTimeout(
        browser.page.evaluate(() => {
          const io = (globalThis as unknown as { io: Record<string, unknown> & (() => unknown) })
            .io;
          return {
            io: typeof io,
            Manager: typeof io.Manager,
            Socket: typeof io.Socket,
            connect: io.connect === io,
            self: io.io === io,
          };
        }),
        10000,
        "the page",
      );
      assert.deepEqual(shape, {
        io: "function",
        Manager: "function",
        Socket: "function",
        connect: true,
        self: true,
      });
    } finally {
      await server.close();
    }
  });

  it("the ES module exports the API and connects", async () => {
    const server = await startPageServer({ kind: SERVER_KINDS[0]!, bundles });
    server.io.on("connection", (socket: ServerSocket) => {
      socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    });
    try {
      await browser.page.goto(`${server.url}/`, { timeout: 30000 });
      const result = await withTimeout(
        browser.page.evaluate(async () => {
          const url = "/socket.io/duplexio.esm.min.js";
          const api = (await import(url)) as typeof import("../../../src/client/index.js");
          const socket = api.io({ reconnection: false, forceNew: true });
          await new Promise<void>((resolve, reject) => {
            socket.once("connect", () => resolve());
            socket.once("connect_error", (error) => reject(error));
          });
          const reply = await socket.emitWithAck("echo", "esm");
          socket.disconnect();
          return {
            exports: Object.keys(api).sort(),
            defaultIsIo: api.default === api.io,
            reply,
          };
        }),
        15000,
        "the page",
      );
      for (const name of ["Manager", "Socket", "connect", "default", "io", "protocol"]) {
        assert.ok(result.exports.includes(name), `exports ${name}: ${result.exports}`);
      }
      assert.equal(result.defaultIsIo, true);
      assert.equal(result.reply, "esm");
    } finally {
      await server.close();
    }
  });
});
