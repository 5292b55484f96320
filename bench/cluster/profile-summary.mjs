// Summarizes the CPU profiles written by `run.mjs --cpu-prof DIR`: per server process, where its
// CPU time went during the measured window (self time by package, file and function; total time
// by function).
//   node bench/cluster/profile-summary.mjs DIR [--top N] [--match TEXT]
// DIR/windows.json (written by run.mjs) gives each profile's measured window on the profiles'
// clock (CLOCK_MONOTONIC); samples outside it (start-up, connecting 1,000 clients, the drain)
// are left out. A profile without a window is summarized whole.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "15" },
    match: { type: "string", default: "" },
    help: { type: "boolean", default: false },
  },
});
if (values.help || positionals.length !== 1) {
  console.log("Usage: node bench/cluster/profile-summary.mjs DIR [--top N] [--match TEXT]");
  process.exit(values.help ? 0 : 2);
}
const dir = resolve(positionals[0]);
const top = Number(values.top);

let windows = {};
try {
  windows = JSON.parse(readFileSync(join(dir, "windows.json"), "utf8"));
} catch {
  // No windows: whole profiles.
}

/** "dist/server/socket.js", "socket.io", "@redis/client", "node:net" or "(program)". */
function fileOf(url) {
  if (url === "") return null;
  if (url.startsWith("node:")) return url;
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = path.slice(modules + "/node_modules/".length).split("/");
    const pkg = rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
    return `${pkg} (${rest.slice(rest[0].startsWith("@") ? 2 : 1).join("/")})`;
  }
  return relative(root, path);
}

function packageOf(file) {
  if (file === null) return null;
  const paren = file.indexOf(" (");
  return paren >= 0 ? file.slice(0, paren) : file;
}

function summarize(profile, window) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let at = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (window !== undefined && (at < window.start || at > window.end)) continue;
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    total += weight;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + weight);
  }
  const parentOf = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const keyOf = (id) => {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const file = fileOf(url);
    const name = functionName || "(anonymous)";
    return file === null ? name : `${name}  ${file}:${lineNumber + 1}`;
  };
  // Total time: each sample counts once for every distinct function on its stack.
  const inclusive = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const key = keyOf(at);
      if (key === "(root)" || seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const functions = new Map();
  const files = new Map();
  const packages = new Map();
  for (const [id, us] of self) {
    const { functionName, url } = byId.get(id).callFrame;
    const file = fileOf(url);
    const name = functionName || "(anonymous)";
    const fnKey = keyOf(id);
    functions.set(fnKey, (functions.get(fnKey) ?? 0) + us);
    const fileKey = file ?? name;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
    const pkgKey = packageOf(file) ?? name;
    packages.set(pkgKey, (packages.get(pkgKey) ?? 0) + us);
  }
  return { total, functions, files, packages, inclusive };
}

function topLines(map, total, n) {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".cpuprofile") && f.includes(values.match))
  .sort();
if (files.length === 0) {
  console.log(`no .cpuprofile in ${dir}${values.match ? ` matching ${values.match}` : ""}`);
}
for (const file of files) {
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const window = windows[file];
  const { total, functions, files: byFile, packages, inclusive } = summarize(profile, window);
  const busy = total - (functions.get("(idle)") ?? 0);
  console.log(
    `\n== ${file}: ${window === undefined ? "whole profile" : `measured window, ${Math.round(window.deliveriesPerSec).toLocaleString("en-US")} deliveries/s`}, ` +
      `${(total / 1000).toFixed(0)} ms sampled, ${((busy / total) * 100).toFixed(0)}% not idle`,
  );
  console.log(" by package or area (self time, % of the sampled time):");
  console.log(topLines(packages, total, 8).join("\n"));
  console.log(" by file:");
  console.log(topLines(byFile, total, 10).join("\n"));
  console.log(" by function (self):");
  console.log(topLines(functions, total, top).join("\n"));
  console.log(" by function (total: itself and what it calls):");
  inclusive.delete("(idle)");
  console.log(topLines(inclusive, total, top).join("\n"));
}
