/**
 * The Node client keeps the cookies a server sets and sends them back: against a real duplexio
 * server that sets a load balancer's sticky cookie (`AWSALB`, as AWS ALB does) and Engine.IO's
 * `io` cookie on the handshake, every later polling request and the WebSocket upgrade of the same
 * Manager carry both, also after a reconnection; cookies the user gives in `extraHeaders` stay.
 * Plus the jar's own rules (RFC 6265: Path, Domain, Secure, Max-Age, Expires, limits).
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { io, type Socket } from "../../../src/client/node.js";
import { CookieJar, MAX_COOKIES, withCookieHeader } from "../../../src/client/node-cookies.js";
import { Server } from "../../../src/server/index.js";
import { withTimeout } from "../../helpers/timing.js";

interface Seen {
  upgrade: boolean;
  sid: string | null;
  cookie: string | undefined;
}

describe("Node client cookies against a server that sets them", () => {
  let http: HttpServer;
  let server: Server;
  let url = "";
  const seen: Seen[] = [];
  const record = (request: IncomingMessage, upgrade: boolean): void => {
    const target = new URL(request.url ?? "/", "http://x");
    if (target.pathname !== "/socket.io/") return;
    seen.push({ upgrade, sid: target.searchParams.get("sid"), cookie: request.headers.cookie });
  };

  before(async () => {
    http = createServer();
    server = new Server(http, { cookie: { name: "io", path: "/", httpOnly: true } });
    // After the server: it takes the listeners there are for the other paths.
    http.prependListener("request", (request) => record(request, false));
    http.prependListener("upgrade", (request) => record(request, true));
    // What a sticky load balancer adds to the first answer of a session.
    server.engine.on("initial_headers", (headers) => {
      const given = headers["Set-Cookie"];
      const list = Array.isArray(given) ? given : given === undefined ? [] : [String(given)];
      const expires = new Date(Date.now() + 3_600_000).toUTCString();
      headers["Set-Cookie"] = [...list, `AWSALB=node-a; Expires=${expires}; Path=/`];
    });
    server.on("connection", (socket) => {
      socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  after(async () => {
    await server.close();
  });

  async function connected(socket: Socket): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      }),
      5000,
      "connect",
    );
  }

  async function upgraded(socket: Socket): Promise<void> {
    const engine = socket.io.engine;
    if (engine?.transport?.name === "websocket") return;
    await withTimeout(
      new Promise<void>((resolve) => engine?.once("upgrade", () => resolve())),
      5000,
      "the upgrade",
    );
  }

  it("sends the handshake's cookies on every later polling request and on the upgrade", async () => {
    const from = seen.length;
    const socket = io(url, { forceNew: true, reconnection: false });
    try {
      await connected(socket);
      assert.equal(await socket.timeout(5000).emitWithAck("echo", "polling"), "polling");
      await upgraded(socket);
      assert.equal(await socket.timeout(5000).emitWithAck("echo", "ws"), "ws");
      const sid = socket.io.engine?.id;
      const mine = seen.slice(from).filter((r) => r.sid === null || r.sid === sid);
      assert.equal(mine[0].sid, null);
      assert.equal(mine[0].cookie, undefined, "the handshake has no cookie yet");
      const later = mine.slice(1);
      assert.ok(later.some((r) => !r.upgrade) && later.some((r) => r.upgrade));
      for (const request of later) {
        assert.equal(
          request.cookie,
          `io=${sid}; AWSALB=node-a`,
          `${request.upgrade ? "upgrade" : "polling"} request`,
        );
      }
    } finally {
      socket.close();
    }
  });

  it("keeps the cookies across the reconnections of one Manager", async () => {
    const from = seen.length;
    const socket = io(url, {
      forceNew: true,
      transports: ["polling"],
      reconnectionDelay: 10,
      reconnectionDelayMax: 10,
    });
    try {
      await connected(socket);
      const firstSid = socket.io.engine?.id;
      const back = new Promise<void>((resolve) => socket.io.once("reconnect", () => resolve()));
      socket.io.engine?.close();
      await withTimeout(back, 5000, "the reconnection");
      assert.equal(await socket.timeout(5000).emitWithAck("echo", 1), 1);
      const handshakes = seen.slice(from).filter((r) => r.sid === null);
      // (The test before may have left a request or two of its client: none is a handshake.)
      assert.equal(handshakes.length, 2);
      // The second handshake carries the load balancer's cookie (and the old `io`, which the
      // server replaces with the new session's).
      assert.equal(handshakes[1].cookie, `io=${firstSid}; AWSALB=node-a`);
      const sid = socket.io.engine?.id;
      const last = seen.at(-1);
      assert.equal(last?.cookie, `io=${sid}; AWSALB=node-a`);
    } finally {
      socket.close();
    }
  });

  it("adds the kept cookies to those of extraHeaders", async () => {
    const from = seen.length;
    const socket = io(url, {
      forceNew: true,
      reconnection: false,
      extraHeaders: { Cookie: "user=ann" },
    });
    try {
      await connected(socket);
      await upgraded(socket);
      const sid = socket.io.engine?.id;
      const mine = seen.slice(from).filter((r) => r.sid === null || r.sid === sid);
      assert.equal(mine[0].cookie, "user=ann");
      for (const request of mine.slice(1)) {
        assert.equal(request.cookie, `user=ann; io=${sid}; AWSALB=node-a`);
      }
    } finally {
      socket.close();
    }
  });

  it("gives each Manager a jar of its own", async () => {
    const a = io(url, { forceNew: true, reconnection: false, transports: ["polling"] });
    try {
      await connected(a);
      const from = seen.length;
      const b = io(url, { forceNew: true, reconnection: false, transports: ["polling"] });
      try {
        await connected(b);
        const handshake = seen.slice(from).find((r) => r.sid === null);
        assert.ok(handshake);
        assert.equal(handshake.cookie, undefined, "b's handshake carries none of a's cookies");
      } finally {
        b.close();
      }
    } finally {
      a.close();
    }
  });
});

describe("CookieJar", () => {
  const at = (path: string, scheme = "http") => new URL(`${scheme}://example.com${path}`);

  it("sends a cookie under its path (default: the request's directory)", () => {
    const jar = new CookieJar();
    jar.store(at("/socket.io/"), ["a=1", "b=2; Path=/", "c=3; Path=/other"]);
    assert.equal(jar.header(at("/socket.io/")), "a=1; b=2");
    assert.equal(jar.header(at("/socket.io-not/")), "b=2");
    assert.equal(jar.header(at("/other/x")), "c=3; b=2");
  });

  it("replaces a cookie of the same name and path, and deletes one with Max-Age=0 or a past Expires", () => {
    const jar = new CookieJar();
    jar.store(at("/"), ["a=1", "b=2", "c=3"]);
    jar.store(at("/"), ["a=9", "b=; Max-Age=0", "c=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]);
    assert.equal(jar.header(at("/")), "a=9");
  });

  it("lets cookies expire with the clock (Max-Age wins over Expires)", () => {
    let now = 1_000_000;
    const jar = new CookieJar(() => now);
    jar.store(at("/"), ["a=1; Max-Age=10; Expires=Thu, 01 Jan 2099 00:00:00 GMT", "b=2"]);
    assert.equal(jar.header(at("/")), "a=1; b=2");
    now += 10_001;
    assert.equal(jar.header(at("/")), "b=2");
  });

  it("keeps Secure cookies for https and wss only", () => {
    const jar = new CookieJar();
    jar.store(at("/", "https"), ["s=1; Secure", "p=2"]);
    assert.equal(jar.header(at("/")), "p=2");
    assert.equal(jar.header(at("/", "wss")), "s=1; p=2");
  });

  it("refuses another domain's cookie and shares a parent domain's with subdomains", () => {
    const jar = new CookieJar();
    jar.store(new URL("http://a.example.com/"), [
      "x=1; Domain=other.com",
      "y=2; Domain=.example.com",
      "z=3",
    ]);
    assert.equal(jar.header(new URL("http://b.example.com/")), "y=2");
    assert.equal(jar.header(new URL("http://a.example.com/")), "y=2; z=3");
    const byAddress = new CookieJar();
    byAddress.store(new URL("http://127.0.0.1/"), ["q=1; Domain=0.0.1"]);
    assert.equal(byAddress.header(new URL("http://127.0.0.1/")), undefined);
  });

  it("ignores malformed and oversized cookies and keeps at most MAX_COOKIES", () => {
    const jar = new CookieJar();
    jar.store(at("/"), ["novalue", "=1", "bad name=1", 'q="ok"', `big=${"x".repeat(5000)}`]);
    assert.equal(jar.header(at("/")), 'q="ok"');
    jar.store(
      at("/"),
      Array.from({ length: MAX_COOKIES + 10 }, (_, i) => `n${i}=${i}`),
    );
    assert.equal(jar.size, MAX_COOKIES);
    assert.match(jar.header(at("/")) ?? "", /^n10=10; .*n59=59$/);
  });

  it("joins the kept cookies to a Cookie header already there", () => {
    assert.deepEqual(withCookieHeader({ Cookie: "u=1", accept: "x" }, "a=2"), {
      accept: "x",
      cookie: "u=1; a=2",
    });
    const headers = { accept: "x" };
    assert.equal(withCookieHeader(headers, undefined), headers);
  });
});
