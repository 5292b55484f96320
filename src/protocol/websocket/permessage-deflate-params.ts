/**
 * permessage-deflate parameter negotiation (RFC 7692 section 7.1), for both ends.
 * The zlib side lives in the Node layer; this module only decides the parameters.
 * @module
 */

import { type ExtensionOffer, type ExtensionParam, formatExtensions } from "./extensions.js";

/** The registered extension name. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/** What one end wants; every field is optional. */
export interface DeflateNegotiationOptions {
  /** Server context is reset after every message. Client: requested in the offer; server: always applied. */
  serverNoContextTakeover?: boolean;
  /** Client context is reset after every message. Client: announced; server: demanded in the response. */
  clientNoContextTakeover?: boolean;
  /** 8..15. Client: the largest server window it accepts; server: the largest window it will use. */
  serverMaxWindowBits?: number;
  /**
   * 8..15, or `true`. Client: `true` offers the bare parameter (the server may choose), a number
   * also promises that window. Server: a number limits the client's window; offers that do not
   * allow the server to set it are declined. `true` on the server means no limit.
   */
  clientMaxWindowBits?: number | true;
}

/** Parameters in force after negotiation, for both directions. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 8..15 (15 when the parameter was absent). */
  serverMaxWindowBits: number;
  /** 8..15 (15 when the parameter was absent). */
  clientMaxWindowBits: number;
}

/** Offer or response parameters, parsed and checked for duplicates and values. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true` for the bare parameter. */
  clientMaxWindowBits: number | true | undefined;
}

/** Whether `bits` is an allowed window size (an integer 8..15). */
export function isValidWindowBits(bits: unknown): bits is number {
  return typeof bits === "number" && Number.isInteger(bits) && bits >= 8 && bits <= 15;
}

/** "decimal integer value without leading zeroes between 8 to 15" (RFC 7692 7.1.2). */
function parseWindowBits(value: string): number | undefined {
  return /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : undefined;
}

/** Parses `params`; a string describes the first problem (unknown, duplicate, bad value). */
function parseParams(params: ExtensionParam[], isResponse: boolean): ParsedParams | string {
  const parsed: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) return `duplicate parameter ${name}`;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== true) return `parameter ${name} must have no value`;
        if (name === "server_no_context_takeover") parsed.serverNoContextTakeover = true;
        else parsed.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = value === true ? undefined : parseWindowBits(value);
        if (bits === undefined) return `invalid value for ${name}`;
        parsed.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        // Bare only in an offer: a response must say which window the client has to use.
        if (value === true && !isResponse) {
          parsed.clientMaxWindowBits = true;
          break;
        }
        const bits = value === true ? undefined : parseWindowBits(value);
        if (bits === undefined) return `invalid value for ${name}`;
        parsed.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${name}`;
    }
  }
  return parsed;
}

/** A number option when it is a valid window size, else undefined. */
function windowOption(bits: number | true | undefined): number | undefined {
  return isValidWindowBits(bits) ? bits : undefined;
}

/**
 * Server side: picks the first acceptable permessage-deflate offer (client preference order,
 * RFC 7692 section 5) and builds the response element. Offers with unknown or duplicate
 * parameters or invalid values are declined, as is an offer without `client_max_window_bits` when
 * the server insists on a client window. Returns null when no offer is accepted.
 *
 * - `server_no_context_takeover` is answered when offered or when the server wants it.
 * - `client_no_context_takeover` is answered when offered (echoed) or when the server wants it.
 * - `server_max_window_bits` is the smaller of the client's request and the server's option;
 *   sent whenever either side set it (the server may limit its own window unasked, 7.1.2.1).
 * - `client_max_window_bits` is only sent when offered: the smaller of the offered value and the
 *   server's option, or just one of them when the other is absent.
 */
export function negotiateDeflateAsServer(
  offers: ExtensionOffer[],
  options: DeflateNegotiationOptions,
): { params: DeflateParams; response: string } | null {
  const serverWindowOption = windowOption(options.serverMaxWindowBits);
  const clientWindowOption = windowOption(options.clientMaxWindowBits);
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const offered = parseParams(offer.params, false);
    if (typeof offered === "string") continue;
    if (clientWindowOption !== undefined && offered.clientMaxWindowBits === undefined) continue;

    const serverNoContextTakeover =
      offered.serverNoContextTakeover || options.serverNoContextTakeover === true;
    const clientNoContextTakeover =
      offered.clientNoContextTakeover || options.clientNoContextTakeover === true;

    let serverMaxWindowBits: number | undefined = offered.serverMaxWindowBits;
    if (serverWindowOption !== undefined) {
      serverMaxWindowBits =
        serverMaxWindowBits === undefined
          ? serverWindowOption
          : Math.min(serverMaxWindowBits, serverWindowOption);
    }

    let clientMaxWindowBits: number | undefined;
    if (offered.clientMaxWindowBits !== undefined) {
      const offeredBits =
        offered.clientMaxWindowBits === true ? undefined : offered.clientMaxWindowBits;
      if (offeredBits !== undefined && clientWindowOption !== undefined) {
        clientMaxWindowBits = Math.min(offeredBits, clientWindowOption);
      } else {
        clientMaxWindowBits = offeredBits ?? clientWindowOption;
      }
    }

    const params: ExtensionParam[] = [];
    if (serverNoContextTakeover) params.push({ name: "server_no_context_takeover", value: true });
    if (clientNoContextTakeover) params.push({ name: "client_no_context_takeover", value: true });
    if (serverMaxWindowBits !== undefined) {
      params.push({ name: "server_max_window_bits", value: String(serverMaxWindowBits) });
    }
    if (clientMaxWindowBits !== undefined) {
      params.push({ name: "client_max_window_bits", value: String(clientMaxWindowBits) });
    }
    return {
      params: {
        serverNoContextTakeover,
        clientNoContextTakeover,
        serverMaxWindowBits: serverMaxWindowBits ?? 15,
        clientMaxWindowBits: clientMaxWindowBits ?? 15,
      },
      response: formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]),
    };
  }
  return null;
}

/**
 * Client side: the `Sec-WebSocket-Extensions` value offering permessage-deflate with the given
 * options. Window sizes outside 8..15 are left out.
 */
export function formatDeflateOffer(options: DeflateNegotiationOptions): string {
  const params: ExtensionParam[] = [];
  if (options.serverNoContextTakeover)
    params.push({ name: "server_no_context_takeover", value: true });
  if (options.clientNoContextTakeover)
    params.push({ name: "client_no_context_takeover", value: true });
  const serverBits = windowOption(options.serverMaxWindowBits);
  if (serverBits !== undefined) {
    params.push({ name: "server_max_window_bits", value: String(serverBits) });
  }
  if (options.clientMaxWindowBits === true) {
    params.push({ name: "client_max_window_bits", value: true });
  } else {
    const clientBits = windowOption(options.clientMaxWindowBits);
    if (clientBits !== undefined) {
      params.push({ name: "client_max_window_bits", value: String(clientBits) });
    }
  }
  return formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]);
}

/**
 * Client side: checks the server's permessage-deflate response against the offer made with
 * `options` (as formatted by {@link formatDeflateOffer}) and resolves the parameters.
 * Fails on unknown or duplicate parameters, invalid values, a missing `server_no_context_takeover`
 * or `server_max_window_bits` that was requested, a `server_max_window_bits` above the requested
 * one, a `client_max_window_bits` that was not offered or is above the offered value.
 */
export function acceptDeflateResponse(
  response: ExtensionOffer,
  options: DeflateNegotiationOptions,
): { ok: true; params: DeflateParams } | { ok: false; message: string } {
  if (response.name !== PERMESSAGE_DEFLATE) {
    return { ok: false, message: `unexpected extension ${response.name}` };
  }
  const answered = parseParams(response.params, true);
  if (typeof answered === "string")
    return { ok: false, message: `permessage-deflate: ${answered}` };

  if (options.serverNoContextTakeover && !answered.serverNoContextTakeover) {
    return {
      ok: false,
      message: "permessage-deflate: server_no_context_takeover was not accepted",
    };
  }

  const requestedServerBits = windowOption(options.serverMaxWindowBits);
  let serverMaxWindowBits = 15;
  if (answered.serverMaxWindowBits !== undefined) {
    if (requestedServerBits !== undefined && answered.serverMaxWindowBits > requestedServerBits) {
      return {
        ok: false,
        message: "permessage-deflate: server_max_window_bits above the requested value",
      };
    }
    serverMaxWindowBits = answered.serverMaxWindowBits;
  } else if (requestedServerBits !== undefined) {
    return { ok: false, message: "permessage-deflate: server_max_window_bits was not accepted" };
  }

  const offeredClientBits =
    options.clientMaxWindowBits === true ? true : windowOption(options.clientMaxWindowBits);
  let clientMaxWindowBits = typeof offeredClientBits === "number" ? offeredClientBits : 15;
  if (answered.clientMaxWindowBits !== undefined) {
    // parseParams guarantees a number in a response.
    const bits = answered.clientMaxWindowBits as number;
    if (offeredClientBits === undefined) {
      return { ok: false, message: "permessage-deflate: client_max_window_bits was not offered" };
    }
    if (bits > clientMaxWindowBits) {
      return {
        ok: false,
        message: "permessage-deflate: client_max_window_bits above the offered value",
      };
    }
    clientMaxWindowBits = bits;
  }

  return {
    ok: true,
    params: {
      serverNoContextTakeover: answered.serverNoContextTakeover,
      clientNoContextTakeover:
        answered.clientNoContextTakeover || options.clientNoContextTakeover === true,
      serverMaxWindowBits,
      clientMaxWindowBits,
    },
  };
}
