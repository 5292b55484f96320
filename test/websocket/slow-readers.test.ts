/**
 * Issue 9, finding 1: clients that never read. A server sending to them (10 KB per client per
 * event-loop turn) must cut them with 1013 once the default `maxBufferedAmount` waits, within
 * seconds, with its memory bounded; and once such a burst is over, its RSS must come back.
 * Each server runs in a child process so that its RSS is its own.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type MemoryServer, SilentClient, startMemoryServer } from "./memory-server-driver.js";

const MiB = 1024 * 1024;
const CLIENTS = 20;

describe("slow readers (child-process server, default limits)", () => {
  let server: MemoryServer | undefined;
  const clients: SilentClient[] = [];
  after(() => {
    for (const client of clients) client.destroy();
    server?.stop();
  });

  it("clients that never read are cut with 1013 within seconds; RSS growth stays bounded", async () => {
    server = await startMemoryServer({
      MODE: "flood",
      CLIENTS: String(CLIENTS),
      FLOOD_MS: "15000",
    });
    for (let i = 0; i < CLIENTS; i++) clients.push(new SilentClient(server.port));
    await Promise.all(clients.map((client) => client.upgraded));
    const outcome = await server.next<{
      cutMs: number | null;
      open: number;
      rssBefore: number;
      rssPeak: number;
    }>(30_000);
    // Measured: about 1-2 s on an idle 2-core machine (the kernel's socket buffers fill
    // first); before the limit existed no client was ever cut.
    assert.notEqual(outcome.cutMs, null, `${outcome.open} clients still open after 15 s`);
    assert.ok(outcome.cutMs! < 10_000, `cut after ${outcome.cutMs} ms`);
    // 20 clients x 8 MiB would be 160 MiB if every message were a buffer of its own; text is
    // encoded only when it leaves, so the growth is the copies in flight (measured: ~40 MB).
    // Before the limit, the growth went on for as long as the flood did (2.5 GB in 20 s).
    const growth = outcome.rssPeak - outcome.rssBefore;
    assert.ok(growth < 150 * MiB, `RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
    // What the clients get once they read: the data that was already on its way, then the close.
    const seen = await Promise.all(clients.map((client) => client.skim(20_000)));
    for (const result of seen) {
      assert.deepEqual(result.close, { code: 1013, reason: "send buffer full" });
    }
  });
});

describe("RSS after a burst (child-process server)", () => {
  for (const payload of ["text", "buffer"] as const) {
    it(`comes back within 20 MiB of what it was before a 60 MiB burst (${payload})`, async () => {
      // 20 clients stop reading while the server queues 3 MiB more for each (on top of what
      // the kernel's buffers take); then they read everything and leave. Measured: +6-10 MiB
      // (the recycled copy buffers, V8's heap). Before: +45-70 MiB, the copies of every message
      // having grown glibc's heap, which keeps what it freed below a block still in use.
      const server = await startMemoryServer({
        MODE: "burst",
        CLIENTS: String(CLIENTS),
        PER_CLIENT: String(3 * MiB),
        PAYLOAD: payload,
      });
      const burstClients: SilentClient[] = [];
      try {
        for (let i = 0; i < CLIENTS; i++) burstClients.push(new SilentClient(server.port));
        await Promise.all(burstClients.map((client) => client.upgraded));
        await server.next<{ queued: true }>(30_000);
        // Read it all: skim until the stream goes quiet, then leave.
        await Promise.all(
          burstClients.map(
            (client) =>
              new Promise<void>((resolve) => {
                let quiet: NodeJS.Timeout | undefined;
                const arm = (): void => {
                  clearTimeout(quiet);
                  quiet = setTimeout(resolve, 300);
                };
                client.socket.on("data", arm);
                client.socket.resume();
                arm();
              }),
          ),
        );
        for (const client of burstClients) client.destroy();
        const { rssBefore, rssAfter } = await server.next<{ rssBefore: number; rssAfter: number }>(
          30_000,
        );
        const growth = rssAfter - rssBefore;
        assert.ok(
          growth < 20 * MiB,
          `RSS ${(rssBefore / MiB).toFixed(0)} -> ${(rssAfter / MiB).toFixed(0)} MiB`,
        );
      } finally {
        for (const client of burstClients) client.destroy();
        server.stop();
      }
    });
  }
});
