// The JSON results file both benchmark runners write: the machine, the versions compared, the
// options, the summary and every run, so a figure can always be traced to how it was measured.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, relative, resolve } from "node:path";

/** The short commit of the checkout at `root`, or null outside git. */
export function gitCommit(root) {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
  } catch {
    return null;
  }
}

/** The installed version of package `name` under `root`, or null when it is not installed. */
export function packageVersion(root, name) {
  try {
    return JSON.parse(readFileSync(resolve(root, "node_modules", name, "package.json"), "utf8"))
      .version;
  } catch {
    return null;
  }
}

/**
 * Writes the results to `out` (relative to `root`), prints where, and returns the path.
 * `versions` names what was compared besides duplexio's commit.
 */
export function writeResults({
  root,
  out,
  loadAverageAtStart,
  versions,
  options,
  labels,
  summary,
  runs,
}) {
  const path = resolve(root, out);
  mkdirSync(dirname(path), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      totalMemMiB: Math.round(totalmem() / 1024 / 1024),
      loadAverageAtStart,
      node: process.version,
    },
    versions: { duplexioCommit: gitCommit(root), ...versions },
    options,
    labels,
    summary,
    runs,
  };
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  const shown = relative(process.cwd(), path);
  console.log(`\nresults: ${shown.startsWith("..") ? path : shown}`);
  return path;
}
