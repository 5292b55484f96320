#!/usr/bin/env node
// bench/abuse: the five findings of issue 9, measured side by side, duplexio against ws 8 (raw
// WebSocket) and socket.io 4 (Engine.IO/Socket.IO). For every (attack, server): a fresh server
// process, an abuser process, and a well-behaved client process; the runner (this process)
// samples the server's memory from /proc and over IPC. See README.md next to this file.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { commandLine } from "../lib/cli.mjs";
import { packageVersion } from "../lib/results-file.mjs";
import * as fragments from "./attacks/fragments.mjs";
import * as namespace from "./attacks/namespace.mjs";
import * as pollingPost from "./attacks/polling-post.mjs";
import * as slowReaders from "./attacks/slow-readers.mjs";
import * as slowloris from "./attacks/slowloris.mjs";
import { parseOptions, USAGE } from "./cli.mjs";
import { sleep, startChild } from "./lib/children.mjs";
import { openFileLimits, readMemory, resetPeak } from "./lib/proc.mjs";
import { mib, printTable, probeCell, triple } from "./report.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const ATTACKS = [slowReaders, fragments, pollingPost, namespace, slowloris];
const PRELOAD = pathToFileURL(join(HERE, "server-preload.mjs")).href;

/** Open files a process needs beyond its connections (modules, pipes, the probe, ...). */
const FD_MARGIN = 512;

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function git(args) {
  try {
    return execFileSync("git", args, {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return null;
  }
}

function startServer(kind, dist, nofile) {
  const nodeArgs = ["--expose-gc", "--import", PRELOAD];
  if (kind === "cli:serve" || kind === "cli:echo") {
    const args =
      kind === "cli:serve"
        ? ["serve", "--port", "0", "--host", "127.0.0.1"]
        : ["echo", "--port", "0"];
    return startChild({
      script: join(dist, "cli/main.js"),
      args,
      nodeArgs,
      label: kind,
      nofile,
      quiet: true,
    });
  }
  return startChild({
    script: join(HERE, "server.mjs"),
    args: [kind, dist],
    nodeArgs,
    label: kind,
    nofile,
  });
}

/**
 * One (attack case, server) run. Order: server up, well-behaved client connected, 1 s settle,
 * two GCs and the "before" snapshot, peak mark reset, attack (sampling meanwhile), well-behaved
 * client stopped, abusers gone, server's sockets back to the baseline (15 s at most), two GCs
 * and the "after" snapshot, server stopped.
 */
async function runCase(attack, spec, kind, env) {
  const run = {
    case: spec.id,
    label: spec.label,
    kind,
    config: spec.config,
    startedAt: new Date().toISOString(),
  };
  const began = performance.now();
  const server = startServer(kind, env.dist, env.nofile(spec.connections));
  const children = [];
  let probe = null;
  const timers = [];
  try {
    const { port } = await server.next("listening", 30_000);
    if (spec.probe) {
      probe = startChild({ script: join(HERE, "probe.mjs"), label: "well-behaved client" });
      children.push(probe);
      await probe.next("waiting", 15_000);
      probe.send({
        type: "start",
        mode: spec.probe,
        port,
        intervalMs: spec.probe === "http" ? 250 : 20,
        path: "/",
      });
      await probe.next("ready", 15_000);
    }
    await sleep(1000);
    const before = (await server.request("gc", {}, 30_000)).snapshot;
    run.before = before;
    run.peakFromKernel = resetPeak(server.pid);
    const t0 = Date.now();
    let peakRss = before.rss;
    let peakArrayBuffers = before.arrayBuffers;
    let peakHandles = before.handles;
    let maxLoopDelay = 0;
    run.rssSeries = [];
    timers.push(
      setInterval(() => {
        const memory = readMemory(server.pid);
        if (memory === null) return;
        run.rssSeries.push([Date.now() - t0, memory.rss]);
        peakRss = Math.max(peakRss, memory.rss);
      }, 250),
    );
    let ipcBusy = false;
    timers.push(
      setInterval(async () => {
        if (ipcBusy || !server.running) return;
        ipcBusy = true;
        try {
          const { snapshot } = await server.request("memory", { resetLoopDelay: true }, 5000);
          peakRss = Math.max(peakRss, snapshot.rss);
          peakArrayBuffers = Math.max(peakArrayBuffers, snapshot.arrayBuffers);
          peakHandles = Math.max(peakHandles, snapshot.handles);
          maxLoopDelay = Math.max(maxLoopDelay, snapshot.loopDelay.max ?? 0);
        } catch {
          // A server too busy to answer within 5 s: the /proc sampling still runs.
        }
        ipcBusy = false;
      }, 250),
    );
    if (probe !== null) await probe.request("mark", {}, 5000);
    const startAbuser = async (config) => {
      const abuser = startChild({
        script: join(HERE, "abuser.mjs"),
        label: "abuser",
        nofile: env.nofile(spec.connections),
      });
      children.push(abuser);
      await abuser.next("waiting", 15_000);
      abuser.send({ type: "start", attack: attack.name, config });
      return abuser;
    };
    try {
      run.result = await attack.orchestrate({
        server,
        port,
        kind,
        config: spec.config,
        startAbuser,
      });
    } catch (error) {
      run.error = String(error.message ?? error);
    }
    run.attackMs = Date.now() - t0;
    if (probe !== null) {
      try {
        run.probe = await probe.request("finish", {}, 10_000);
        delete run.probe.type;
        delete run.probe.id;
      } catch (error) {
        run.probe = { error: String(error.message ?? error) };
      }
    }
    await Promise.all(children.map((child) => child.stop(2000)));
    for (const timer of timers) clearInterval(timer);
    if (server.running) {
      // The abusers are gone: wait until the server has let go of their sockets.
      const expected = before.sockets - (spec.probe === "http" || spec.probe === undefined ? 0 : 1);
      const waitStart = performance.now();
      let snapshot = null;
      do {
        snapshot = (await server.request("memory", {}, 15_000)).snapshot;
        if (snapshot.sockets <= expected) break;
        await sleep(250);
      } while (performance.now() - waitStart < 15_000);
      run.socketsReleasedMs = Math.round(performance.now() - waitStart);
      run.socketsLeft = Math.max(0, snapshot.sockets - expected);
      run.after = (await server.request("gc", {}, 30_000)).snapshot;
      const kernel = readMemory(server.pid);
      if (run.peakFromKernel && kernel?.peak) peakRss = Math.max(peakRss, kernel.peak);
      if (kind.startsWith("ws:") || kind.startsWith("sio:")) {
        const report = await server.request("report", {}, 10_000);
        run.serverErrors = report.errors;
        run.serverCloseCodes = {};
        for (const c of report.closes)
          run.serverCloseCodes[c.code] = (run.serverCloseCodes[c.code] ?? 0) + 1;
      }
    } else {
      run.serverExit = server.exitInfo;
      run.serverStderr = server.stderrTail;
    }
    run.peak = {
      rss: peakRss,
      arrayBuffers: peakArrayBuffers,
      handles: peakHandles,
      loopDelayMaxMs: maxLoopDelay,
    };
  } catch (error) {
    run.error = run.error ?? String(error.message ?? error);
    if (!server.running) {
      run.serverExit = server.exitInfo;
      run.serverStderr = server.stderrTail;
    }
  } finally {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(children.map((child) => child.kill()));
    await server.stop(3000);
  }
  run.wallS = Math.round((performance.now() - began) / 100) / 10;
  return run;
}

function serverCell(run) {
  if (run.serverExit) return `CRASHED (${run.serverExit.signal ?? `exit ${run.serverExit.code}`})`;
  if (run.error) return `error: ${run.error.slice(0, 80)}`;
  if (run.socketsLeft > 0)
    return `${run.socketsLeft} abuser socket(s) still open 15 s after they left`;
  return "ok";
}

function printCase(attack, runs) {
  console.log("");
  const headers = [
    "server",
    "RSS MiB before → peak → after",
    "arrayBuffers MiB",
    ...attack.columns,
    "well-behaved p99 / max ms",
    "server",
  ];
  const rows = runs.map((run) => [
    run.kind,
    triple(run.before?.rss, run.peak?.rss, run.after?.rss),
    triple(run.before?.arrayBuffers, run.peak?.arrayBuffers, run.after?.arrayBuffers),
    ...attack.cells(run),
    probeCell(run.probe),
    serverCell(run),
  ]);
  printTable(headers, rows);
  for (const run of runs) {
    const lines = attack.details(run);
    if (run.serverExit)
      lines.push(`server stderr (tail): ${JSON.stringify(run.serverStderr.slice(-300))}`);
    if (run.probe?.baseline?.n > 0) {
      lines.push(
        `well-behaved client before the attack: p99 ${run.probe.baseline.p99.toFixed(1)} ms, max ${run.probe.baseline.max.toFixed(1)} ms (n=${run.probe.baseline.n})`,
      );
    }
    if (run.before && run.after) {
      const heap = (k) => `${mib(run.before[k])} → ${mib(run.after[k])}`;
      lines.push(
        `before → after (two GCs each), MiB: heap used ${heap("heapUsed")}, external ${heap("external")}, arrayBuffers ${heap("arrayBuffers")}`,
      );
    }
    if (run.peak?.loopDelayMaxMs)
      lines.push(
        `server event-loop delay max during the attack: ${run.peak.loopDelayMaxMs.toFixed(0)} ms`,
      );
    for (const line of lines) console.log(`  ${run.kind}: ${line}`);
  }
}

/** Which duplexio is tested: this checkout's dist/ (commit, local changes) or another build. */
function describeBuild(dist, commit, dirty, built) {
  const when = built === null ? "" : `, built ${built.slice(0, 19).replace("T", " ")} UTC`;
  if (dist === join(ROOT, "dist")) {
    return `dist/ of ${commit ?? "?"}${dirty ? " + uncommitted src changes" : ""}${when}`;
  }
  return `${dist}${when} (this checkout: ${commit ?? "?"})`;
}

/** The attack module a case id belongs to. */
function attackOf(caseId) {
  if (caseId === "idle") return slowloris;
  return ATTACKS.find((a) => caseId === a.name || caseId.startsWith(`${a.name}-`));
}

/** --report: the tables of a results file written earlier. */
function reprint(path) {
  const results = JSON.parse(readFileSync(path, "utf8"));
  const d = results.versions.duplexio;
  console.log(
    `${relative(process.cwd(), path)}: ${results.date}, duplexio ${describeBuild(resolve(ROOT, d.dist), d.commit, d.uncommittedSrcChanges, d.distBuilt ?? null)}, ` +
      `ws ${results.versions.ws}, socket.io ${results.versions["socket.io"]}, Node ${results.versions.node}`,
  );
  for (const note of results.notes) console.log(`NOTE: ${note}`);
  const cases = [...new Set(results.runs.map((r) => r.case))];
  let lastAttack = null;
  for (const id of cases) {
    const attack = attackOf(id);
    const runs = results.runs.filter((r) => r.case === id);
    if (attack !== lastAttack) {
      console.log(`\n=== ${attack.title}`);
      lastAttack = attack;
    }
    console.log(`--- ${id}: ${runs[0].label}`);
    printCase(attack, runs);
    console.log("");
  }
}

async function main() {
  const options = commandLine(parseOptions, USAGE);
  if (options === null) return;
  if (options.report !== undefined) {
    reprint(resolve(process.cwd(), options.report));
    return;
  }
  const dist = resolve(ROOT, options.dist);
  const notes = [];
  const needsDuplexio = options.servers.some(
    (k) => k.endsWith(":duplexio") || k.startsWith("cli:"),
  );
  if (needsDuplexio) {
    for (const file of ["index.js", "websocket/index.js", "cli/main.js"]) {
      if (!existsSync(join(dist, file))) {
        console.error(
          `${join(dist, file)} is missing: build first (npx tsc -p tsconfig.build.json)`,
        );
        process.exit(2);
      }
    }
    const distTime = statSync(join(dist, "index.js")).mtimeMs;
    // The sources next to the build (a build of another checkout has its own src/).
    const src = join(dirname(dist), "src");
    if (existsSync(src) && newestMtime(src) > distTime) {
      notes.push(
        `${relative(ROOT, dist) || dist}/ is older than ${relative(ROOT, src)}/: it may be stale (npx tsc -p tsconfig.build.json)`,
      );
    }
  }

  const distBuilt = needsDuplexio ? statSync(join(dist, "index.js")).mtime.toISOString() : null;
  const limits = openFileLimits();
  const fdPlan = new Map();
  const env = {
    dist,
    /** The open-file limit a child needs for `connections`, or undefined when inherited is enough. */
    nofile(connections) {
      return fdPlan.get(connections);
    },
  };
  const plan = [];
  for (const attack of ATTACKS) {
    for (const spec of attack.cases(options)) {
      const selected = options.attacks.some((a) => spec.id === a || spec.id.startsWith(`${a}-`));
      const servers = spec.servers.filter((k) => options.servers.includes(k));
      if (!selected || servers.length === 0) continue;
      if (spec.connections !== undefined && limits !== null) {
        const need = spec.connections + FD_MARGIN;
        if (limits.soft !== null && limits.soft < need) {
          if (limits.hard === null || limits.hard >= need) fdPlan.set(spec.connections, need);
          else {
            const scaled = Math.max(1, limits.hard - FD_MARGIN);
            notes.push(
              `${spec.id}: open-file limit ${limits.hard} (hard) is too low for ${spec.connections} connections per process: SCALED DOWN to ${scaled}`,
            );
            spec.connections = scaled;
            spec.config.connections = scaled;
            spec.label += ` (scaled down to ${scaled}: ulimit -n)`;
          }
        }
      }
      plan.push({ attack, spec, servers });
    }
  }
  if (plan.length === 0) {
    console.error("nothing to run: no selected attack applies to the selected servers");
    process.exit(2);
  }

  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src"]);
  console.log(
    `duplexio abuse bench — duplexio ${describeBuild(dist, commit, dirty, distBuilt)}, ` +
      `ws ${packageVersion(ROOT, "ws")}, socket.io ${packageVersion(ROOT, "socket.io")}, Node ${process.version}, ` +
      `${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)}`,
  );
  console.log(
    "RSS: resident memory of the server process (before: after start and two GCs; peak: during the attack; " +
      "after: abusers gone, two GCs). Times are from the start of the attack (or, attack 5, from each connection's connect).",
  );
  console.log(
    "well-behaved: a separate client on the same server during the attack (echo round trips, or for attack 5 fresh " +
      "connections with a GET); max includes stalls.",
  );
  for (const note of notes) console.log(`NOTE: ${note}`);

  const results = [];
  let lastAttack = null;
  for (const { attack, spec, servers } of plan) {
    if (attack !== lastAttack) {
      console.log(`\n=== ${attack.title}`);
      lastAttack = attack;
    }
    console.log(`--- ${spec.id}: ${spec.label}`);
    const runs = [];
    for (const kind of servers) {
      process.stdout.write(`  ${kind} ... `);
      const run = await runCase(attack, spec, kind, env);
      runs.push(run);
      results.push(run);
      console.log(
        `${run.wallS} s: RSS ${triple(run.before?.rss, run.peak?.rss, run.after?.rss)} MiB, ` +
          `${attack.cells(run).join(" | ")} | ${serverCell(run)}`,
      );
    }
    printCase(attack, runs);
    console.log("");
  }

  if (distBuilt !== null && statSync(join(dist, "index.js")).mtime.toISOString() !== distBuilt) {
    notes.push(
      `${relative(ROOT, dist) || dist}/ was rebuilt during the run: the duplexio figures may mix two builds`,
    );
    console.log(`NOTE: ${notes.at(-1)}`);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const out = resolve(ROOT, options.out ?? `bench/results/abuse-${stamp}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        bench: "abuse",
        date: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? null,
          memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
          loadAverageAtEnd: loadavg(),
          openFiles: limits,
        },
        versions: {
          node: process.version,
          duplexio: {
            commit,
            uncommittedSrcChanges: Boolean(dirty),
            dist: relative(ROOT, dist),
            distBuilt,
          },
          ws: packageVersion(ROOT, "ws"),
          "socket.io": packageVersion(ROOT, "socket.io"),
        },
        options,
        notes,
        runs: results,
      },
      null,
      1,
    )}\n`,
  );
  console.log(`results: ${relative(process.cwd(), out)} (sizes in bytes, times in ms)`);
}

await main();
