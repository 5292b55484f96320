import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type VerifyClientInfo,
  WebSocketServer,
  type WebSocketServerOptions,
} from "../../src/websocket/index.js";
import {
  closeWss,
  openClient,
  RawPeer,
  refusal,
  roundTrip,
  upgradeRequest,
  wssPort,
} from "./server-helpers.js";

/** A port-mode echo server with `options`; `run` gets the port. */
async function withServer(
  options: Omit<WebSocketServerOptions, "port" | "host">,
  run: (port: number, wss: WebSocketServer) => Promise<void>,
): Promise<void> {
  const wss = new WebSocketServer({ ...options, port: 0, host: "127.0.0.1" });
  wss.on("connection", (socket) => {
    socket.on("message", (data) => socket.send(data));
  });
  try {
    await run(await wssPort(wss), wss);
  } finally {
    await closeWss(wss);
  }
}

describe("verifyClient", () => {
  it("sync form: false refuses with 401, true accepts", async () => {
    const seen: VerifyClientInfo[] = [];
    await withServer(
      {
        verifyClient: (info) => {
          seen.push(info);
          return info.req.url === "/yes";
        },
      },
      async (port) => {
        const answer = await refusal(`ws://127.0.0.1:${port}/no`, undefined, {
          origin: "https://app.example",
        });
        assert.equal(answer.status, 401);
        const client = await openClient(`ws://127.0.0.1:${port}/yes`);
        assert.equal(await roundTrip(client, "in"), "in");
        client.close();
        assert.equal(seen.length, 2);
        assert.equal(seen[0].origin, "https://app.example");
        assert.equal(seen[0].secure, false);
        assert.equal(seen[1].origin, undefined);
      },
    );
  });

  it("callback form: refuses with the chosen status, message and headers", async () => {
    await withServer(
      {
        verifyClient: (info, done) => {
          setTimeout(() => {
            if (info.req.headers.authorization === "Bearer good") done(true);
            else done(false, 403, "Token rejected", { "X-Reason": "bad-token" });
          }, 5);
        },
      },
      async (port) => {
        const answer = await refusal(`ws://127.0.0.1:${port}/`, undefined, {
          headers: { authorization: "Bearer bad" },
        });
        assert.equal(answer.status, 403);
        assert.equal(answer.body, "Token rejected");
        assert.equal(answer.headers["x-reason"], "bad-token");
        const client = await openClient(`ws://127.0.0.1:${port}/`, undefined, {
          headers: { authorization: "Bearer good" },
        });
        assert.equal(await roundTrip(client, "authorized"), "authorized");
        client.close();
      },
    );
  });

  it("callback form: refusing without a code gives 401 and the status text", async () => {
    await withServer({ verifyClient: (_info, done) => done(false) }, async (port) => {
      const answer = await refusal(`ws://127.0.0.1:${port}/`);
      assert.equal(answer.status, 401);
      assert.equal(answer.body, "Unauthorized");
    });
  });

  it("promise form: resolves true, false or a rejection with status and headers", async () => {
    await withServer(
      {
        verifyClient: async (info) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          if (info.req.url === "/ok") return true;
          if (info.req.url === "/busy") {
            return { code: 429, message: "Slow down", headers: { "Retry-After": "5" } };
          }
          return false;
        },
      },
      async (port) => {
        const busy = await refusal(`ws://127.0.0.1:${port}/busy`);
        assert.equal(busy.status, 429);
        assert.equal(busy.body, "Slow down");
        assert.equal(busy.headers["retry-after"], "5");
        assert.equal((await refusal(`ws://127.0.0.1:${port}/nope`)).status, 401);
        const client = await openClient(`ws://127.0.0.1:${port}/ok`);
        assert.equal(await roundTrip(client, "promised"), "promised");
        client.close();
      },
    );
  });

  it("a throwing or rejecting hook gives 500 and an error event, never a crash", async () => {
    const errors: Error[] = [];
    await withServer(
      {
        verifyClient: (info) => {
          if (info.req.url === "/throw") throw new Error("sync bug");
          return Promise.reject(new Error("async bug"));
        },
      },
      async (port, wss) => {
        wss.on("error", (error) => errors.push(error));
        assert.equal((await refusal(`ws://127.0.0.1:${port}/throw`)).status, 500);
        assert.equal((await refusal(`ws://127.0.0.1:${port}/reject`)).status, 500);
        assert.deepEqual(
          errors.map((e) => e.message),
          ["sync bug", "async bug"],
        );
      },
    );
  });

  it("headers that would split the response are dropped from a refusal", async () => {
    await withServer(
      {
        verifyClient: (_info, done) =>
          done(false, 403, "no", { "X-Ok": "1", "X-Bad": "a\r\nX-Injected: 1" }),
      },
      async (port) => {
        const answer = await refusal(`ws://127.0.0.1:${port}/`);
        assert.equal(answer.status, 403);
        assert.equal(answer.headers["x-ok"], "1");
        assert.equal(answer.headers["x-injected"], undefined);
      },
    );
  });
});

describe("allowedOrigins", () => {
  it("a list accepts listed origins (case-insensitive) and refuses others and no origin with 403", async () => {
    await withServer(
      { allowedOrigins: ["https://app.example", "http://localhost:3000/"] },
      async (port) => {
        const url = `ws://127.0.0.1:${port}/`;
        const ok = await openClient(url, undefined, { origin: "https://APP.example" });
        assert.equal(await roundTrip(ok, "allowed"), "allowed");
        ok.close();
        const local = await openClient(url, undefined, { origin: "http://localhost:3000" });
        local.close();
        const evil = await refusal(url, undefined, { origin: "https://evil.example" });
        assert.equal(evil.status, 403);
        assert.match(evil.body, /Origin/);
        assert.equal((await refusal(url)).status, 403);
        assert.equal((await refusal(url, undefined, { origin: "null" })).status, 403);
      },
    );
  });

  it("a predicate decides, and sees a missing origin as undefined", async () => {
    const seen: Array<string | undefined> = [];
    await withServer(
      {
        allowedOrigins: (origin) => {
          seen.push(origin);
          return origin === undefined || origin.endsWith(".trusted.example");
        },
      },
      async (port) => {
        const url = `ws://127.0.0.1:${port}/`;
        (await openClient(url)).close();
        (await openClient(url, undefined, { origin: "https://a.trusted.example" })).close();
        assert.equal(
          (await refusal(url, undefined, { origin: "https://other.example" })).status,
          403,
        );
        assert.deepEqual(seen, [undefined, "https://a.trusted.example", "https://other.example"]);
      },
    );
  });

  it("is checked before verifyClient", async () => {
    let verified = 0;
    await withServer(
      {
        allowedOrigins: ["https://app.example"],
        verifyClient: () => {
          verified++;
          return true;
        },
      },
      async (port) => {
        const answer = await refusal(`ws://127.0.0.1:${port}/`, undefined, {
          origin: "https://x.example",
        });
        assert.equal(answer.status, 403);
        assert.equal(verified, 0);
      },
    );
  });
});

describe("subprotocols", () => {
  it("selects the first offered protocol by default", async () => {
    await withServer({}, async (port) => {
      const client = await openClient(`ws://127.0.0.1:${port}/`, ["chat.v2", "chat.v1"]);
      assert.equal(client.protocol, "chat.v2");
      client.close();
      const none = await openClient(`ws://127.0.0.1:${port}/`);
      assert.equal(none.protocol, "");
      none.close();
    });
  });

  it("handleProtocols picks one; the server socket knows it", async () => {
    const offered: string[][] = [];
    await withServer(
      {
        handleProtocols: (protocols, request) => {
          offered.push([...protocols]);
          assert.equal(request.url, "/p");
          return protocols.has("chat.v1") ? "chat.v1" : false;
        },
      },
      async (port, wss) => {
        const serverSide = new Promise<string>((resolve) =>
          wss.once("connection", (socket) => resolve(socket.protocol)),
        );
        const client = await openClient(`ws://127.0.0.1:${port}/p`, ["chat.v2", "chat.v1"]);
        assert.equal(client.protocol, "chat.v1");
        assert.equal(await serverSide, "chat.v1");
        assert.deepEqual(offered, [["chat.v2", "chat.v1"]]);
        client.close();
      },
    );
  });

  it("handleProtocols returning false or a protocol not offered selects none", async () => {
    await withServer(
      { handleProtocols: (protocols) => (protocols.has("x") ? "not-offered" : false) },
      async (port) => {
        // ws's client fails when a protocol was requested and none was selected: the server must
        // not have sent one, which the raw 101 shows.
        for (const offer of ["x", "y"]) {
          const peer = await RawPeer.connect(
            port,
            upgradeRequest(port, { headers: { "sec-websocket-protocol": offer } }),
          );
          await peer.until(() => peer.response !== undefined, "101");
          assert.equal(peer.response?.status, 101);
          assert.equal(peer.response?.headers["sec-websocket-protocol"], undefined);
          peer.destroy();
        }
      },
    );
  });

  it("handleProtocols throwing refuses with 500", async () => {
    await withServer(
      {
        handleProtocols: () => {
          throw new Error("protocol bug");
        },
      },
      async (port, wss) => {
        const errors: Error[] = [];
        wss.on("error", (error) => errors.push(error));
        assert.equal((await refusal(`ws://127.0.0.1:${port}/`, ["a"])).status, 500);
        assert.equal(errors[0]?.message, "protocol bug");
      },
    );
  });
});
