/**
 * What the client's requests look like: URLs (path, query, EIO, transport, sid, cache buster),
 * extraHeaders on polling requests and the WebSocket handshake, credentials, one GET at a time,
 * one POST at a time; and when send callbacks and `drain` come.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EngineClient,
  type FetchInitLike,
  type FetchLike,
} from "../../../src/client/engine/index.js";
import { EngineUrls } from "../../../src/client/engine/options.js";
import {
  answer,
  connect,
  next,
  openPacket,
  type RawRequest,
  startRawServer,
  startServer,
  waitUntil,
} from "./helpers.js";

describe("engine client request URLs", () => {
  it("EngineUrls: path normalisation, user query first, reserved names left out", () => {
    const urls = new EngineUrls({ secure: false, host: "127.0.0.1:3000" }, "/socket.io", true, {
      token: "a b&c",
      EIO: "3",
      t: "mine",
    });
    const first = urls.polling(null);
    // The cache buster replaces the user's parameter of the same name.
    assert.match(
      first,
      /^http:\/\/127\.0\.0\.1:3000\/socket\.io\/\?token=a%20b%26c&EIO=4&transport=polling&t=[0-9a-z]+$/,
    );
    assert.notEqual(urls.polling(null), first, "a new cache buster each time");
    // Unstamped (the WebSocket's default), the user's t stays.
    assert.equal(
      urls.websocket("s/d"),
      "ws://127.0.0.1:3000/socket.io/?token=a%20b%26c&t=mine&EIO=4&transport=websocket&sid=s%2Fd",
    );
    assert.equal(
      urls.polling("x", null),
      "http://127.0.0.1:3000/socket.io/?token=a%20b%26c&t=mine&EIO=4&transport=polling&sid=x",
    );
    assert.match(
      urls.websocket(null, "ts"),
      /^ws:\/\/127\.0\.0\.1:3000\/socket\.io\/\?token=a%20b%26c&t=mine&EIO=4&transport=websocket&ts=[0-9a-z]+$/,
    );
    assert.equal(urls.endpoint(false), "http://127.0.0.1:3000/socket.io/");
    assert.equal(urls.endpoint(true), "ws://127.0.0.1:3000/socket.io/");
    const secure = new EngineUrls({ secure: true, host: "[::1]" }, "custom//", false, {});
    assert.match(
      secure.polling("x"),
      /^https:\/\/\[::1\]\/custom\?EIO=4&transport=polling&sid=x&t=/,
    );
    assert.equal(secure.websocket(null), "wss://[::1]/custom?EIO=4&transport=websocket");
  });

  it("the URI's path is not the Engine.IO path; its query is kept (options.query wins)", async () => {
    const seen: URL[] = [];
    const server = await startRawServer((request) => {
      seen.push(request.url);
      if (!request.url.searchParams.has("sid")) {
        answer(request, openPacket({ pingInterval: 1000, pingTimeout: 1000 }));
      }
    });
    try {
      const client = new EngineClient(`${server.url}/some-namespace?a=1&b=2`, {
        transports: ["polling"],
        path: "/my-path",
        query: { b: "3", c: "4" },
      });
      await next(client, "open");
      await waitUntil(() => seen.length >= 2, 2000, "the first poll");
      assert.equal(seen[0].pathname, "/my-path/");
      const params = Object.fromEntries(seen[0].searchParams);
      assert.deepEqual(
        { ...params, t: "" },
        { a: "1", b: "3", c: "4", EIO: "4", transport: "polling", t: "" },
      );
      assert.equal(seen[1].searchParams.get("sid"), "fake-sid");
      assert.notEqual(seen[1].searchParams.get("t"), seen[0].searchParams.get("t"));
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe("engine client request headers and credentials", () => {
  it("extraHeaders reach every polling request and the WebSocket handshake", async () => {
    const server = await startServer("duplexio");
    try {
      const client = connect(server, {
        extraHeaders: { "x-test": "yes", authorization: "Bearer t" },
      });
      await next(client, "upgrade");
      client.send("a post");
      client.close();
      const kinds = new Set<string>();
      for (const request of server.requests) {
        assert.equal(request.headers["x-test"], "yes", `${request.method} ${request.url}`);
        assert.equal(request.headers.authorization, "Bearer t");
        const transport = new URL(request.url ?? "", "http://x").searchParams.get("transport");
        kinds.add(`${request.method} ${transport}`);
      }
      assert.ok(kinds.has("GET polling"));
      assert.ok(kinds.has("GET websocket"));
    } finally {
      await server.close();
    }
  });

  it("POSTs are text/plain; credentials follow withCredentials", async () => {
    const server = await startRawServer((request) => {
      if (request.method === "POST") answer(request, "ok");
      else if (!request.url.searchParams.has("sid"))
        answer(request, openPacket({ pingInterval: 1000, pingTimeout: 1000 }));
    });
    try {
      for (const withCredentials of [false, true]) {
        const inits: FetchInitLike[] = [];
        const recording: FetchLike = (url, init) => {
          inits.push(init);
          return fetch(url, init);
        };
        const client = new EngineClient(server.url, {
          transports: ["polling"],
          withCredentials,
          fetch: recording,
        });
        await next(client, "open");
        client.send("x");
        await next(client, "drain");
        const post = inits.find((init) => init.method === "POST");
        assert.ok(post);
        assert.equal(post.headers["content-type"], "text/plain;charset=UTF-8");
        assert.equal(post.body, "4x");
        for (const init of inits) {
          assert.equal(init.credentials, withCredentials ? "include" : "same-origin");
        }
        client.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe("engine client request discipline", () => {
  it("one GET and one POST at a time; callbacks after the write; drain when empty", async () => {
    let openGets = 0;
    let maxGets = 0;
    let openPosts = 0;
    let maxPosts = 0;
    const posts: string[] = [];
    const held: RawRequest[] = [];
    const server = await startRawServer((request) => {
      if (request.method === "POST") {
        openPosts++;
        maxPosts = Math.max(maxPosts, openPosts);
        posts.push(request.body);
        // Slow POSTs: what is sent meanwhile must wait for the next one.
        setTimeout(() => {
          openPosts--;
          answer(request, "ok");
        }, 30);
        return;
      }
      if (!request.url.searchParams.has("sid")) {
        answer(request, openPacket({ pingInterval: 5000, pingTimeout: 5000 }));
        return;
      }
      openGets++;
      maxGets = Math.max(maxGets, openGets);
      held.push(request);
      // Answer each poll with a noop after a moment: the client polls again.
      setTimeout(() => {
        openGets--;
        answer(request, "6");
      }, 10);
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      await next(client, "open");
      const order: string[] = [];
      let drains = 0;
      client.on("drain", () => {
        drains++;
        order.push("drain");
      });
      client.send("1", () => order.push("cb1"));
      client.send("2", () => order.push("cb2"));
      client.send("3", () => order.push("cb3"));
      assert.equal(order.length, 0, "no callback before the POST is answered");
      await waitUntil(() => drains === 1, 3000, "drain");
      assert.deepEqual(posts, ["41", "42\x1e43"]);
      assert.deepEqual(order, ["cb1", "cb2", "cb3", "drain"]);
      await waitUntil(() => held.length >= 5, 3000, "five polls");
      assert.equal(maxGets, 1);
      assert.equal(maxPosts, 1);
      client.close();
    } finally {
      await server.close();
    }
  });

  it("over WebSocket, callbacks and drain come as each message is handed to the socket", async () => {
    const server = await startServer("duplexio");
    try {
      const client = connect(server, { transports: ["websocket"] });
      const order: string[] = [];
      client.on("drain", () => order.push("drain"));
      client.send("early", () => order.push("cb early"));
      assert.equal(order.length, 0, "buffered before the handshake");
      await next(client, "open");
      assert.deepEqual(order, ["cb early", "drain"]);
      client.send("late", () => order.push("cb late"));
      assert.deepEqual(order, ["cb early", "drain", "cb late", "drain"]);
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe("engine client scoped fetch (own connections per polling transport)", () => {
  it("each polling transport gets its own fetch, released once its requests are over", async () => {
    const server = await startRawServer((request) => {
      if (request.method === "POST") answer(request, "ok");
      else if (!request.url.searchParams.has("sid"))
        answer(request, openPacket({ pingInterval: 5000, pingTimeout: 5000 }));
      // Polls are held: the GET is still pending when the client closes.
    });
    try {
      const events: string[] = [];
      let scopes = 0;
      const scopedFetch = () => {
        const scope = scopes++;
        return {
          fetch: ((url, init) => {
            events.push(`${scope} ${init.method} ${init.body ?? ""}`);
            return fetch(url, init);
          }) satisfies FetchLike,
          close: () => events.push(`${scope} released`),
        };
      };
      const client = new EngineClient(server.url, { transports: ["polling"], scopedFetch });
      await next(client, "open");
      client.close();
      await waitUntil(() => events.includes("0 released"), 3000, "release");
      assert.deepEqual(events, ["0 GET ", "0 GET ", "0 POST 1", "0 released"]);
      assert.equal(scopes, 1);

      const second = new EngineClient(server.url, { transports: ["polling"], scopedFetch });
      await next(second, "open");
      second.close();
      await waitUntil(() => events.includes("1 released"), 3000, "second release");
      assert.equal(scopes, 2);
    } finally {
      await server.close();
    }
  });

  it("a close packet that is never answered is given up on after 10 s (injected clock)", async () => {
    const pending = new Set<unknown>();
    const timers = {
      queue: [] as { callback: () => void; ms: number }[],
      setTimeout(callback: () => void, ms: number) {
        const entry = { callback, ms };
        this.queue.push(entry);
        pending.add(entry);
        return entry;
      },
      clearTimeout(handle: unknown) {
        pending.delete(handle);
      },
      now: () => Date.now(),
    };
    const server = await startRawServer((request) => {
      if (request.method === "GET" && !request.url.searchParams.has("sid"))
        answer(request, openPacket({ pingInterval: 5000, pingTimeout: 5000 }));
      // Everything else (polls, the close POST) hangs.
    });
    try {
      let released = false;
      const client = new EngineClient(server.url, {
        transports: ["polling"],
        timers,
        scopedFetch: () => ({
          fetch: (url, init) => fetch(url, init),
          close: () => {
            released = true;
          },
        }),
      });
      await next(client, "open");
      client.close();
      await waitUntil(() => server.requests.some((r) => r.method === "POST"), 3000, "close POST");
      assert.equal(released, false);
      const bound = timers.queue.find((entry) => entry.ms === 10_000 && pending.has(entry));
      assert.ok(bound, "a 10 s bound is armed");
      bound.callback();
      assert.equal(released, true);
    } finally {
      await server.close();
    }
  });
});
