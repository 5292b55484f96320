/**
 * Debug output on the server side: `DEBUG` (the `debug` package's patterns, see
 * `src/protocol/debug.ts`) read once when a module creates its logger, lines written to stderr.
 * On a TTY a line looks like debug's: the namespace in its color, the message, `+12ms`; elsewhere
 * (a file, a pipe) it starts with an ISO date and has no colors (`DEBUG_COLORS=0` turns colors
 * off on a TTY too). The namespaces: `duplexio:websocket`, `duplexio:engine`,
 * `duplexio:socket.io`, `duplexio:adapter`, `duplexio:client` (README, "Debug output").
 * @module
 */

import { createDebugLog, type DebugLog, type DebugWriter } from "../protocol/debug.js";

export type { DebugLog } from "../protocol/debug.js";

/** debug's palette on 16-color terminals: cyan, green, yellow, blue, magenta, red. */
const COLORS = [6, 2, 3, 4, 5, 1];

/** The same color for a namespace on every line and run. */
function colorOf(namespace: string): number {
  let hash = 0;
  for (let i = 0; i < namespace.length; i++) hash = (hash * 31 + namespace.charCodeAt(i)) | 0;
  return COLORS[Math.abs(hash) % COLORS.length]!;
}

/** Whether lines get colors: stderr is a terminal, and DEBUG_COLORS does not say no. */
function useColors(): boolean {
  const setting = process.env.DEBUG_COLORS;
  if (setting !== undefined) return !/^(no|off|false|disabled|0)$/i.test(setting);
  return process.stderr.isTTY === true;
}

/** Writes one line to stderr; a message's own line breaks are escaped (one event, one line). */
export const stderrDebugWriter: DebugWriter = (namespace, message, sincePreviousMs) => {
  const text = message.replace(/\r?\n/g, "\\n");
  if (useColors()) {
    const color = `\u001b[3${colorOf(namespace)}`;
    process.stderr.write(
      `  ${color};1m${namespace} \u001b[0m${text} ${color}m+${sincePreviousMs}ms\u001b[0m\n`,
    );
  } else {
    process.stderr.write(
      `${new Date().toISOString()} ${namespace} ${text} +${sincePreviousMs}ms\n`,
    );
  }
};

/**
 * The logger of `namespace` when `DEBUG` turns it on, else undefined: modules keep it in a
 * constant and call `debug?.(...)`, which neither builds the message nor calls anything when off.
 */
export function debugLogger(namespace: string): DebugLog | undefined {
  return createDebugLog(namespace, process.env.DEBUG, stderrDebugWriter);
}
