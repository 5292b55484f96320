/**
 * The head of an HTTP/1.1 request (RFC 9112 sections 2, 3 and 5): request line and header
 * fields, found and checked strictly in bytes, with bounds. Positions come back as offsets
 * into the caller's bytes, so nothing is decoded or copied here; the I/O edge decodes what it
 * needs (as latin1, as Node does).
 * @module
 */

import { isTokenChar } from "../websocket/http-tokens.js";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const DEL = 0x7f;

/** Node's default `maxHeaderSize`: request line and header fields together. */
export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
/** Header fields accepted in one request (browsers send about 20). */
export const DEFAULT_MAX_HEADER_FIELDS = 256;

/** Bounds of {@link findRequestHeadEnd} and {@link parseRequestHead}. */
export interface RequestHeadLimits {
  /** Bytes from the request line to the blank line that ends the head (431 above). */
  maxHeadBytes: number;
  /** Header fields (431 above). */
  maxHeaderFields: number;
}

/** Where {@link findRequestHeadEnd} got to in the bytes received so far. */
export type HeadScan =
  /** No end yet: scan again from `resumeAt` when more bytes came. */
  | { kind: "incomplete"; resumeAt: number }
  /** The head ends just before `end` (the index past its blank line). */
  | { kind: "complete"; end: number }
  | { kind: "invalid"; status: number; message: string };

/**
 * Looks for the blank line that ends the head in `bytes[0..length)`, from `from` (a previous
 * scan's `resumeAt`, so a head trickled byte by byte is scanned once in all). Empty lines before
 * the request line are skipped (RFC 9112 section 2.2; at most 8). A bare LF is refused at once (400), and a
 * head longer than `maxHeadBytes` with no end in sight gets 431.
 */
export function findRequestHeadEnd(
  bytes: Uint8Array,
  length: number,
  from: number,
  maxHeadBytes: number,
): HeadScan {
  for (let i = from; i < length; i++) {
    if (bytes[i] !== LF) continue;
    if (i === 0 || bytes[i - 1] !== CR) {
      return { kind: "invalid", status: 400, message: "Bare LF in the request head" };
    }
    // CRLF CRLF ends the head, unless the first CRLF is an empty line before the request line.
    if (i >= 3 && bytes[i - 2] === LF && bytes[i - 3] === CR) {
      const start = leadingEmptyLines(bytes, i + 1);
      if (start <= i - 3) return { kind: "complete", end: i + 1 };
    }
  }
  const start = leadingEmptyLines(bytes, length);
  if (length - start > maxHeadBytes) {
    return { kind: "invalid", status: 431, message: "Request Header Fields Too Large" };
  }
  // A CR at the very end may start the next CRLF: look at it again with the next bytes.
  return { kind: "incomplete", resumeAt: Math.max(from, length - 1) };
}

/**
 * Empty lines ignored before the request line: RFC 9112 asks for at least one; a bound keeps
 * every scan of them short (more make the request line malformed).
 */
const MAX_LEADING_EMPTY_LINES = 8;

/** Index of the first byte after the empty lines (CRLF) that precede the request line. */
function leadingEmptyLines(bytes: Uint8Array, limit: number): number {
  let i = 0;
  while (
    i < 2 * MAX_LEADING_EMPTY_LINES &&
    i + 1 < limit &&
    bytes[i] === CR &&
    bytes[i + 1] === LF
  ) {
    i += 2;
  }
  return i;
}

/** A request head, as offsets into the bytes it was parsed from (end exclusive). */
export interface RequestHead {
  methodStart: number;
  methodEnd: number;
  targetStart: number;
  targetEnd: number;
  versionMajor: number;
  versionMinor: number;
  /**
   * Four offsets per field, in arrival order: name start, name end, value start, value end
   * (the value without its surrounding whitespace).
   */
  fields: number[];
}

/** Outcome of {@link parseRequestHead}. */
export type RequestHeadResult =
  | { ok: true; head: RequestHead }
  | { ok: false; status: number; message: string };

function invalid(message: string, status = 400): RequestHeadResult {
  return { ok: false, status, message };
}

/**
 * Parses `bytes[0..end)`, a whole head as {@link findRequestHeadEnd} delimited it:
 * `method SP request-target SP HTTP/x.y CRLF`, then `name ":" OWS value OWS CRLF` per field,
 * then CRLF. Strict: the method and field names are tokens; the target is visible characters
 * (and bytes from 0x80, as Node accepts); field values allow SP, HTAB, visible characters and
 * obs-text; whitespace before the colon, folded lines (obs-fold) and any other control
 * character are refused with 400. A version other than 1.x gets 505; more than
 * `limits.maxHeaderFields` fields, or a head longer than `limits.maxHeadBytes`, 431.
 */
export function parseRequestHead(
  bytes: Uint8Array,
  end: number,
  limits: RequestHeadLimits,
): RequestHeadResult {
  let i = leadingEmptyLines(bytes, end);
  if (end - i > limits.maxHeadBytes) return invalid("Request Header Fields Too Large", 431);

  const methodStart = i;
  while (i < end && isTokenChar(bytes[i])) i++;
  if (i === methodStart || bytes[i] !== SP) return invalid("Malformed request line");
  const methodEnd = i++;

  const targetStart = i;
  while (i < end) {
    const c = bytes[i];
    if (c <= SP || c === DEL) break;
    i++;
  }
  if (i === targetStart || bytes[i] !== SP) return invalid("Malformed request target");
  const targetEnd = i++;

  // "HTTP/" DIGIT "." DIGIT CRLF: 10 bytes.
  if (
    i + 10 > end ||
    bytes[i] !== 0x48 ||
    bytes[i + 1] !== 0x54 ||
    bytes[i + 2] !== 0x54 ||
    bytes[i + 3] !== 0x50 ||
    bytes[i + 4] !== 0x2f ||
    !isDigit(bytes[i + 5]) ||
    bytes[i + 6] !== 0x2e ||
    !isDigit(bytes[i + 7]) ||
    bytes[i + 8] !== CR ||
    bytes[i + 9] !== LF
  ) {
    return invalid("Malformed HTTP version");
  }
  const versionMajor = bytes[i + 5] - 0x30;
  const versionMinor = bytes[i + 7] - 0x30;
  if (versionMajor !== 1) return invalid("HTTP Version Not Supported", 505);
  i += 10;

  const fields: number[] = [];
  // The head ends with the CRLF of the blank line at end - 2.
  while (i < end - 2) {
    if (fields.length >= limits.maxHeaderFields * 4) {
      return invalid("Request Header Fields Too Large", 431);
    }
    const nameStart = i;
    while (i < end && isTokenChar(bytes[i])) i++;
    if (i === nameStart) {
      const c = bytes[i];
      return invalid(
        c === SP || c === HTAB ? "Folded header lines are not accepted" : "Malformed header name",
      );
    }
    if (bytes[i] !== COLON) return invalid("Malformed header field");
    const nameEnd = i++;
    while (i < end && (bytes[i] === SP || bytes[i] === HTAB)) i++;
    const valueStart = i;
    let valueEnd = i;
    for (;;) {
      if (i >= end) return invalid("Malformed header field");
      const c = bytes[i];
      if (c === CR) break;
      if ((c < SP && c !== HTAB) || c === DEL) return invalid("Control character in a header");
      i++;
      if (c !== SP && c !== HTAB) valueEnd = i;
    }
    if (bytes[i + 1] !== LF) return invalid("Malformed header field");
    i += 2;
    fields.push(nameStart, nameEnd, valueStart, valueEnd);
  }
  if (i !== end - 2 || bytes[i] !== CR || bytes[i + 1] !== LF) {
    return invalid("Malformed request head");
  }
  return {
    ok: true,
    head: { methodStart, methodEnd, targetStart, targetEnd, versionMajor, versionMinor, fields },
  };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
