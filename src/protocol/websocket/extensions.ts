/**
 * `Sec-WebSocket-Extensions` values (RFC 6455 section 9.1, with RFC 7230 lists and quoted strings).
 * @module
 */

import { isToken, isTokenChar, isWhitespace } from "./http-tokens.js";

/** One `name` or `name=value` parameter; `value` is `true` when the parameter has no value. */
export interface ExtensionParam {
  name: string;
  value: string | true;
}

/** One element of the list: an extension name and its parameters, in header order. */
export interface ExtensionOffer {
  name: string;
  params: ExtensionParam[];
}

/** A cursor over the header text; parse functions return false on a syntax error. */
interface Cursor {
  text: string;
  pos: number;
}

function skipWhitespace(c: Cursor): void {
  while (c.pos < c.text.length && isWhitespace(c.text.charCodeAt(c.pos))) c.pos++;
}

function readToken(c: Cursor): string {
  const start = c.pos;
  while (c.pos < c.text.length && isTokenChar(c.text.charCodeAt(c.pos))) c.pos++;
  return c.text.slice(start, c.pos);
}

/** quoted-string (RFC 7230 section 3.2.6), unescaped; null when malformed. */
function readQuoted(c: Cursor): string | null {
  c.pos++; // opening DQUOTE
  let out = "";
  while (c.pos < c.text.length) {
    const code = c.text.charCodeAt(c.pos);
    if (code === 0x22) {
      c.pos++;
      return out;
    }
    if (code === 0x5c) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      const next = c.text.charCodeAt(c.pos + 1);
      if (!(next === 0x09 || (next >= 0x20 && next !== 0x7f && next <= 0xff))) return null;
      out += c.text[c.pos + 1];
      c.pos += 2;
      continue;
    }
    // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    if (!(code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff))) return null;
    out += c.text[c.pos];
    c.pos++;
  }
  return null; // no closing DQUOTE
}

/**
 * Parses the header value into its elements, in order. Empty list elements are ignored
 * (RFC 7230 section 7); whitespace is allowed around `,`, `;` and `=`. A quoted value must unescape
 * to a token (RFC 6455 section 9.1). Returns null on any syntax error or when no element is left.
 */
export function parseExtensions(value: string): ExtensionOffer[] | null {
  const c: Cursor = { text: value, pos: 0 };
  const offers: ExtensionOffer[] = [];
  const length = value.length;
  for (;;) {
    skipWhitespace(c);
    if (c.pos >= length) break;
    if (value.charCodeAt(c.pos) === 0x2c) {
      c.pos++; // empty element
      continue;
    }
    const name = readToken(c);
    if (name.length === 0) return null;
    const offer: ExtensionOffer = { name, params: [] };
    offers.push(offer);
    skipWhitespace(c);
    while (c.pos < length && value.charCodeAt(c.pos) === 0x3b) {
      c.pos++;
      skipWhitespace(c);
      const paramName = readToken(c);
      if (paramName.length === 0) return null;
      skipWhitespace(c);
      let paramValue: string | true = true;
      if (c.pos < length && value.charCodeAt(c.pos) === 0x3d) {
        c.pos++;
        skipWhitespace(c);
        if (c.pos < length && value.charCodeAt(c.pos) === 0x22) {
          const quoted = readQuoted(c);
          if (quoted === null || !isToken(quoted)) return null;
          paramValue = quoted;
        } else {
          paramValue = readToken(c);
          if (paramValue.length === 0) return null;
        }
        skipWhitespace(c);
      }
      offer.params.push({ name: paramName, value: paramValue });
    }
    if (c.pos >= length) break;
    if (value.charCodeAt(c.pos) !== 0x2c) return null;
    c.pos++;
  }
  return offers.length > 0 ? offers : null;
}

function formatValue(value: string): string {
  if (isToken(value)) return value;
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/** Formats elements as `name; param; param=value, name2`; non-token values are quoted. */
export function formatExtensions(offers: ExtensionOffer[]): string {
  const parts: string[] = [];
  for (const offer of offers) {
    let part = offer.name;
    for (const param of offer.params) {
      part +=
        param.value === true ? `; ${param.name}` : `; ${param.name}=${formatValue(param.value)}`;
    }
    parts.push(part);
  }
  return parts.join(", ");
}
