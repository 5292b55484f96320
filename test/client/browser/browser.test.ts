/**
 * The client bundle in a real browser (Debian's Chromium through playwright-core), against each
 * server: a page loading the classic-script bundle from the Socket.IO path (duplexio's
 * serveClient, i.e. dist/client: `npm run build:client` first) connects, emits, gets
 * and answers acks, sends ArrayBuffer, Blob and typed arrays and receives ArrayBuffers, reconnects
 * after the server restarts on the same port, and stays on polling when WebSocket is refused or
 * not offered.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, it } from "node:test";
import type { Socket as PageSocket, io as pageIo } from "../../../src/client/index.js";
import { launchChromium, type RunningChromium } from "../../helpers/chromium.js";
import { withTimeout } from "../../helpers/timing.js";
import { clientIsOfficial } from "../behaviour/client-under-test.js";
import { bytesOf, describeAgainstEachServer, type ServerSocket } from "../behaviour/harness.js";
import {
  assertDistBundleFresh,
  type BuiltBundles,
  buildBundles,
  type PageServer,
  type PageServerSetup,
  startPageServer,
} from "./page-server.js";

/** What the page's globals hold (the bundle's `io`, and the tests' own state). */
interface PageGlobals {
  io: typeof pageIo;
  socket: PageSocket;
  seen: string[];
}

type Ack = (...args: unknown[]) => void;

let bundles: BuiltBundles;
let browser: RunningChromium;

before(async () => {
  // duplexio's server serves the built bundle itself; it must be the current one.
  if (!clientIsOfficial) assertDistBundleFresh();
  bundles = await buildBundles();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await bundles?.remove();
});

/** Runs `fn(arg)` in the page, bounded. */
function inPage<T, A>(fn: (arg: A) => T | Promise<T>, arg: A, ms = 15000): Promise<T> {
  // playwright's typing of `arg` (Unboxed<A>) defeats inference for a generic A.
  const evaluated = browser.page.evaluate(fn as (arg: unknown) => T | Promise<T>, arg);
  return withTimeout(evaluated as Promise<T>, ms, "the page");
}

/** In the page: connects `window.socket` with `options` and resolves once connected. */
function connectInPage(options: Record<string, unknown>): Promise<string> {
  return inPage(async (opts) => {
    const page = window as unknown as PageGlobals;
    page.seen = [];
    const socket = page.io(opts);
    page.socket = socket;
    socket.on("disconnect", (reason) => page.seen.push(`disconnect:${reason}`));
    socket.on("connect", () => page.seen.push("connect"));
    socket.io.on("reconnect", (attempt) => page.seen.push(`reconnect:${attempt}`));
    // Each engine (one per connection) reports a failed upgrade probe.
    socket.io.on("open", () =>
      socket.io.engine.on("upgradeError", () => page.seen.push("upgradeError")),
    );
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error) => reject(error));
    });
    return socket.id ?? "";
  }, options);
}

/** In the page: the name of the socket's current transport. */
function pageTransport(): Promise<string | undefined> {
  return inPage(() => {
    const engine = (window as unknown as PageGlobals).socket.io.engine as unknown as {
      transport?: { name?: string };
      transportName?: string;
    };
    return engine.transport?.name ?? engine.transportName;
  }, null);
}

describeAgainstEachServer("client bundle in Chromium", (kind) => {
  let server: PageServer | undefined;
  // From duplexio's serveClient when testing duplexio's client against duplexio's server;
  // socket.io's server serves its own client, so the bundle is put in front of it.
  const bundlesFor = () => (kind.name === "duplexio" && !clientIsOfficial ? undefined : bundles);
  afterEach(async () => {
    await inPage(() => (window as unknown as Partial<PageGlobals>).socket?.disconnect(), null);
    await server?.close();
    server = undefined;
  });

  async function open(setup: Omit<PageServerSetup, "kind" | "bundles"> = {}): Promise<PageServer> {
    server = await startPageServer({ kind, bundles: bundlesFor(), ...setup });
    await browser.page.goto(`${server.url}/`, { timeout: 30000 });
    const loaded = await inPage(() => {
      const io = (window as unknown as Partial<PageGlobals>).io;
      return typeof io === "function" && typeof io.Manager === "function";
    }, null);
    assert.equal(loaded, true, "the bundle defined the global io");
    return server;
  }

  for (const transports of [["polling", "websocket"], ["websocket"], ["polling"]]) {
    it(`connects, emits, gets and answers acks (${transports.join("+")})`, async () => {
      const page = await open();
      const connected = new Promise<ServerSocket>((resolve) =>
        page.io.once("connection", (socket: ServerSocket) => {
          socket.on("echo", (...args: unknown[]) => (args.pop() as Ack)(...args));
          resolve(socket);
        }),
      );
      const id = await connectInPage({ transports, reconnection: false });
      const socket = await connected;
      assert.equal(id, socket.id);

      const reply = await inPage(
        () => (window as unknown as PageGlobals).socket.emitWithAck("echo", { hello: "server" }),
        null,
      );
      assert.deepEqual(reply, { hello: "server" });

      // The page answers the server's ack.
      await inPage(() => {
        (window as unknown as PageGlobals).socket.on("double", (n: number, ack: Ack) => ack(n * 2));
      }, null);
      assert.equal(await socket.timeout(5000).emitWithAck("double", 21), 42);

      // Events from the server, in order.
      await inPage(() => {
        const page = window as unknown as PageGlobals;
        page.socket.on("tick", (n: number) => page.seen.push(`tick:${n}`));
      }, null);
      for (let n = 1; n <= 5; n++) socket.emit("tick", n);
      await browser.page.waitForFunction(
        () => (window as unknown as PageGlobals).seen.includes("tick:5"),
        null,
        { timeout: 10000 },
      );
      const seen = await inPage(() => (window as unknown as PageGlobals).seen, null);
      assert.deepEqual(
        seen.filter((s) => s.startsWith("tick:")),
        ["tick:1", "tick:2", "tick:3", "tick:4", "tick:5"],
      );
      if (transports.length === 1) assert.equal(await pageTransport(), transports[0]);
    });
  }

  for (const transports of [["websocket"], ["polling"]]) {
    it(`sends ArrayBuffer, Blob and typed arrays, receives ArrayBuffers (${transports[0]})`, async () => {
      const page = await open();
      const received: unknown[][] = [];
      page.io.on("connection", (socket: ServerSocket) => {
        socket.on("upload", (payload: unknown, ack: Ack) => {
          received.push([payload]);
          ack({ back: Buffer.from([9, 8, 7]), nested: [{ deep: Buffer.from([1]) }] });
        });
      });
      await connectInPage({ transports, reconnection: false });
      const answer = await inPage(async () => {
        const { socket } = window as unknown as PageGlobals;
        const reply = (await socket.emitWithAck("upload", {
          arrayBuffer: new Uint8Array([1, 2, 3]).buffer,
          blob: new Blob([new Uint8Array([4, 5])]),
          bytes: new Uint8Array([6]),
          floats: new Float32Array([1.5]),
          text: "with binary",
        })) as { back: unknown; nested: [{ deep: unknown }] };
        const describe = (value: unknown) => ({
          isArrayBuffer: value instanceof ArrayBuffer,
          bytes: value instanceof ArrayBuffer ? [...new Uint8Array(value)] : [],
        });
        return { back: describe(reply.back), deep: describe(reply.nested[0].deep) };
      }, null);
      assert.deepEqual(answer, {
        back: { isArrayBuffer: true, bytes: [9, 8, 7] },
        deep: { isArrayBuffer: true, bytes: [1] },
      });

      const [payload] = received[0] as [Record<string, unknown>];
      assert.deepEqual(bytesOf(payload.arrayBuffer), [1, 2, 3]);
      assert.deepEqual(bytesOf(payload.blob), [4, 5]);
      assert.deepEqual(bytesOf(payload.bytes), [6]);
      assert.deepEqual(bytesOf(payload.floats), [
        ...new Uint8Array(new Float32Array([1.5]).buffer),
      ]);
      assert.equal(payload.text, "with binary");
    });
  }

  it("reconnects after the server restarts on the same port", async () => {
    const first = await open();
    const port = first.port;
    await connectInPage({ reconnectionDelay: 100, reconnectionDelayMax: 300 });
    await first.close();
    await browser.page.waitForFunction(
      () => (window as unknown as PageGlobals).seen.some((s) => s.startsWith("disconnect:")),
      null,
      { timeout: 10000 },
    );
    // A restart: a new server on the same port (the page keeps trying meanwhile).
    server = await startPageServer({ kind, bundles: bundlesFor(), port });
    const again = new Promise<ServerSocket>((resolve) =>
      server!.io.once("connection", (socket: ServerSocket) => {
        socket.on("echo", (...args: unknown[]) => (args.pop() as Ack)(...args));
        resolve(socket);
      }),
    );
    await browser.page.waitForFunction(
      () => (window as unknown as PageGlobals).seen.filter((s) => s === "connect").length === 2,
      null,
      { timeout: 15000 },
    );
    const socket = await withTimeout(again, 5000, "the reconnection");
    const [id, reply, seen] = await inPage(async () => {
      const page = window as unknown as PageGlobals;
      return [page.socket.id, await page.socket.emitWithAck("echo", "back"), page.seen] as const;
    }, null);
    assert.equal(id, socket.id);
    assert.equal(reply, "back");
    // An upgrade probe still in flight when the server went away fails on the way: not counted.
    const events = seen.filter((event) => event !== "upgradeError");
    assert.equal(events[0], "connect");
    assert.match(events[1] ?? "", /^disconnect:transport (close|error)$/);
    assert.ok(
      events.some((event) => /^reconnect:\d+$/.test(event)),
      `${events}`,
    );
    assert.equal(events.at(-1), "connect");
  });

  it("stays on polling when the server refuses WebSocket upgrades", async () => {
    const page = await open({ refuseWebSocket: true });
    page.io.on("connection", (socket: ServerSocket) => {
      socket.on("echo", (...args: unknown[]) => (args.pop() as Ack)(...args));
    });
    await connectInPage({ reconnection: false });
    // The failed probe: the engine reports it and carries on.
    await browser.page.waitForFunction(
      () => (window as unknown as PageGlobals).seen.includes("upgradeError"),
      null,
      { timeout: 10000 },
    );
    const result = await inPage(async () => {
      const { socket } = window as unknown as PageGlobals;
      return { reply: await socket.emitWithAck("echo", "still here"), connected: socket.connected };
    }, null);
    assert.deepEqual(result, { reply: "still here", connected: true });
    assert.equal(await pageTransport(), "polling");
    const seen = await inPage(() => (window as unknown as PageGlobals).seen, null);
    // The probe may fail before or after the namespace connects; the connection never dropped.
    assert.deepEqual([...seen].sort(), ["connect", "upgradeError"]);
  });

  it("Node-only options are accepted and ignored; extraHeaders, transportOptions and timestamps apply", async () => {
    const page = await open();
    const connection = new Promise<ServerSocket>((resolve) =>
      page.io.once("connection", (socket: ServerSocket) => {
        socket.on("echo", (...args: unknown[]) => (args.pop() as Ack)(...args));
        resolve(socket);
      }),
    );
    // What socket.io-client users pass from code shared with Node.
    await connectInPage({
      reconnection: false,
      ca: "-----BEGIN CERTIFICATE-----",
      cert: "-----BEGIN CERTIFICATE-----",
      key: "-----BEGIN PRIVATE KEY-----",
      passphrase: "secret",
      ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
      rejectUnauthorized: false,
      agent: false,
      perMessageDeflate: { threshold: 1024 },
      extraHeaders: { "x-everywhere": "top" },
      transportOptions: { polling: { extraHeaders: { "x-polling": "p" } } },
      requestTimeout: 60000,
      timestampRequests: true,
      timestampParam: "cachebust",
    });
    const socket = await withTimeout(connection, 5000, "the connection");
    // The handshake went over polling: its headers are polling's, its URL stamped as asked.
    assert.equal(socket.handshake.headers["x-polling"], "p");
    assert.equal(socket.handshake.headers["x-everywhere"], undefined);
    assert.ok(socket.handshake.query.cachebust, JSON.stringify(socket.handshake.query));
    assert.equal(socket.handshake.query.t, undefined);
    await browser.page.waitForFunction(
      () => {
        const engine = (window as unknown as PageGlobals).socket.io.engine as unknown as {
          transport?: { name?: string };
        };
        return engine.transport?.name === "websocket";
      },
      null,
      { timeout: 10000 },
    );
    const reply = await inPage(
      () => (window as unknown as PageGlobals).socket.emitWithAck("echo", "ignored"),
      null,
    );
    assert.equal(reply, "ignored");
  });

  it('uses polling when the server offers no upgrade (transports ["polling"])', async () => {
    const page = await open({ options: { transports: ["polling"] } });
    page.io.on("connection", (socket: ServerSocket) => {
      socket.on("echo", (...args: unknown[]) => (args.pop() as Ack)(...args));
    });
    await connectInPage({ reconnection: false });
    const reply = await inPage(
      () => (window as unknown as PageGlobals).socket.emitWithAck("echo", "polling"),
      null,
    );
    assert.equal(reply, "polling");
    assert.equal(await pageTransport(), "polling");
  });
});
