/**
 * Fuzzing `Sec-WebSocket-Extensions` parsing (src/protocol/websocket/extensions.ts) and the
 * permessage-deflate negotiation (permessage-deflate-params.ts): random header text and bent
 * offers never throw, parse exactly as the reference grammar (http-grammar.ts) reads them, and
 * every negotiated result is valid per RFC 7692 (window bits 8-15, no parameter the client did
 * not allow, the response accepted by a client that made that offer, both ends agreeing).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatExtensions, parseExtensions } from "../../src/protocol/websocket/extensions.js";
import {
  acceptDeflateResponse,
  type DeflateNegotiationOptions,
  type DeflateParams,
  formatDeflateOffer,
  negotiateDeflateAsServer,
} from "../../src/protocol/websocket/permessage-deflate-params.js";
import { fuzz, mutateString, mutationArb } from "./config.js";
import {
  deflateOfferTextArb,
  extensionListArb,
  headerTextArb,
  type RefOffer,
  refParseExtensions,
} from "./http-grammar.js";

/** Header text: random, well-formed, well-formed then mutated, deflate-like. */
const extensionHeaderArb: fc.Arbitrary<string> = fc.oneof(
  headerTextArb,
  extensionListArb,
  fc
    .tuple(extensionListArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([s, m]) => mutateString(s, m)),
  deflateOfferTextArb,
);

const windowOptionArb = fc.option(
  fc.oneof(fc.integer({ min: 8, max: 15 }), fc.constantFrom(0, 7, 16, 8.5, Number.NaN, -1)),
  { nil: undefined },
);
const optionsArb: fc.Arbitrary<DeflateNegotiationOptions> = fc.record(
  {
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: windowOptionArb,
    clientMaxWindowBits: fc.oneof(windowOptionArb, fc.constant(true as const)),
  },
  { requiredKeys: [] },
);

const BITS = /^(?:[89]|1[0-5])$/;
const isBits = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 8 && v <= 15;

/** An offer's permessage-deflate parameters per RFC 7692 7.1, or null when it must be declined. */
function refOfferParams(offer: RefOffer): {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
} | null {
  if (offer.name !== "permessage-deflate") return null;
  const names = offer.params.map((p) => p.name);
  if (new Set(names).size !== names.length) return null;
  const out = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined as number | undefined,
    clientMaxWindowBits: undefined as number | true | undefined,
  };
  for (const { name, value } of offer.params) {
    if (name === "server_no_context_takeover" && value === true) out.serverNoContextTakeover = true;
    else if (name === "client_no_context_takeover" && value === true)
      out.clientNoContextTakeover = true;
    else if (name === "server_max_window_bits" && value !== true && BITS.test(value))
      out.serverMaxWindowBits = Number(value);
    else if (name === "client_max_window_bits" && (value === true || BITS.test(value)))
      out.clientMaxWindowBits = value === true ? true : Number(value);
    else return null;
  }
  return out;
}

describe("fuzz: Sec-WebSocket-Extensions", () => {
  it("parseExtensions never throws and reads what the reference grammar reads", () => {
    fuzz(
      "parse vs reference",
      fc.property(extensionHeaderArb, (text) => {
        assert.deepEqual(parseExtensions(text), refParseExtensions(text), JSON.stringify(text));
      }),
      5000,
    );
  });

  it("formatExtensions output parses back to the same offers", () => {
    fuzz(
      "format round trip",
      fc.property(extensionHeaderArb, (text) => {
        const offers = parseExtensions(text);
        if (offers === null) return;
        assert.deepEqual(parseExtensions(formatExtensions(offers)), offers);
      }),
      3000,
    );
  });
});

describe("fuzz: permessage-deflate negotiation", () => {
  it("server: a valid answer to the first acceptable offer, accepted by the offering client", () => {
    fuzz(
      "server negotiation",
      fc.property(extensionHeaderArb, optionsArb, (text, options) => {
        const offers = parseExtensions(text);
        if (offers === null) return;
        const result = negotiateDeflateAsServer(offers, options);
        const requireClientBits = isBits(options.clientMaxWindowBits);
        const accepted = offers
          .map(refOfferParams)
          .find((p) => p !== null && (!requireClientBits || p.clientMaxWindowBits !== undefined));
        if (accepted === undefined || accepted === null) {
          assert.equal(result, null);
          return;
        }
        assert.ok(result !== null, "an acceptable offer was declined");
        const { params, response } = result;
        for (const bits of [params.serverMaxWindowBits, params.clientMaxWindowBits]) {
          assert.ok(isBits(bits), `window bits ${bits}`);
        }
        // What the response says (RFC 7692 7.1.1, 7.1.2).
        const parsed = parseExtensions(response);
        assert.ok(parsed !== null && parsed.length === 1, response);
        const answer = refOfferParams(parsed[0]);
        assert.ok(answer !== null, `invalid response ${response}`);
        assert.notEqual(answer.clientMaxWindowBits, true, "a response must give a value");
        if (accepted.serverNoContextTakeover) assert.ok(answer.serverNoContextTakeover);
        if (accepted.serverMaxWindowBits !== undefined) {
          assert.ok(answer.serverMaxWindowBits !== undefined);
          assert.ok(answer.serverMaxWindowBits <= accepted.serverMaxWindowBits);
        }
        const answeredClientBits = answer.clientMaxWindowBits;
        if (answeredClientBits !== undefined && answeredClientBits !== true) {
          assert.ok(accepted.clientMaxWindowBits !== undefined, "client bits not offered");
          if (accepted.clientMaxWindowBits !== true) {
            assert.ok(answeredClientBits <= accepted.clientMaxWindowBits);
          }
        }
        if (options.serverNoContextTakeover) assert.ok(params.serverNoContextTakeover);
        if (isBits(options.serverMaxWindowBits)) {
          assert.ok(params.serverMaxWindowBits <= options.serverMaxWindowBits);
        }
        if (requireClientBits) {
          assert.ok(params.clientMaxWindowBits <= (options.clientMaxWindowBits as number));
        }
        // The client that made this offer accepts the answer and resolves the same parameters.
        const clientOptions: DeflateNegotiationOptions = {
          serverNoContextTakeover: accepted.serverNoContextTakeover,
          clientNoContextTakeover: accepted.clientNoContextTakeover,
          serverMaxWindowBits: accepted.serverMaxWindowBits,
          clientMaxWindowBits: accepted.clientMaxWindowBits,
        };
        const client = acceptDeflateResponse(parsed[0], clientOptions);
        assert.ok(client.ok, client.ok ? "" : client.message);
        assert.deepEqual(client.params, params);
      }),
      4000,
    );
  });

  it("client offer, server answer, client check: both ends agree, bits within 8-15", () => {
    fuzz(
      "offer round trip",
      fc.property(optionsArb, optionsArb, (clientOptions, serverOptions) => {
        const offer = formatDeflateOffer(clientOptions);
        const offers = parseExtensions(offer);
        assert.ok(offers !== null, offer);
        const result = negotiateDeflateAsServer(offers, serverOptions);
        const declined =
          isBits(serverOptions.clientMaxWindowBits) &&
          clientOptions.clientMaxWindowBits !== true &&
          !isBits(clientOptions.clientMaxWindowBits);
        if (declined) {
          assert.equal(result, null);
          return;
        }
        assert.ok(result !== null, `declined ${offer}`);
        const answer = parseExtensions(result.response);
        assert.ok(answer !== null && answer.length === 1);
        const client = acceptDeflateResponse(answer[0], clientOptions);
        assert.ok(client.ok, client.ok ? "" : `${offer} -> ${result.response}: ${client.message}`);
        assert.deepEqual(client.params, result.params);
      }),
      3000,
    );
  });

  it("client: any response never throws; an accepted one stays within what was offered", () => {
    fuzz(
      "client check",
      fc.property(extensionHeaderArb, optionsArb, (text, options) => {
        const offers = parseExtensions(text);
        if (offers === null) return;
        for (const offer of offers) {
          const result = acceptDeflateResponse(offer, options);
          if (!result.ok) continue;
          const p: DeflateParams = result.params;
          assert.ok(isBits(p.serverMaxWindowBits) && isBits(p.clientMaxWindowBits));
          if (isBits(options.serverMaxWindowBits)) {
            assert.ok(p.serverMaxWindowBits <= options.serverMaxWindowBits);
          }
          if (isBits(options.clientMaxWindowBits)) {
            assert.ok(p.clientMaxWindowBits <= options.clientMaxWindowBits);
          }
          if (options.serverNoContextTakeover) assert.ok(p.serverNoContextTakeover);
          if (options.clientNoContextTakeover) assert.ok(p.clientNoContextTakeover);
          const answered = refOfferParams(offer);
          assert.ok(answered !== null, `accepted an invalid response ${JSON.stringify(offer)}`);
          assert.notEqual(answered.clientMaxWindowBits, true, "a response must give a value");
          if (answered.clientMaxWindowBits !== undefined) {
            const offered = options.clientMaxWindowBits;
            assert.ok(offered === true || isBits(offered), "client bits were not offered");
          }
        }
      }),
      3000,
    );
  });
});
