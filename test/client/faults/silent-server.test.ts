/**
 * A server that goes silent: the connection stays open but nothing comes through any more (the
 * proxy freezes it), so the server's pings stop arriving. The client gives up on it with "ping
 * timeout", reconnects over a fresh connection and works again.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { type ClientSocket, io } from "../behaviour/client-under-test.js";
import {
  collect,
  describeAgainstEachServer,
  nextConnection,
  startServer,
  type TestServer,
  waitFor,
} from "../behaviour/harness.js";
import { TcpProxy } from "./tcp-proxy.js";

const PING_INTERVAL = 200;
const PING_TIMEOUT = 200;

/**
 * Keeps a long-polling GET pending on the server for the session the frozen client left behind,
 * until the server closes that session. A server closing a polling session with no GET pending
 * waits up to 30 s for one (engine.io and duplexio alike), which would keep the test process
 * alive that long after the test; with a GET pending, it closes at once.
 */
async function holdPollingSession(server: TestServer, sid: string): Promise<void> {
  const url = `${server.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
  for (let i = 0; i < 100; i++) {
    const response = await fetch(url);
    const body = await response.text();
    // Over (400: session unknown) or the close packet ("1") among the packets.
    if (response.status !== 200 || body.split("\x1e").includes("1")) return;
  }
}

describeAgainstEachServer("client faults: the server stops pinging", (kind) => {
  let server: TestServer | undefined;
  let proxy: TcpProxy | undefined;
  let client: ClientSocket | undefined;
  afterEach(async () => {
    client?.io.reconnection(false);
    client?.disconnect();
    await proxy?.close();
    await server?.close();
  });

  for (const transports of [["websocket"], ["polling"]] as ("polling" | "websocket")[][]) {
    it(`closes with "ping timeout" and reconnects (${transports[0]})`, async () => {
      server = await startServer(kind, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
      proxy = await TcpProxy.start(server.port);
      const first = nextConnection(server);
      client = io(proxy.url, {
        forceNew: true,
        transports,
        reconnection: true,
        reconnectionDelay: 50,
        randomizationFactor: 0,
      });
      const socket = client;
      await waitFor(socket, "connect");
      const firstSocket = await first;
      firstSocket.on("hi", (ack: (reply: string) => void) => ack("first"));
      assert.equal(await socket.emitWithAck("hi"), "first");
      // The heartbeat works while the connection is healthy: pings come and the client stays.
      await waitFor(socket.io.engine, "ping", PING_INTERVAL * 5);

      const reasons = collect<[string]>(socket, "disconnect");
      const closes = collect<[string]>(socket.io, "close");
      // Within the reconnection delay plus a round trip, well under the handshake timeout (20 s):
      // a reconnection must not go through a kept-alive connection to the silent server.
      const again = nextConnection(server, "/", 8000);
      const oldSession = socket.io.engine.id ?? "";
      proxy.freeze();
      const held = transports[0] === "polling" ? holdPollingSession(server, oldSession) : null;
      await waitFor(socket, "disconnect", (PING_INTERVAL + PING_TIMEOUT) * 10);
      proxy.thaw();
      assert.deepEqual(
        reasons.map(([reason]) => reason),
        ["ping timeout"],
      );
      assert.equal(closes[0]?.[0], "ping timeout");

      const second = await again;
      if (!socket.connected) await waitFor(socket, "connect");
      second.on("hi", (ack: (reply: string) => void) => ack("second"));
      assert.equal(await socket.emitWithAck("hi"), "second");
      assert.notEqual(second.id, firstSocket.id);
      assert.equal(reasons.length, 1);
      await held;
    });
  }
});
