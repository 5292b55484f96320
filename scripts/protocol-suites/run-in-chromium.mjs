// Runs one of the official protocol test suites of the socket.io repository, unmodified, inside
// Debian's Chromium against a duplexio server configured as the suite's README says (port 3000,
// pingInterval 300, pingTimeout 200, maxHttpBufferSize 1e6, connectTimeout 1000, cors *).
//
//   node scripts/protocol-suites/run-in-chromium.mjs <suite folder> socketio|engine [duplexio|socket.io]
//
// <suite folder> holds the suite's test-suite.js with its own dependencies installed (`npm install`
// there: mocha, chai, chai-string). The page and the suite are served from the server under test
// (same origin), the way the suite runs in a browser. See docs/conformance/protocol-suites.md.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { chromium } from "playwright-core";

const [suiteDir, kind, subject = "duplexio"] = process.argv.slice(2);
if (!suiteDir || (kind !== "socketio" && kind !== "engine")) {
  console.error("usage: run-in-chromium.mjs <suite folder> socketio|engine [duplexio|socket.io]");
  process.exit(2);
}
// The suite's own dependencies, found as Node would from its folder.
const requireFromSuite = createRequire(resolve(suiteDir, "test-suite.js"));
const packageFile = (name, file) =>
  join(dirname(requireFromSuite.resolve(`${name}/package.json`)), file);
const files = {
  "/suite/mocha.js": packageFile("mocha", "mocha.js"),
  "/suite/chai.js": packageFile("chai", "chai.js"),
  "/suite/chai-string.js": packageFile("chai-string", "chai-string.js"),
  "/suite/test-suite.js": resolve(suiteDir, "test-suite.js"),
};
const page = `<!doctype html><meta charset="utf-8"><div id="mocha"></div>
<script src="mocha.js"></script><script src="chai.js"></script><script src="chai-string.js"></script>
<script>mocha.setup({ ui: "bdd", timeout: 3000 });</script>
<script type="module">
await import("./test-suite.js");
const failures = [];
const runner = mocha.run();
runner.on("fail", (test, error) => failures.push(test.fullTitle() + ": " + error.message));
runner.on("end", () => {
  window.suiteResult = { passes: runner.stats.passes, failures };
});
</script>`;

const httpServer = createServer((request, response) => {
  const path = (request.url ?? "").split("?")[0];
  if (path === "/suite/") {
    response.writeHead(200, { "content-type": "text/html" }).end(page);
  } else if (files[path]) {
    response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(files[path]));
  } else if (!path.startsWith("/socket.io/") && !path.startsWith("/engine.io/")) {
    response.writeHead(404).end();
  }
});
const options = {
  allowEIO3: true,
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
};
let closeServer;
if (kind === "engine") {
  const { attach } = await import(subject === "duplexio" ? "duplexio/engine" : "engine.io");
  const engine = attach(httpServer, { ...options, path: "/engine.io/" });
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
  closeServer = () => engine.close();
} else {
  const { Server } = await import(subject === "duplexio" ? "duplexio" : "socket.io");
  const io = new Server(httpServer, { ...options, connectTimeout: 1000 });
  io.on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
    socket.on("message", (...args) => socket.emit("message-back", ...args));
    socket.on("message-with-ack", (...args) => {
      const ack = args.pop();
      ack(...args);
    });
  });
  io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));
  closeServer = () => io.close();
}
await new Promise((done) => httpServer.listen(3000, "127.0.0.1", done));

const profile = await mkdtemp(join(tmpdir(), "duplexio-suite-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = true;
try {
  const tab = await browser.newPage();
  tab.on("pageerror", (error) => console.error("page error:", error.message));
  await tab.goto("http://localhost:3000/suite/");
  await tab.waitForFunction(() => window.suiteResult, null, { timeout: 120_000 });
  const result = await tab.evaluate(() => window.suiteResult);
  console.log(
    `${subject}, ${kind} suite in Chromium: ${result.passes} passing, ${result.failures.length} failing`,
  );
  for (const failure of result.failures) console.log(`  failing: ${failure}`);
  failed = result.failures.length > 0;
} finally {
  await browser.close();
  await rm(profile, { recursive: true, force: true });
  closeServer();
  httpServer.closeAllConnections();
  httpServer.close();
}
process.exitCode = failed ? 1 : 0;
