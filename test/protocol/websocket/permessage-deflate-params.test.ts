import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExtensions } from "../../../src/protocol/websocket/extensions.js";
import {
  acceptDeflateResponse,
  type DeflateNegotiationOptions,
  type DeflateParams,
  formatDeflateOffer,
  negotiateDeflateAsServer,
} from "../../../src/protocol/websocket/permessage-deflate-params.js";

function params(partial: Partial<DeflateParams>): DeflateParams {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...partial,
  };
}

function offers(header: string) {
  const parsed = parseExtensions(header);
  assert.ok(parsed, `test header parses: ${header}`);
  return parsed;
}

describe("permessage-deflate negotiation, server side", () => {
  const table: Array<
    [string, string, DeflateNegotiationOptions, string | null, Partial<DeflateParams>?]
  > = [
    ["plain offer", "permessage-deflate", {}, "permessage-deflate", {}],
    ["browser offer", "permessage-deflate; client_max_window_bits", {}, "permessage-deflate", {}],
    ["other extensions skipped", "x-foo, permessage-deflate", {}, "permessage-deflate", {}],
    ["no deflate offered", "x-foo; a=1", {}, null],
    [
      "server_no_context_takeover offered is accepted",
      "permessage-deflate; server_no_context_takeover",
      {},
      "permessage-deflate; server_no_context_takeover",
      { serverNoContextTakeover: true },
    ],
    [
      "server wants server_no_context_takeover",
      "permessage-deflate",
      { serverNoContextTakeover: true },
      "permessage-deflate; server_no_context_takeover",
      { serverNoContextTakeover: true },
    ],
    [
      "client_no_context_takeover offered is echoed",
      "permessage-deflate; client_no_context_takeover",
      {},
      "permessage-deflate; client_no_context_takeover",
      { clientNoContextTakeover: true },
    ],
    [
      "server demands client_no_context_takeover",
      "permessage-deflate",
      { clientNoContextTakeover: true },
      "permessage-deflate; client_no_context_takeover",
      { clientNoContextTakeover: true },
    ],
    [
      "server_max_window_bits requested",
      "permessage-deflate; server_max_window_bits=10",
      {},
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 10 },
    ],
    [
      "server option lower than requested wins",
      "permessage-deflate; server_max_window_bits=12",
      { serverMaxWindowBits: 9 },
      "permessage-deflate; server_max_window_bits=9",
      { serverMaxWindowBits: 9 },
    ],
    [
      "server option larger than requested: the client's value",
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 14 },
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 10 },
    ],
    [
      "server limits its own window unasked",
      "permessage-deflate",
      { serverMaxWindowBits: 11 },
      "permessage-deflate; server_max_window_bits=11",
      { serverMaxWindowBits: 11 },
    ],
    [
      "quoted window value",
      'permessage-deflate; server_max_window_bits="10"',
      {},
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 10 },
    ],
    [
      "client_max_window_bits bare, server sets it",
      "permessage-deflate; client_max_window_bits",
      { clientMaxWindowBits: 10 },
      "permessage-deflate; client_max_window_bits=10",
      { clientMaxWindowBits: 10 },
    ],
    [
      "client_max_window_bits valued, server option lower",
      "permessage-deflate; client_max_window_bits=12",
      { clientMaxWindowBits: 9 },
      "permessage-deflate; client_max_window_bits=9",
      { clientMaxWindowBits: 9 },
    ],
    [
      "client_max_window_bits valued, server option higher: the client's promise",
      "permessage-deflate; client_max_window_bits=9",
      { clientMaxWindowBits: 13 },
      "permessage-deflate; client_max_window_bits=9",
      { clientMaxWindowBits: 9 },
    ],
    [
      "client_max_window_bits valued, no server option: echoed",
      "permessage-deflate; client_max_window_bits=11",
      {},
      "permessage-deflate; client_max_window_bits=11",
      { clientMaxWindowBits: 11 },
    ],
    [
      "client window demanded but not offerable: declined",
      "permessage-deflate",
      { clientMaxWindowBits: 10 },
      null,
    ],
    [
      "client window demanded: second offer supports it",
      "permessage-deflate, permessage-deflate; client_max_window_bits",
      { clientMaxWindowBits: 10 },
      "permessage-deflate; client_max_window_bits=10",
      { clientMaxWindowBits: 10 },
    ],
    ["unknown parameter declined", "permessage-deflate; foo", {}, null],
    [
      "duplicate parameter declined",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      {},
      null,
    ],
    [
      "server_max_window_bits without value declined",
      "permessage-deflate; server_max_window_bits",
      {},
      null,
    ],
    ["server_max_window_bits 7 declined", "permessage-deflate; server_max_window_bits=7", {}, null],
    [
      "server_max_window_bits 16 declined",
      "permessage-deflate; server_max_window_bits=16",
      {},
      null,
    ],
    [
      "server_max_window_bits leading zero declined",
      "permessage-deflate; server_max_window_bits=09",
      {},
      null,
    ],
    [
      "client_max_window_bits 16 declined",
      "permessage-deflate; client_max_window_bits=16",
      {},
      null,
    ],
    [
      "client_max_window_bits text declined",
      "permessage-deflate; client_max_window_bits=abc",
      {},
      null,
    ],
    [
      "no_context_takeover with value declined",
      "permessage-deflate; client_no_context_takeover=1",
      {},
      null,
    ],
    [
      "invalid first offer falls back to the next",
      "permessage-deflate; server_max_window_bits=99, permessage-deflate; client_max_window_bits",
      {},
      "permessage-deflate",
      {},
    ],
    [
      "everything at once",
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=13",
      { serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11",
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 11,
      },
    ],
  ];
  for (const [name, header, options, response, resolved] of table) {
    it(name, () => {
      const result = negotiateDeflateAsServer(offers(header), options);
      if (response === null) {
        assert.equal(result, null);
      } else {
        assert.ok(result);
        assert.equal(result.response, response);
        assert.deepEqual(result.params, params(resolved ?? {}));
      }
    });
  }
});

describe("permessage-deflate negotiation, client side", () => {
  it("formats offers", () => {
    assert.equal(formatDeflateOffer({}), "permessage-deflate");
    assert.equal(
      formatDeflateOffer({ clientMaxWindowBits: true }),
      "permessage-deflate; client_max_window_bits",
    );
    assert.equal(
      formatDeflateOffer({
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 12,
      }),
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
    );
    assert.equal(formatDeflateOffer({ serverMaxWindowBits: 20 }), "permessage-deflate");
  });

  const table: Array<[string, DeflateNegotiationOptions, string, Partial<DeflateParams> | null]> = [
    ["plain", {}, "permessage-deflate", {}],
    [
      "server may add server_no_context_takeover",
      {},
      "permessage-deflate; server_no_context_takeover",
      { serverNoContextTakeover: true },
    ],
    [
      "requested server_no_context_takeover accepted",
      { serverNoContextTakeover: true },
      "permessage-deflate; server_no_context_takeover",
      { serverNoContextTakeover: true },
    ],
    [
      "requested server_no_context_takeover missing",
      { serverNoContextTakeover: true },
      "permessage-deflate",
      null,
    ],
    [
      "server demands client_no_context_takeover",
      {},
      "permessage-deflate; client_no_context_takeover",
      { clientNoContextTakeover: true },
    ],
    [
      "announced client_no_context_takeover holds without echo",
      { clientNoContextTakeover: true },
      "permessage-deflate",
      { clientNoContextTakeover: true },
    ],
    [
      "server limits its own window unasked",
      {},
      "permessage-deflate; server_max_window_bits=9",
      { serverMaxWindowBits: 9 },
    ],
    [
      "requested server window accepted lower",
      { serverMaxWindowBits: 12 },
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 10 },
    ],
    [
      "requested server window accepted equal",
      { serverMaxWindowBits: 12 },
      "permessage-deflate; server_max_window_bits=12",
      { serverMaxWindowBits: 12 },
    ],
    [
      "server window above requested",
      { serverMaxWindowBits: 10 },
      "permessage-deflate; server_max_window_bits=11",
      null,
    ],
    ["requested server window missing", { serverMaxWindowBits: 10 }, "permessage-deflate", null],
    ["server window without value", {}, "permessage-deflate; server_max_window_bits", null],
    ["server window out of range", {}, "permessage-deflate; server_max_window_bits=16", null],
    [
      "client window set after bare offer",
      { clientMaxWindowBits: true },
      "permessage-deflate; client_max_window_bits=10",
      { clientMaxWindowBits: 10 },
    ],
    [
      "client window not set after bare offer",
      { clientMaxWindowBits: true },
      "permessage-deflate",
      {},
    ],
    [
      "client window promised holds",
      { clientMaxWindowBits: 11 },
      "permessage-deflate",
      { clientMaxWindowBits: 11 },
    ],
    [
      "client window lowered",
      { clientMaxWindowBits: 11 },
      "permessage-deflate; client_max_window_bits=9",
      { clientMaxWindowBits: 9 },
    ],
    [
      "client window above offered",
      { clientMaxWindowBits: 11 },
      "permessage-deflate; client_max_window_bits=12",
      null,
    ],
    ["client window not offered", {}, "permessage-deflate; client_max_window_bits=10", null],
    [
      "client window bare in response",
      { clientMaxWindowBits: true },
      "permessage-deflate; client_max_window_bits",
      null,
    ],
    ["unknown parameter", {}, "permessage-deflate; foo=1", null],
    [
      "duplicate parameter",
      {},
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      null,
    ],
    ["value on a flag", {}, "permessage-deflate; server_no_context_takeover=1", null],
    ["other extension", {}, "x-webkit-deflate-frame", null],
  ];
  for (const [name, options, header, expected] of table) {
    it(name, () => {
      const [response] = offers(header);
      const result = acceptDeflateResponse(response, options);
      if (expected === null) {
        assert.equal(result.ok, false);
        if (!result.ok) assert.ok(result.message.length > 0);
      } else {
        assert.deepEqual(result, { ok: true, params: params(expected) });
      }
    });
  }

  it("agrees with the server for every option combination", () => {
    const bitsChoices = [undefined, 9, 12, 15];
    for (const sNo of [false, true]) {
      for (const cNo of [false, true]) {
        for (const sBits of bitsChoices) {
          for (const cBits of [undefined, true as const, 10, 15]) {
            const clientOptions: DeflateNegotiationOptions = {
              serverNoContextTakeover: sNo,
              clientNoContextTakeover: cNo,
              serverMaxWindowBits: sBits,
              clientMaxWindowBits: cBits,
            };
            for (const serverBits of bitsChoices) {
              for (const clientBitsOption of [undefined, 9, 13]) {
                const serverOptions: DeflateNegotiationOptions = {
                  serverMaxWindowBits: serverBits,
                  clientMaxWindowBits: clientBitsOption,
                };
                const server = negotiateDeflateAsServer(
                  offers(formatDeflateOffer(clientOptions)),
                  serverOptions,
                );
                if (server === null) {
                  assert.ok(clientBitsOption !== undefined && cBits === undefined);
                  continue;
                }
                const client = acceptDeflateResponse(offers(server.response)[0], clientOptions);
                assert.deepEqual(client, { ok: true, params: server.params });
              }
            }
          }
        }
      }
    }
  });
});
