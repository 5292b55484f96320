/**
 * The connection is cut in the middle of the Engine.IO upgrade from polling to WebSocket, while
 * the client keeps emitting:
 * - cut when the client sends its probe ("2probe"): the probe fails, the client stays on polling,
 *   connected throughout, and every emit arrives exactly once, in order;
 * - cut when the client sends the upgrade packet ("5"), after it has switched to the WebSocket:
 *   the client loses that connection and reconnects; with ackTimeout and retries every emit
 *   arrives (a retried one possibly twice, never out of order).
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { delay, waitUntil } from "../../helpers/timing.js";
import { type ClientSocket, io } from "../behaviour/client-under-test.js";
import {
  collect,
  describeAgainstEachServer,
  startServer,
  type TestServer,
  transportName,
} from "../behaviour/harness.js";
import { TcpProxy } from "./tcp-proxy.js";

/** Upper bound of emits in a stream (each loop is bounded). */
const MAX_EMITS = 400;

describeAgainstEachServer("client faults: connection cut during the upgrade", (kind) => {
  let server: TestServer | undefined;
  let proxy: TcpProxy | undefined;
  let client: ClientSocket | undefined;
  afterEach(async () => {
    client?.io.reconnection(false);
    client?.disconnect();
    await proxy?.close();
    await server?.close();
  });

  /** Records the "seq" numbers the server receives, acking each. */
  function recordSequence(target: TestServer): number[] {
    const received: number[] = [];
    target.io.on("connection", (socket) => {
      socket.on("seq", (n: number, ack?: (reply: string) => void) => {
        received.push(n);
        ack?.("ok");
      });
      socket.on("fence", (ack: () => void) => ack());
    });
    return received;
  }

  it("cut at the probe: stays on polling, connected, every emit exactly once and in order", async () => {
    server = await startServer(kind);
    const received = recordSequence(server);
    proxy = await TcpProxy.start(server.port);
    proxy.cutWebSockets({ cutAtClientFrame: 1 });
    client = io(proxy.url, { forceNew: true, reconnection: false });
    const socket = client;
    const upgradeErrors = collect(socket.io.engine, "upgradeError");
    const disconnects = collect(socket, "disconnect");

    // Emit steadily from before the connection until well after the cut.
    let sent = 0;
    let afterCut = 0;
    while (sent < MAX_EMITS && afterCut < 20) {
      socket.emit("seq", ++sent);
      if (proxy.cuts > 0) afterCut++;
      await delay(5);
    }
    assert.equal(proxy.cuts, 1, "the probe connection was cut");
    await socket.emitWithAck("fence");

    assert.deepEqual(
      received,
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    assert.equal(socket.connected, true);
    assert.equal(disconnects.length, 0, "the cut probe did not cost the connection");
    assert.equal(upgradeErrors.length, 1);
    assert.equal(transportName(socket), "polling");
  });

  it("cut at the upgrade packet: reconnects, every emit arrives (retries), in order", async () => {
    server = await startServer(kind, { pingInterval: 300, pingTimeout: 300 });
    const received = recordSequence(server);
    proxy = await TcpProxy.start(server.port);
    proxy.cutWebSockets({ cutAtClientFrame: 2 });
    client = io(proxy.url, {
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 50,
      randomizationFactor: 0,
      ackTimeout: 300,
      retries: 10,
    });
    const socket = client;
    const disconnects = collect<[string]>(socket, "disconnect");

    const acks: Promise<unknown>[] = [];
    let sent = 0;
    let afterCut = 0;
    while (sent < MAX_EMITS && afterCut < 20) {
      acks.push(socket.emitWithAck("seq", ++sent));
      if (proxy.cuts > 0) afterCut++;
      await delay(5);
    }
    assert.equal(proxy.cuts, 1, "the upgraded connection was cut");
    const replies = await Promise.all(acks);
    assert.ok(replies.every((reply) => reply === "ok"));
    await waitUntil(() => socket.connected, 10000, "the client to be connected");
    await socket.emitWithAck("fence");

    const firstOccurrences = [...new Set(received)];
    assert.deepEqual(
      firstOccurrences,
      Array.from({ length: sent }, (_, i) => i + 1),
      "every emit arrived",
    );
    for (let i = 1; i < received.length; i++) {
      assert.ok(received[i]! >= received[i - 1]!, `in order: ${received.join(",")}`);
    }
    assert.deepEqual(
      disconnects.map(([reason]) => reason),
      ["transport close"],
    );
  });
});
