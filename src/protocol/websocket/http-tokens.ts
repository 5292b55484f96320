/**
 * Small RFC 7230 helpers shared by the handshake and extension parsers.
 * @module
 */

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
//         / DIGIT / ALPHA   (RFC 7230 section 3.2.6)
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Whether the character code is a `tchar`. */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Whether `text` is a non-empty `token`. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** Whether the character code is optional whitespace (SP or HTAB). */
export function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * `value` without leading and trailing optional whitespace (SP, HTAB). Index scans, in linear
 * time: the regular expression `/^[ \t]+|[ \t]+$/g` takes quadratic time on a value with a long
 * run of inner spaces (a 16 KB header blocked the event loop for 0.2 s).
 */
export function trimWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * Elements of a comma-separated header list with surrounding whitespace removed and empty
 * elements dropped (RFC 7230 section 7 asks recipients to ignore them).
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const trimmed = trimWhitespace(part);
    if (trimmed.length > 0) out.push(trimmed);
  }
  return out;
}

/** Whether a header field value is free of control characters (no CR, LF, NUL: no injection). */
export function isValidHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * The first value of a request header that may come as a list (Node's `IncomingHttpHeaders`
 * shape). Node itself joins repeated fields of these headers into one string, so a list only
 * comes from code that built the headers object by hand.
 */
export function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
