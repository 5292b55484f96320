/**
 * Reference readings of the HTTP grammar the WebSocket handshake uses (RFC 7230 tokens, lists,
 * quoted strings; RFC 6455 section 9.1 extension lists), written for the fuzz suites with regular
 * expressions and splits rather than a cursor, so they share no structure with
 * `src/protocol/websocket/http-tokens.ts` and `extensions.ts`. Inputs are kept short by the
 * generators (these expressions are not meant for hostile sizes). Also the generators of header
 * values.
 */
import fc from "fast-check";

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function refIsToken(text: string): boolean {
  return TOKEN.test(text);
}

/** Strips SP and HTAB at both ends, one character at a time. */
export function refTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === " " || text[start] === "\t")) start++;
  while (end > start && (text[end - 1] === " " || text[end - 1] === "\t")) end--;
  return text.slice(start, end);
}

/** List elements, trimmed, empty ones dropped (RFC 7230 section 7). */
export function refSplitList(text: string): string[] {
  return text
    .split(",")
    .map(refTrim)
    .filter((e) => e.length > 0);
}

/** Field value without CTLs (HTAB allowed) and within Latin-1. */
export function refIsHeaderValue(text: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(text);
}

export interface RefParam {
  name: string;
  value: string | true;
}
export interface RefOffer {
  name: string;
  params: RefParam[];
}

const T = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const Q = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const P = `${T}(?:[ \\t]*=[ \\t]*(?:${T}|${Q}))?`;
const E = `${T}(?:[ \\t]*;[ \\t]*${P})*`;
const EXTENSION_LIST = new RegExp(`^[ \\t,]*${E}(?:[ \\t]*,[ \\t,]*${E})*[ \\t,]*$`);
const QUOTED = new RegExp(Q, "g");

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\([\s\S])/g, "$1");
}

/**
 * `Sec-WebSocket-Extensions` per RFC 6455 9.1 with RFC 7230 list rules (empty elements ignored,
 * OWS around `,` `;` `=`), quoted values that must unescape to a token; null when invalid or
 * empty.
 */
export function refParseExtensions(value: string): RefOffer[] | null {
  if (!EXTENSION_LIST.test(value)) return null;
  // Quoted values must unescape to tokens: then none holds a separator, and splitting is safe.
  for (const quoted of value.match(QUOTED) ?? []) if (!refIsToken(unquote(quoted))) return null;
  const offers: RefOffer[] = [];
  for (const element of refSplitList(value)) {
    const [name, ...params] = element.split(";").map(refTrim);
    offers.push({
      name,
      params: params.map((param) => {
        const eq = param.indexOf("=");
        if (eq < 0) return { name: param, value: true };
        const raw = refTrim(param.slice(eq + 1));
        return {
          name: refTrim(param.slice(0, eq)),
          value: raw.startsWith('"') ? unquote(raw) : raw,
        };
      }),
    });
  }
  return offers.length > 0 ? offers : null;
}

// ---- generators ------------------------------------------------------------------------------

export const tokenArb: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom(...TCHARS),
  minLength: 1,
  maxLength: 8,
});

/** Characters that matter to the grammar, plus anything. */
export const headerCharArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TCHARS) },
  { weight: 3, arbitrary: fc.constantFrom(" ", "\t", ",", ";", "=", '"', "\\") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "\r",
      "\n",
      "\0",
      "\x7f",
      "\x1e",
      "\u00e9",
      "\u00ff",
      "\u0100",
      "\u20ac",
      "\ud800",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);

/** Random header text made of grammar-relevant characters. */
export const headerTextArb: fc.Arbitrary<string> = fc.string({
  unit: headerCharArb,
  maxLength: 40,
});

const owsArb = fc.constantFrom("", "", " ", "\t", "  ");

/** A well-formed extension list (random names, params, quoted or not), as header text. */
export const extensionListArb: fc.Arbitrary<string> = fc
  .array(
    fc.record({
      name: fc.oneof(tokenArb, fc.constant("permessage-deflate")),
      params: fc.array(
        fc.record({
          name: tokenArb,
          value: fc.option(fc.tuple(tokenArb, fc.boolean())),
          ows: fc.tuple(owsArb, owsArb, owsArb),
        }),
        { maxLength: 4 },
      ),
      ows: owsArb,
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((offers) =>
    offers
      .map(
        (offer) =>
          offer.name +
          offer.params
            .map((p) => {
              const value = p.value === null ? "" : p.value[1] ? `"${p.value[0]}"` : p.value[0];
              return `${p.ows[0]};${p.ows[1]}${p.name}${value ? `${p.ows[2]}=${p.ows[2]}${value}` : ""}`;
            })
            .join("") +
          offer.ows,
      )
      .join(","),
  );

/** permessage-deflate offers and responses: known parameters with good and bad values. */
export const deflateOfferTextArb: fc.Arbitrary<string> = fc
  .array(
    fc.record({
      name: fc.oneof(
        { weight: 5, arbitrary: fc.constant("permessage-deflate") },
        { weight: 1, arbitrary: tokenArb },
      ),
      params: fc.array(
        fc.tuple(
          fc.oneof(
            {
              weight: 6,
              arbitrary: fc.constantFrom(
                "server_no_context_takeover",
                "client_no_context_takeover",
                "server_max_window_bits",
                "client_max_window_bits",
              ),
            },
            { weight: 1, arbitrary: tokenArb },
          ),
          fc.option(
            fc.oneof(
              fc.constantFrom("8", "9", "10", "11", "12", "13", "14", "15"),
              fc.constantFrom(
                "7",
                "16",
                "08",
                "015",
                "1e1",
                "-9",
                "+9",
                "9.0",
                '"10"',
                '"1\\0"',
                '"x"',
              ),
              tokenArb,
            ),
            { freq: 2 },
          ),
        ),
        { maxLength: 5 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((offers) =>
    offers
      .map((o) => [o.name, ...o.params.map(([n, v]) => (v === null ? n : `${n}=${v}`))].join("; "))
      .join(", "),
  );
