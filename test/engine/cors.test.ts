/**
 * CORS on the polling requests (the `cors` option, with the `cors` package's semantics).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EngineServerOptions } from "../../src/engine/index.js";
import { httpRequest, pollingHandshake, startServer } from "./helpers.js";

const HANDSHAKE = "/engine.io/?EIO=4&transport=polling";

async function withServer(
  options: EngineServerOptions,
  run: (port: number) => Promise<void>,
): Promise<void> {
  const server = await startServer(options);
  try {
    await run(server.port);
  } finally {
    await server.close();
  }
}

function preflight(port: number, origin: string, requestHeaders?: string) {
  const headers: Record<string, string> = {
    Origin: origin,
    "Access-Control-Request-Method": "POST",
  };
  if (requestHeaders) headers["Access-Control-Request-Headers"] = requestHeaders;
  return httpRequest(port, HANDSHAKE, { method: "OPTIONS", headers });
}

describe("engine CORS", () => {
  it("adds no CORS headers without the option; a preflight is a bad handshake method", async () => {
    await withServer({}, async (port) => {
      const { response } = await pollingHandshake(port, undefined, {
        Origin: "https://app.example",
      });
      assert.equal(response.headers["access-control-allow-origin"], undefined);
      const options = await preflight(port, "https://app.example");
      assert.equal(options.status, 400);
      assert.equal(JSON.parse(options.text).code, 2);
    });
  });

  it("answers preflights with 204 and the configured origin, credentials, methods, headers", async () => {
    await withServer(
      { cors: { origin: "https://app.example", credentials: true } },
      async (port) => {
        const response = await preflight(port, "https://app.example", "content-type, x-token");
        assert.equal(response.status, 204);
        assert.equal(response.headers["content-length"], "0");
        assert.equal(response.headers["access-control-allow-origin"], "https://app.example");
        assert.equal(response.headers["access-control-allow-credentials"], "true");
        assert.equal(
          response.headers["access-control-allow-methods"],
          "GET,HEAD,PUT,PATCH,POST,DELETE",
        );
        assert.equal(response.headers["access-control-allow-headers"], "content-type, x-token");
        assert.equal(response.headers.vary, "Origin, Access-Control-Request-Headers");
      },
    );
  });

  it("puts the headers on handshakes, polls, POSTs and error answers", async () => {
    await withServer(
      { cors: { origin: "https://app.example", credentials: true, exposedHeaders: ["x-id"] } },
      async (port) => {
        const origin = { Origin: "https://app.example" };
        const { response, sid } = await pollingHandshake(port, undefined, origin);
        assert.equal(response.headers["access-control-allow-origin"], "https://app.example");
        assert.equal(response.headers["access-control-allow-credentials"], "true");
        assert.equal(response.headers["access-control-expose-headers"], "x-id");
        const posted = await httpRequest(port, `${HANDSHAKE}&sid=${sid}`, {
          method: "POST",
          headers: origin,
          body: "4x",
        });
        assert.equal(posted.headers["access-control-allow-origin"], "https://app.example");
        const refused = await httpRequest(port, `${HANDSHAKE}&sid=unknown`, { headers: origin });
        assert.equal(refused.status, 400);
        assert.equal(refused.headers["access-control-allow-origin"], "https://app.example");
      },
    );
  });

  it("origin true reflects the request's origin", async () => {
    await withServer({ cors: { origin: true } }, async (port) => {
      const response = await preflight(port, "https://any.example");
      assert.equal(response.headers["access-control-allow-origin"], "https://any.example");
      assert.equal(response.headers["access-control-allow-credentials"], undefined);
    });
  });

  it("defaults to * when the cors object has no origin", async () => {
    await withServer({ cors: {} }, async (port) => {
      const { response } = await pollingHandshake(port, undefined, { Origin: "https://x.example" });
      assert.equal(response.headers["access-control-allow-origin"], "*");
    });
  });

  it("allows only listed origins (strings and RegExps)", async () => {
    await withServer({ cors: { origin: ["https://a.example", /\.b\.example$/] } }, async (port) => {
      const listed = await preflight(port, "https://a.example");
      assert.equal(listed.headers["access-control-allow-origin"], "https://a.example");
      const matched = await preflight(port, "https://x.b.example");
      assert.equal(matched.headers["access-control-allow-origin"], "https://x.b.example");
      const other = await preflight(port, "https://evil.example");
      assert.equal(other.headers["access-control-allow-origin"], undefined);
      assert.equal(other.headers.vary, "Origin, Access-Control-Request-Headers");
    });
  });

  it("takes methods, allowedHeaders, maxAge and optionsSuccessStatus", async () => {
    await withServer(
      {
        cors: {
          origin: "*",
          methods: ["GET", "POST"],
          allowedHeaders: "content-type",
          maxAge: 600,
          optionsSuccessStatus: 200,
        },
      },
      async (port) => {
        const response = await preflight(port, "https://x.example", "x-other");
        assert.equal(response.status, 200);
        assert.equal(response.headers["access-control-allow-methods"], "GET,POST");
        assert.equal(response.headers["access-control-allow-headers"], "content-type");
        assert.equal(response.headers["access-control-max-age"], "600");
      },
    );
  });

  it("takes an asynchronous origin function and a per-request delegate", async () => {
    await withServer(
      {
        cors: {
          origin: (origin, callback) =>
            setImmediate(() => callback(null, origin === "https://ok.example")),
        },
      },
      async (port) => {
        const ok = await preflight(port, "https://ok.example");
        assert.equal(ok.headers["access-control-allow-origin"], "https://ok.example");
        // false from the function: no CORS at all, so the preflight reaches the handshake checks.
        const no = await preflight(port, "https://no.example");
        assert.equal(no.headers["access-control-allow-origin"], undefined);
        assert.equal(no.status, 400);
      },
    );
    await withServer(
      {
        cors: (req, callback) =>
          callback(null, { origin: req.headers["x-tenant"] === "a" ? "https://a.example" : false }),
      },
      async (port) => {
        const { response } = await pollingHandshake(port, undefined, { "x-tenant": "a" });
        assert.equal(response.headers["access-control-allow-origin"], "https://a.example");
      },
    );
  });

  it("refuses the request when the origin function fails", async () => {
    await withServer(
      { cors: { origin: (_origin, callback) => callback(new Error("boom")) } },
      async (port) => {
        const response = await httpRequest(port, HANDSHAKE, {
          headers: { Origin: "https://x.example" },
        });
        assert.equal(response.status, 400);
        assert.deepEqual(JSON.parse(response.text), { code: 3, message: "Bad request" });
      },
    );
  });
});
