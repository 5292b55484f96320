#!/usr/bin/env node
// bench/soak: one duplexio server under mixed, churning traffic for --minutes, sampled every
// few seconds; then a chart, the samples (JSON and CSV) and a verdict: is the second half flat
// (RSS, active handles), was every ack answered, was there no error, did the server let go of
// everything once the clients left? Then the fuzz tests at a larger scale. See README.md.
import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { runCommand, sleep, startChild } from "../abuse/lib/children.mjs";
import { commandLine, parseNumber } from "../lib/cli.mjs";
import { packageVersion } from "../lib/results-file.mjs";
import { renderChart } from "./chart.mjs";
import { linearFit, verdict } from "./verdict.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const PRELOAD = pathToFileURL(join(HERE, "../abuse/server-preload.mjs")).href;
const MIB = 1024 * 1024;

const USAGE = `Usage: node bench/soak/run.mjs [options]      (npm run soak -- [options])

One duplexio server (a Socket.IO Server with default options and a raw WebSocketServer on
/raw, same HTTP server) under mixed churning traffic for --minutes; samples every few seconds;
writes bench/results/soak-<date>.{json,csv,svg} and prints a verdict. Then runs the fuzz tests
(test/fuzz/*.test.ts) with DUPLEXIO_FUZZ_RUNS=--fuzz-runs, if that folder exists. Does not
build: run \`npx tsc -p tsconfig.build.json\` first (npm run soak does).

  --minutes M            load duration                                        [10]
  --sample-seconds S     sampling period                  [5; 2 when --minutes < 3]
  --sio-clients N        Socket.IO clients connected at a time (they churn)   [200]
  --raw-clients N        raw WebSocket clients at a time (they churn)         [100]
  --slow-readers N       clients that stop reading (half raw, half Socket.IO) [6]
  --connects-per-second N  new connections per second at most                 [25]
  --fuzz-runs N          DUPLEXIO_FUZZ_RUNS for the fuzz tests; 0 skips them  [20]
  --fuzz-timeout M       minutes before the fuzz run is killed                [30]
  --fuzz-seed N          DUPLEXIO_FUZZ_SEED (replays a campaign)  [a fresh one each run]
  verdict margins, on the second half of the run:
  --rss-slope MIB        |linear fit slope| of RSS, MiB per minute, at most   [2]
  --rss-range PCT        (max - min) / mean of RSS, percent, at most          [20]
  --handle-slope PCT     |slope| of active handles, percent of mean per minute [3]
  --handle-range PCT     (max - min) / mean of active handles, percent        [40]
  --png                  also write a PNG of the chart (Chromium, /usr/bin/chromium)
  --dist DIR             duplexio build to test                               [dist]
  --out PREFIX           output files prefix      [bench/results/soak-<date>-<time>]
  --help                 this text
`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      minutes: { type: "string", default: "10" },
      "sample-seconds": { type: "string" },
      "sio-clients": { type: "string", default: "200" },
      "raw-clients": { type: "string", default: "100" },
      "slow-readers": { type: "string", default: "6" },
      "connects-per-second": { type: "string", default: "25" },
      "fuzz-runs": { type: "string", default: "20" },
      "fuzz-timeout": { type: "string", default: "30" },
      "fuzz-seed": { type: "string" },
      "rss-slope": { type: "string", default: "2" },
      "rss-range": { type: "string", default: "20" },
      "handle-slope": { type: "string", default: "3" },
      "handle-range": { type: "string", default: "40" },
      png: { type: "boolean", default: false },
      dist: { type: "string", default: "dist" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const num = (name, min, max, integer = false) =>
    parseNumber(values[name], name, { min, max, integer });
  const minutes = num("minutes", 0.25, 24 * 60);
  return {
    help: values.help,
    minutes,
    sampleSeconds:
      values["sample-seconds"] === undefined
        ? minutes < 3
          ? 2
          : 5
        : parseNumber(values["sample-seconds"], "sample-seconds", {
            min: 0.5,
            max: 600,
            integer: false,
          }),
    sioClients: num("sio-clients", 0, 5000, true),
    rawClients: num("raw-clients", 0, 5000, true),
    slowReaders: num("slow-readers", 0, 1000, true),
    connectsPerSecond: num("connects-per-second", 1, 1000, true),
    fuzzRuns: num("fuzz-runs", 0, 10_000),
    fuzzTimeoutMinutes: num("fuzz-timeout", 1, 24 * 60),
    // npm test always runs the fixed seed; a campaign with another one explores other inputs.
    fuzzSeed:
      values["fuzz-seed"] === undefined
        ? randomInt(1, 2 ** 31 - 1)
        : num("fuzz-seed", 1, 2 ** 31 - 1, true),
    margins: {
      rssSlopeMiBPerMin: num("rss-slope", 0, 1e6),
      rssRangePercent: num("rss-range", 0, 1e6),
      handleSlopePercentPerMin: num("handle-slope", 0, 1e6),
      handleRangePercent: num("handle-range", 0, 1e6),
    },
    png: values.png,
    dist: values.dist,
    out: values.out,
  };
}

function flatSample(t0, stats, load) {
  return {
    t: Math.round((Date.now() - t0) / 100) / 10,
    rssMiB: stats.rss / MIB,
    heapUsedMiB: stats.heapUsed / MIB,
    heapTotalMiB: stats.heapTotal / MIB,
    externalMiB: stats.external / MIB,
    arrayBuffersMiB: stats.arrayBuffers / MIB,
    handles: stats.handles,
    resources: stats.resources,
    sockets: stats.sockets,
    engineClients: stats.engineClients,
    sioSockets: stats.sioSockets,
    rawClients: stats.rawClients,
    rooms: stats.rooms,
    loopP50Ms: stats.loopDelay.p50,
    loopP99Ms: stats.loopDelay.p99,
    loopMaxMs: stats.loopDelay.max,
    loadSioConnected: load?.populations.sioConnected ?? null,
    loadRawOpen: load?.populations.rawOpen ?? null,
    loadSlow: load?.populations.slow ?? null,
    acksOk: load?.counters.sio.acksOk ?? null,
    echoesOk: load?.counters.raw.echoesOk ?? null,
  };
}

function toCsv(samples) {
  const keys = Object.keys(samples[0] ?? {});
  const cell = (v) =>
    typeof v === "number" ? String(Number(v.toFixed(3))) : v === null ? "" : String(v);
  return `${keys.join(",")}\n${samples.map((s) => keys.map((k) => cell(s[k])).join(",")).join("\n")}\n`;
}

async function runFuzz(options) {
  const dir = join(ROOT, "test/fuzz");
  if (!existsSync(dir)) {
    console.log("fuzz: test/fuzz/ does not exist (yet): skipped");
    return { skipped: "test/fuzz/ does not exist" };
  }
  if (options.fuzzRuns === 0) {
    console.log("fuzz: skipped (--fuzz-runs 0)");
    return { skipped: "--fuzz-runs 0" };
  }
  // Node 20's --test given a directory looks only for .js-like files, and would pass with 0
  // tests: the .test.ts files are listed instead (as test/run.mjs does).
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => join("test/fuzz", f));
  if (files.length === 0) {
    console.log("fuzz: no test/fuzz/*.test.ts: skipped");
    return { skipped: "no test files" };
  }
  console.log(
    `\nfuzz: DUPLEXIO_FUZZ_SEED=${options.fuzzSeed} DUPLEXIO_FUZZ_RUNS=${options.fuzzRuns} node --import tsx --test ${files.join(" ")}`,
  );
  const result = await runCommand(
    process.execPath,
    ["--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=3600000", ...files],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DUPLEXIO_FUZZ_RUNS: String(options.fuzzRuns),
        DUPLEXIO_FUZZ_SEED: String(options.fuzzSeed),
      },
      timeoutMs: options.fuzzTimeoutMinutes * 60_000,
    },
  );
  const passed = result.code === 0 && !result.timedOut;
  console.log(
    `fuzz: ${passed ? "PASSED" : result.timedOut ? `KILLED after ${options.fuzzTimeoutMinutes} min` : `FAILED (exit ${result.code ?? result.signal ?? result.error})`} in ${(result.ms / 1000).toFixed(0)} s`,
  );
  return { runs: options.fuzzRuns, seed: options.fuzzSeed, files, passed, ...result };
}

function chartOf(samples, options, v, title) {
  const during = samples.filter((s) => s.t <= options.minutes * 60 + 1e-6);
  const pts = (key, list = during) => list.map((s) => [s.t / 60, s[key]]);
  const half = (options.minutes * 60) / 2;
  const fitLine = (key) => {
    const second = during.filter((s) => s.t >= half);
    const fit = linearFit(second.map((s) => [s.t / 60, s[key]]));
    if (fit === null) return [];
    return [
      [half / 60, fit.intercept + fit.slope * (half / 60)],
      [options.minutes, fit.intercept + fit.slope * options.minutes],
    ];
  };
  return renderChart({
    title,
    subtitle: `${v.pass ? "PASS" : "FAIL"}: ${
      v.lines
        .filter((l) => !l.ok)
        .map((l) => l.text)
        .join("; ") || "second half flat, every ack back, no error, everything released"
    }`.slice(0, 150),
    xMax: options.minutes,
    shadeFrom: options.minutes / 2,
    panels: [
      {
        title: "Resident memory (RSS)",
        unit: "MiB; dashed: linear fit over the shaded second half",
        series: [
          { name: "RSS", color: "#1f5fbf", points: pts("rssMiB") },
          { name: "fit", color: "#d62728", points: fitLine("rssMiB"), dash: "6 4" },
        ],
      },
      {
        title: "V8 heap",
        unit: "MiB",
        series: [
          { name: "heap used", color: "#2ca02c", points: pts("heapUsedMiB") },
          { name: "heap total", color: "#9467bd", points: pts("heapTotalMiB"), dash: "3 3" },
        ],
      },
      {
        title: "Active handles and open connections",
        unit: "count",
        series: [
          { name: "handles", color: "#ff7f0e", points: pts("handles") },
          { name: "TCP sockets", color: "#8c564b", points: pts("sockets"), dash: "3 3" },
          { name: "fit", color: "#d62728", points: fitLine("handles"), dash: "6 4" },
        ],
      },
      {
        title: "Event-loop delay per sample window",
        unit: "ms",
        series: [
          { name: "p99", color: "#d62728", points: pts("loopP99Ms") },
          { name: "p50", color: "#7f7f7f", points: pts("loopP50Ms"), dash: "3 3" },
        ],
      },
    ],
  });
}

async function main() {
  const options = commandLine(parseOptions, USAGE);
  if (options === null) return;
  const dist = resolve(ROOT, options.dist);
  if (!existsSync(join(dist, "index.js"))) {
    console.error(
      `${join(dist, "index.js")} is missing: build first (npx tsc -p tsconfig.build.json)`,
    );
    process.exit(2);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const prefix = resolve(ROOT, options.out ?? `bench/results/soak-${stamp}`);
  mkdirSync(dirname(prefix), { recursive: true });
  const durationMs = options.minutes * 60_000;
  console.log(
    `duplexio soak: ${options.minutes} min, ${options.sioClients} Socket.IO + ${options.rawClients} raw WebSocket clients at a time (churning), ` +
      `${options.slowReaders} slow readers; a sample every ${options.sampleSeconds} s; ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)}`,
  );

  const server = startChild({
    script: join(HERE, "server.mjs"),
    args: [dist],
    nodeArgs: ["--expose-gc", "--import", PRELOAD],
    label: "server",
  });
  const load = startChild({ script: join(HERE, "load.mjs"), label: "load" });
  const samples = [];
  let before = null;
  let after = null;
  let finalCounters = null;
  let leftOver = null;
  let serverStats = null;
  const problems = [];
  try {
    const { port } = await server.next("listening", 30_000);
    await load.next("waiting", 30_000);
    await sleep(500);
    before = (await server.request("gc", {}, 30_000)).snapshot;
    await server.request("stats", { resetLoopDelay: true });
    const t0 = Date.now();
    load.send({
      type: "start",
      port,
      durationMs,
      sioClients: options.sioClients,
      rawClients: options.rawClients,
      slowReaders: options.slowReaders,
      connectsPerSecond: options.connectsPerSecond,
    });
    await load.next("started", 10_000);
    let nextSample = t0 + options.sampleSeconds * 1000;
    let lastPrint = 0;
    while (Date.now() < t0 + durationMs) {
      await sleep(Math.max(0, Math.min(nextSample, t0 + durationMs) - Date.now()));
      nextSample += options.sampleSeconds * 1000;
      if (!server.running)
        throw new Error(`the server exited (${JSON.stringify(server.exitInfo)})`);
      const [{ stats }, counters] = await Promise.all([
        server.request("stats", { resetLoopDelay: true }, 30_000),
        load.request("counters", {}, 30_000),
      ]);
      const sample = flatSample(t0, stats, counters);
      samples.push(sample);
      serverStats = stats;
      if (Date.now() - lastPrint >= 30_000 || samples.length === 1) {
        lastPrint = Date.now();
        console.log(
          `  ${(sample.t / 60).toFixed(1).padStart(5)} min  RSS ${sample.rssMiB.toFixed(0)} MiB  heap ${sample.heapUsedMiB.toFixed(0)} MiB  ` +
            `handles ${sample.handles}  sockets ${sample.sockets}  clients sio ${sample.loadSioConnected} raw ${sample.loadRawOpen} slow ${sample.loadSlow}  ` +
            `loop p99 ${sample.loopP99Ms?.toFixed(1)} ms  acks ${sample.acksOk}`,
        );
      }
    }
    console.log("  load done: clients leaving (every ack awaited)...");
    const finish = await load.request("finish", {}, 90_000);
    finalCounters = finish.counters;
    leftOver = finish.leftOver;
    // The clients are gone: the server should let go of every connection and handle.
    const waitStart = Date.now();
    let stats;
    do {
      await sleep(500);
      ({ stats } = await server.request("stats", {}, 30_000));
    } while (
      (stats.sockets > before.sockets || stats.engineClients > 0 || stats.rawClients > 0) &&
      Date.now() - waitStart < 60_000
    );
    serverStats = stats;
    after = {
      ...(await server.request("gc", {}, 30_000)).snapshot,
      engineClients: stats.engineClients,
      rawClients: stats.rawClients,
      sioSockets: stats.sioSockets,
      releasedAfterMs: Date.now() - waitStart,
    };
  } catch (error) {
    problems.push(String(error.message ?? error));
    console.error(`soak stopped: ${error.message}`);
  } finally {
    await load.stop(3000);
    await server.stop(3000);
  }

  const v = verdict({
    samples,
    options,
    before,
    after,
    counters: finalCounters,
    serverStats,
    problems,
    leftOver,
  });
  const title = `duplexio soak ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${options.minutes} min`;
  const svg = chartOf(samples, options, v, title);
  writeFileSync(`${prefix}.svg`, svg);
  writeFileSync(`${prefix}.csv`, toCsv(samples));
  console.log("\nverdict (second half of the run, margins in parentheses):");
  for (const line of v.lines) console.log(`  ${line.ok ? "ok  " : "FAIL"} ${line.text}`);
  console.log(`  => ${v.pass ? "PASS" : "FAIL"}`);

  const fuzz = await runFuzz(options);
  const json = {
    bench: "soak",
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      loadAverageAtEnd: loadavg(),
    },
    versions: {
      node: process.version,
      "socket.io-client": packageVersion(ROOT, "socket.io-client"),
      ws: packageVersion(ROOT, "ws"),
      dist: relative(ROOT, dist),
      distBuilt: statSync(join(dist, "index.js")).mtime.toISOString(),
    },
    options,
    before,
    after,
    counters: finalCounters,
    leftOver,
    server: serverStats && {
      errors: serverStats.errors,
      disconnectReasons: serverStats.disconnectReasons,
      rawCloseCodes: serverStats.rawCloseCodes,
      counters: serverStats.counters,
    },
    verdict: v,
    fuzz,
    samples,
  };
  writeFileSync(`${prefix}.json`, `${JSON.stringify(json, null, 1)}\n`);
  console.log(
    `\nchart:   ${relative(process.cwd(), `${prefix}.svg`)}\nsamples: ${relative(process.cwd(), `${prefix}.csv`)}, ${relative(process.cwd(), `${prefix}.json`)}`,
  );
  if (options.png) {
    const { svgToPng } = await import("./svg-to-png.mjs");
    try {
      await svgToPng(`${prefix}.svg`, `${prefix}.png`);
      console.log(`png:     ${relative(process.cwd(), `${prefix}.png`)}`);
    } catch (error) {
      console.log(`png: not written (${error.message})`);
    }
  }
  process.exitCode = v.pass && (fuzz.skipped !== undefined || fuzz.passed) ? 0 : 1;
}

await main();
