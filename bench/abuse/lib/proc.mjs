// What Linux's /proc says about a process, read from outside it: resident memory now and its
// peak, and the open-file limits. Read from the runner, so a server whose event loop is blocked
// (or that is being killed for lack of memory) is still measured. Linux only: elsewhere every
// function returns null and the benches fall back to what the child reports over IPC.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const KIB = 1024;

/** { rss, peak } in bytes (VmRSS, VmHWM) of `pid`, or null when /proc cannot tell. */
export function readMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (rss === null) return null;
    return { rss: Number(rss[1]) * KIB, peak: hwm === null ? null : Number(hwm[1]) * KIB };
  } catch {
    return null;
  }
}

/**
 * Resets the kernel's peak-RSS mark (VmHWM) of `pid` to its current RSS (writing 5 to
 * /proc/PID/clear_refs, Linux 4.0+), so the next peak read is the peak since now. False when
 * not allowed or not supported: the caller then relies on its own RSS sampling.
 */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Number of open file descriptors of `pid`, or null. */
export function countFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** This process's open-file limits { soft, hard } (null = unlimited), or null outside Linux. */
export function openFileLimits() {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (match === null) return null;
    const parse = (v) => (v === "unlimited" ? null : Number(v));
    return { soft: parse(match[1]), hard: parse(match[2]) };
  } catch {
    return null;
  }
}
