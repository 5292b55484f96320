/**
 * The package as a library user gets it: `npm pack`, then `npm install` of the tarball into an
 * empty project (offline, from npm's cache). The install brings no Prometheus client (the demo
 * writes /metrics itself); `require("duplexio")` works on this Node (require(esm), which
 * `engines` asks for); and a bundler honouring `sideEffects` (esbuild) keeps what must run at
 * import (the Node client's platform set-up), so a bundled server and Node client still talk.
 * Needs `npm run build` first (dist/ is what gets packed).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Runs a command to completion; fails the test with its output when it exits non-zero. */
function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 60_000 });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`,
  );
  return result.stdout;
}

describe("the installed package", () => {
  let project: string;

  before(() => {
    assert.ok(existsSync(join(root, "dist/index.js")), "no dist/: run `npm run build` first");
    project = mkdtempSync(join(tmpdir(), "duplexio-package-"));
    run("npm", ["pack", "--silent", "--pack-destination", project], root);
    const tarball = readdirSync(project).find((name) => name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack made no tarball");
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "user-project", private: true, type: "module" }),
    );
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", `./${tarball}`], project);
  });

  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("brings no prom-client and no Redis client (the demo's; redis is an optional peer)", () => {
    const tree = JSON.parse(
      spawnSync("npm", ["ls", "--all", "--json"], { cwd: project, encoding: "utf8" }).stdout,
    ) as { dependencies?: Record<string, unknown> };
    assert.ok(tree.dependencies?.duplexio, "duplexio installed");
    assert.ok(!JSON.stringify(tree).includes('"prom-client"'), JSON.stringify(tree));
    assert.equal(existsSync(join(project, "node_modules/prom-client")), false);
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    assert.equal(manifest.dependencies?.["prom-client"], undefined);
    assert.equal(existsSync(join(project, "node_modules/redis")), false);
    assert.equal(existsSync(join(project, "node_modules/@redis")), false);
  });

  it("says which package to install when the demo's --redis finds no Redis client", () => {
    const serve = spawnSync(
      process.execPath,
      [
        "node_modules/duplexio/dist/cli/main.js",
        "serve",
        "--port",
        "0",
        "--redis",
        "redis://127.0.0.1:1",
      ],
      { cwd: project, encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(serve.status, 2, serve.stderr);
    assert.match(
      serve.stderr,
      /--redis needs the "redis" package \(node-redis\): npm install redis/,
    );
  });

  it("can be required from CommonJS on this Node (require of an ES module)", () => {
    writeFileSync(
      join(project, "check.cjs"),
      `const duplexio = require("duplexio");
       const { WebSocketServer } = require("duplexio/websocket");
       const { io } = require("duplexio/client");
       process.stdout.write(JSON.stringify([typeof duplexio, typeof duplexio.Server,
         typeof WebSocketServer, typeof io]));`,
    );
    const printed = run(process.execPath, ["check.cjs"], project);
    assert.deepEqual(JSON.parse(printed), ["function", "function", "function", "function"]);
  });

  it("keeps the modules with import-time effects when bundled with sideEffects honoured", async () => {
    writeFileSync(
      join(project, "app.mjs"),
      `import { createServer } from "node:http";
       import { Server } from "duplexio";
       import { io } from "duplexio/client";
       const httpServer = createServer();
       const server = new Server(httpServer, { serveClient: false });
       await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
       // io.on forwards to the main namespace (a prototype patched at import).
       server.on("connection", (socket) => socket.on("double", (n, ack) => ack(n * 2)));
       // The Node client's WebSocket comes from its entry point's import-time set-up.
       const socket = io("http://127.0.0.1:" + httpServer.address().port, {
         transports: ["websocket"], reconnection: false,
       });
       const answer = await socket.timeout(5000).emitWithAck("double", 21);
       socket.disconnect();
       server.close();
       process.stdout.write(String(answer));`,
    );
    const result = await build({
      absWorkingDir: project,
      entryPoints: ["app.mjs"],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: join(project, "bundle.mjs"),
      logLevel: "silent",
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(
      inputs.some((file) => file.endsWith("duplexio/dist/client/node.js")),
      "node.js kept",
    );
    assert.ok(
      !inputs.some((file) => file.includes("/dist/demo/")),
      "the demo is not in a library bundle",
    );
    assert.equal(run(process.execPath, ["bundle.mjs"], project), "42");
  });
});
