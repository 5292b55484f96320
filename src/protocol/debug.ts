/**
 * Debug output's pure parts, shared by the server (`src/websocket/debug.ts`: `DEBUG`, stderr) and
 * the client (`src/client/debug.ts`: `localStorage.debug` or `DEBUG`, console or stderr): which
 * namespaces a pattern list turns on, the logger a module keeps (undefined when off, so that a
 * call site `debug?.(`...`)` costs one test and builds no string when off), and the short preview
 * of a packet a line shows.
 *
 * Patterns follow the `debug` package's convention, which socket.io users know: names separated
 * by commas or spaces, `*` matches any characters, a leading `-` excludes (exclusions win), so
 * `DEBUG=duplexio:*,-duplexio:adapter` or `DEBUG=*`.
 * @module
 */

/** Writes one line: the namespace, the message, and the milliseconds since its previous line. */
export type DebugWriter = (namespace: string, message: string, sincePreviousMs: number) => void;

/** A module's debug logger: one line per call. */
export type DebugLog = (message: string) => void;

/** True when `patterns` (the `debug` package's syntax) turn `namespace` on. */
export function debugEnabled(patterns: string, namespace: string): boolean {
  let enabled = false;
  for (const pattern of patterns.split(/[\s,]+/)) {
    const excluded = pattern[0] === "-";
    const glob = excluded ? pattern.slice(1) : pattern;
    if (glob && globToRegExp(glob).test(namespace)) {
      if (excluded) return false;
      enabled = true;
    }
  }
  return enabled;
}

/** `*` matches anything; every other character stands for itself. */
function globToRegExp(glob: string): RegExp {
  return RegExp(`^${glob.replace(/[|\\{}()[\]^$+?.]/g, "\\$&").replace(/\*/g, ".*")}$`);
}

/**
 * The logger of `namespace` when `patterns` turn it on, else undefined. Each line goes to `write`
 * with the time since this logger's previous line (as `debug` shows `+12ms`; 0 for the first).
 */
export function createDebugLog(
  namespace: string,
  patterns: string | undefined,
  write: DebugWriter,
): DebugLog | undefined {
  if (!patterns || !debugEnabled(patterns, namespace)) return undefined;
  let previous: number | undefined;
  return (message) => {
    const now = Date.now();
    write(namespace, message, now - (previous ?? now));
    previous = now;
  };
}

/** Characters of a packet shown in a debug line; the rest is counted, not shown. */
export const DEBUG_PREVIEW_LENGTH = 80;

/**
 * A one-line preview of a packet's data for debug output: text quoted and cut at
 * {@link DEBUG_PREVIEW_LENGTH} characters, binary data as its size.
 */
export function debugPreview(data: string | Uint8Array | undefined): string {
  if (data === undefined) return "";
  if (typeof data !== "string") return `<${data.length} bytes>`;
  if (data.length <= DEBUG_PREVIEW_LENGTH) return JSON.stringify(data);
  return `${JSON.stringify(data.slice(0, DEBUG_PREVIEW_LENGTH))}... (${data.length} chars)`;
}
