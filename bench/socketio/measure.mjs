// One measured run of the message load generator (socketio/load-generator.mjs): Socket.IO echo
// with acks, or broadcast to many clients over Socket.IO or raw WebSocket. Shared by
// socketio/run.mjs and the table (bench/run.mjs).
import { fileURLToPath } from "node:url";
import { runMeasured } from "../lib/processes.mjs";

const LOAD_GENERATOR = fileURLToPath(new URL("load-generator.mjs", import.meta.url));
/** Upper bound on one broadcast run once connected; a stuck fan-out fails instead of hanging. */
const BROADCAST_MAX_MS = 60_000;
/** Server CPU window vs the load generator's, beyond which the CPU figures are void. */
const MAX_CPU_SAMPLE_SKEW = 0.2;

function loadConfig(cell, options) {
  if (cell.scenario === "echo") {
    return {
      scenario: "echo",
      host: "127.0.0.1",
      connections: options.connections,
      window: options.window,
      size: cell.size,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
    };
  }
  return {
    scenario: "broadcast",
    protocol: cell.protocol,
    host: "127.0.0.1",
    clients: cell.clients,
    size: cell.size,
    broadcasts: options.broadcasts,
    // Whole bursts, so the measured window starts at a burst boundary.
    warmupBroadcasts: options.warmupBursts * options.burst,
    burst: options.burst,
    durationMs: options.durationMs,
    maxMs: BROADCAST_MAX_MS,
  };
}

/**
 * @param {{ server: { kind: string, config: object }, label: string,
 *   cell: { scenario: "echo" | "broadcast", protocol: "socketio" | "raw", size: number,
 *   clients?: number }, options: object }} spec options as socketio/cli.mjs parses them
 */
export async function runMessageLoad({ server, label, cell, options }) {
  const measured = await runMeasured({
    server,
    loadModule: LOAD_GENERATOR,
    loadConfig: loadConfig(cell, options),
    label,
    pin: options.pin,
    cpuProfile: options.cpuProfile,
    files: (cell.scenario === "echo" ? options.connections : cell.clients) + 1024,
    // Connecting 1,000 clients on a loaded machine takes seconds: generous, but bounded.
    deadlineMs:
      cell.scenario === "echo"
        ? options.warmupMs + options.durationMs + 60_000
        : BROADCAST_MAX_MS + 60_000,
  });
  // Where the server's CPU comes from its own answer (no /proc), a starved server answers late
  // and back to back, and CPU over that short window means nothing.
  const cpuSampleSkew =
    Math.abs(measured.server.wallMs - measured.result.elapsedMs) / measured.result.elapsedMs;
  const cpuSampleValid = cpuSampleSkew <= MAX_CPU_SAMPLE_SKEW;
  return {
    ...measured.result,
    cpuSampleValid,
    // Acks (echo) or deliveries (broadcast) per second of server CPU: less sensitive than the
    // rate to other processes stealing the server's core, though not immune.
    messagesPerServerCpuSecond: cpuSampleValid
      ? measured.result.messagesPerSec / (measured.server.cpuPercent / 100)
      : null,
    server: measured.server,
    windowUs: measured.windowUs,
    machineBusyPercent: measured.machineBusyPercent,
    otherProcessesCpuPercent: measured.otherProcessesCpuPercent,
  };
}
