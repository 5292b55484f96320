/**
 * The Engine.IO query string as the server reads it: the pairs URLSearchParams gives, the first
 * value of each key, "__proto__" left out (the plain split must agree with URLSearchParams).
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import fc from "fast-check";
import { prepareQuery } from "../../src/engine/request-query.js";

/** What the query must be: URLSearchParams' pairs, first value of each key. */
function reference(search: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    if (key === "__proto__" || Object.hasOwn(query, key)) continue;
    query[key] = value;
  }
  return query;
}

function queryOf(url: string): Record<string, string> {
  return prepareQuery({ url } as IncomingMessage);
}

describe("prepareQuery", () => {
  it("reads the pairs as URLSearchParams does, first value of each key", () => {
    const cases = [
      "EIO=4&transport=websocket",
      "EIO=4&transport=polling&t=Pabc123&sid=x-y_z",
      "a=1&a=2",
      "&&a=1&&b&=c&d=&",
      "a=b=c",
      "__proto__=1&constructor=2&toString=3",
      "k=v#frag",
      "é=ü&ÿ",
      "a%20b=c+d&e=%zz&f=%C3%A9",
      "",
      "=",
      "&",
    ];
    for (const search of cases) {
      const query = queryOf(`/engine.io/?${search}`);
      assert.deepEqual({ ...query }, reference(search), search);
      assert.equal(Object.getPrototypeOf(query), Object.prototype, search);
    }
    assert.deepEqual(queryOf("/engine.io/"), {});
  });

  it("agrees with URLSearchParams on arbitrary query strings", () => {
    const chars = fc.constantFrom("a", "b", "=", "&", "%", "+", "2", "0", "é", "_", "?", "#");
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 30 }), (search) => {
        assert.deepEqual({ ...queryOf(`/x?${search}`) }, reference(search));
      }),
      { numRuns: 2000 },
    );
  });

  it("parses a request once and keeps the result as request._query", () => {
    const request = { url: "/engine.io/?EIO=4" } as IncomingMessage & { _query?: unknown };
    const query = prepareQuery(request);
    assert.equal(request._query, query);
    assert.equal(prepareQuery(request), query);
  });
});
