/**
 * gzip/deflate of HTTP long-polling responses: the encoding is negotiated from the request's
 * Accept-Encoding (RFC 9110 section 12.5.3, with q-values), the body compressed off the main
 * thread by zlib.
 * @module
 */

import { deflate, gzip, type ZlibOptions } from "node:zlib";

/** The encodings offered, in the server's order of preference. */
export type ContentEncoding = "gzip" | "deflate";

const OFFERED: readonly ContentEncoding[] = ["gzip", "deflate"];

/**
 * The encoding to use for a client sending `acceptEncoding`, or null for none (no header, or
 * only refused/unknown codings). Highest q wins; on a tie the client's order, then ours.
 */
export function negotiateEncoding(acceptEncoding: string | undefined): ContentEncoding | null {
  if (!acceptEncoding) return null;
  let best: ContentEncoding | null = null;
  let bestQuality = 0;
  let bestPosition = Number.POSITIVE_INFINITY;
  const entries = acceptEncoding.split(",");
  for (const offered of OFFERED) {
    let quality = -1;
    let position = Number.POSITIVE_INFINITY;
    let wildcardQuality = -1;
    let wildcardPosition = Number.POSITIVE_INFINITY;
    for (let i = 0; i < entries.length; i++) {
      const [coding, ...params] = entries[i].split(";");
      const name = coding.trim().toLowerCase();
      if (name !== offered && name !== "*") continue;
      const q = parseQuality(params);
      if (name === offered) {
        quality = q;
        position = i;
      } else {
        wildcardQuality = q;
        wildcardPosition = i;
      }
    }
    // An explicit entry beats the wildcard, whatever their q-values.
    if (quality === -1) {
      quality = wildcardQuality;
      position = wildcardPosition;
    }
    if (quality <= 0) continue;
    if (quality > bestQuality || (quality === bestQuality && position < bestPosition)) {
      best = offered;
      bestQuality = quality;
      bestPosition = position;
    }
  }
  return best;
}

function parseQuality(params: string[]): number {
  for (const param of params) {
    const [key, value] = param.split("=");
    if (key.trim().toLowerCase() !== "q" || value === undefined) continue;
    const q = Number(value.trim());
    return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}

/** Compresses `data` (a whole response body) with zlib's thread pool. */
export function compressBody(
  data: string | Uint8Array,
  encoding: ContentEncoding,
  options: ZlibOptions,
  callback: (error: Error | null, result: Buffer) => void,
): void {
  const input = typeof data === "string" ? Buffer.from(data) : data;
  if (encoding === "gzip") gzip(input, options, callback);
  else deflate(input, options, callback);
}
