/**
 * The fuzzer's side of permessage-deflate negotiation (RFC 7692 section 7.1), independent of
 * src/: checking a server's answer against the offers made, and answering a client's offer.
 */
import type { NegotiatedDeflate } from "./fuzz-session.js";

/** One extension of a Sec-WebSocket-Extensions header. */
export interface Extension {
  name: string;
  params: Map<string, string | true>;
  /** Parameters that appeared more than once. */
  duplicates: string[];
}

/** Parses a Sec-WebSocket-Extensions value (quoted values unquoted); lenient on whitespace. */
export function parseExtensions(value: string): Extension[] {
  if (value.trim() === "") return [];
  return value.split(",").map((item) => {
    const [name, ...rest] = item.split(";").map((part) => part.trim());
    const params = new Map<string, string | true>();
    const duplicates: string[] = [];
    for (const part of rest) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      const raw =
        eq < 0
          ? true
          : part
              .slice(eq + 1)
              .trim()
              .replace(/^"(.*)"$/, "$1");
      if (params.has(key)) duplicates.push(key);
      params.set(key, raw);
    }
    return { name: name.toLowerCase(), params, duplicates };
  });
}

const KNOWN = new Set([
  "server_no_context_takeover",
  "client_no_context_takeover",
  "server_max_window_bits",
  "client_max_window_bits",
]);

function windowBits(value: string | true | undefined): number | null {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return null;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : null;
}

/** Parameters resolved from an accepted response. */
export function resolve(response: Extension): NegotiatedDeflate {
  return {
    serverNoContextTakeover: response.params.has("server_no_context_takeover"),
    clientNoContextTakeover: response.params.has("client_no_context_takeover"),
    serverMaxWindowBits: windowBits(response.params.get("server_max_window_bits")) ?? 15,
    clientMaxWindowBits: windowBits(response.params.get("client_max_window_bits")) ?? 15,
  };
}

/** Does `response` accept `offer` as RFC 7692 allows? Returns a problem or null. */
function problemWith(offer: Extension, response: Extension): string | null {
  if (
    offer.params.has("server_no_context_takeover") &&
    !response.params.has("server_no_context_takeover")
  ) {
    return "server_no_context_takeover was offered but is missing from the response";
  }
  const offeredServerBits = windowBits(offer.params.get("server_max_window_bits"));
  const answeredServerBits = response.params.has("server_max_window_bits")
    ? windowBits(response.params.get("server_max_window_bits"))
    : undefined;
  if (offeredServerBits !== null) {
    if (answeredServerBits === undefined)
      return `server_max_window_bits=${offeredServerBits} was offered but is missing from the response`;
    if (answeredServerBits === null || answeredServerBits > offeredServerBits) {
      return `server_max_window_bits in the response exceeds the offered ${offeredServerBits}`;
    }
  }
  if (response.params.has("client_max_window_bits")) {
    if (!offer.params.has("client_max_window_bits"))
      return "client_max_window_bits answered but not offered";
    const offered = offer.params.get("client_max_window_bits");
    const answered = windowBits(response.params.get("client_max_window_bits"));
    if (answered === null) return "client_max_window_bits in the response has no valid value";
    if (offered !== true && answered > (windowBits(offered) ?? 15))
      return "client_max_window_bits above the offered value";
  }
  return null;
}

/**
 * Checks a server's Sec-WebSocket-Extensions answer against the client's offers (in order).
 * `deflate` is null when the server declined; `problem` says why an answer is invalid.
 */
export function checkServerAnswer(
  offers: Extension[],
  answer: string,
): { deflate: NegotiatedDeflate | null; problem?: string } {
  const answered = parseExtensions(answer);
  if (answered.length === 0) return { deflate: null };
  if (answered.length > 1)
    return { deflate: null, problem: `more than one extension accepted: ${answer}` };
  const response = answered[0];
  if (response.name !== "permessage-deflate")
    return { deflate: null, problem: `unoffered extension ${response.name}` };
  if (response.duplicates.length > 0)
    return { deflate: null, problem: `duplicate parameters ${response.duplicates.join(",")}` };
  for (const key of response.params.keys()) {
    if (!KNOWN.has(key)) return { deflate: null, problem: `unknown parameter ${key}` };
  }
  for (const key of ["server_no_context_takeover", "client_no_context_takeover"]) {
    if (response.params.has(key) && response.params.get(key) !== true)
      return { deflate: null, problem: `${key} with a value` };
  }
  const problems: string[] = [];
  for (const offer of offers.filter((o) => o.name === "permessage-deflate")) {
    const problem = problemWith(offer, response);
    if (problem === null) return { deflate: resolve(response) };
    problems.push(problem);
  }
  return { deflate: null, problem: `the response fits no offer: ${problems.join("; ")}` };
}

/**
 * The fuzzing server's answer to a client's offers: the first permessage-deflate offer is
 * accepted, honouring what it requires of the server, adding what `request` asks of the client
 * ("nct": client_no_context_takeover, "wbits=N": client_max_window_bits=N when the client
 * offered that parameter). Null when the client offered no permessage-deflate.
 */
export function answerOffer(
  offerHeader: string,
  request: string,
): { header: string; deflate: NegotiatedDeflate } | null {
  const offer = parseExtensions(offerHeader).find((o) => o.name === "permessage-deflate");
  if (!offer) return null;
  const params: string[] = [];
  if (offer.params.has("server_no_context_takeover")) params.push("server_no_context_takeover");
  const serverBits = windowBits(offer.params.get("server_max_window_bits"));
  if (serverBits !== null) params.push(`server_max_window_bits=${serverBits}`);
  const asks = request.split("+");
  if (asks.includes("nct")) params.push("client_no_context_takeover");
  const wbits = asks.find((a) => a.startsWith("wbits="));
  if (wbits && offer.params.has("client_max_window_bits")) {
    const offered = offer.params.get("client_max_window_bits");
    const asked = Number(wbits.slice(6));
    params.push(
      `client_max_window_bits=${offered === true ? asked : Math.min(asked, windowBits(offered) ?? 15)}`,
    );
  }
  const header = ["permessage-deflate", ...params].join("; ");
  return { header, deflate: resolve(parseExtensions(header)[0]) };
}
