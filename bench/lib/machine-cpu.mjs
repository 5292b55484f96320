// Whole-machine CPU time from /proc/stat (Linux), to show how much of the machine processes
// other than the two under test took during a run. Elsewhere it reports nothing.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/** Cumulative busy and total jiffies over all CPUs, or null when /proc/stat is unavailable. */
export function sampleMachineCpu() {
  try {
    const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0];
    // cpu user nice system idle iowait irq softirq steal ...
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = fields[3] + fields[4];
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Busy time between two samples in percent of one CPU (0 to 100 x CPU count), or null. */
export function machineBusyPercent(before, after) {
  if (before === null || after === null || after.total === before.total) return null;
  return ((after.busy - before.busy) / (after.total - before.total)) * cpus().length * 100;
}
