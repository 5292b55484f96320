/**
 * End-to-end fuzz of the WebSocket server over real TCP: the echo server of the hostile suites
 * (test/hostile/fixtures/echo-server-process.ts: permessage-deflate on offer, 64 KiB maxPayload,
 * no error listener anywhere) runs in a child process; each case opens a raw connection, with
 * or without deflate, and writes a frame stream (well-formed, bent, mutated, or random bytes) in
 * random pieces. The server must do what the model (websocket-model.ts) says: echo each message
 * in order, answer pings (in order; one pong for several is allowed, RFC 6455 5.5.3, but the
 * last ping of a connection left open is answered), then either close with the model's close
 * code, or, when the stream left the connection usable, still echo a probe. A compressed message
 * the model cannot inflate may end things earlier, with 1007 or 1009 only. After every case the process is alive
 * and silent, and a well-behaved client connected from the start still gets its echo. A second
 * property aims at what the first found: pings, a close, a protocol error arriving while a
 * compressed message is open (first fragment sent, final one not yet) must be answered at once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { constants, deflateRawSync } from "node:zlib";
import fc from "fast-check";
import { type ChildServer, startChildServer } from "../helpers/child-server.js";
import { closePayload, encodeFrame, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { fuzzAsync, mutateBytes, mutationArb, split } from "./config.js";
import {
  encodeStream,
  frameStreamArb,
  type ModelOptions,
  type ModelResult,
  modelReceive,
} from "./websocket-model.js";

const fixture = fileURLToPath(
  new URL("../hostile/fixtures/echo-server-process.ts", import.meta.url),
);
const MAX_PAYLOAD = 64 * 1024;

let server: ChildServer;
let bystander: RawClient;

before(async () => {
  server = await startChildServer(fixture);
  bystander = await RawClient.connect(server.port);
  assert.equal(bystander.response?.status, 101);
});

after(async () => {
  bystander?.destroy();
  await server?.stop();
});

const inputArb = fc.boolean().chain((deflate) =>
  fc.record({
    deflate: fc.constant(deflate),
    stream: fc.oneof(
      // Well-formed streams (the server has to echo them all), bent and mutated ones, noise.
      {
        weight: 2,
        arbitrary: frameStreamArb("server", {
          maxBends: 0,
          compressed: deflate,
          validText: true,
        }).map(encodeStream),
      },
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            frameStreamArb("server"),
            fc.oneof(fc.constant([]), fc.array(mutationArb, { minLength: 1, maxLength: 3 })),
          )
          .map(([specs, mutations]) => mutateBytes(encodeStream(specs), mutations)),
      },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
    ),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
  }),
);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Frames from the server that echo data: [opcode, payload bytes]. */
function echoes(client: RawClient): Array<[number, number[]]> {
  return client.frames
    .filter((f) => f.opcode === Op.Text || f.opcode === Op.Binary)
    .map((f) => [f.opcode, Array.from(f.payload)]);
}

/** The echoes and pongs the model's events call for. */
function expectedReplies(model: ModelResult) {
  const data: Array<[number, number[]]> = [];
  const pongs: number[][] = [];
  for (const event of model.events) {
    if (event[0] === "message") data.push([event[1] ? Op.Binary : Op.Text, event[2]]);
    if (event[0] === "ping") pongs.push(event[1]);
  }
  return { data, pongs };
}

/** Whether `items` appear in `all` in order (not necessarily next to each other). */
function isSubsequence(items: number[][], all: number[][]): boolean {
  let i = 0;
  for (const candidate of all) {
    if (i < items.length && JSON.stringify(candidate) === JSON.stringify(items[i])) i++;
  }
  return i === items.length;
}

let caseNumber = 0;

/** One case: returns nothing, asserts everything. */
async function runCase(input: { deflate: boolean; stream: Uint8Array; cuts: number[] }) {
  const n = caseNumber++;
  const client = await RawClient.connect(server.port, {
    headers: input.deflate ? { "sec-websocket-extensions": "permessage-deflate" } : {},
  });
  try {
    assert.equal(client.response?.status, 101, "handshake");
    const extensions = client.response?.headers["sec-websocket-extensions"] ?? "";
    assert.equal(extensions.includes("permessage-deflate"), input.deflate, "deflate negotiated");
    const options: ModelOptions = {
      role: "server",
      maxPayload: MAX_PAYLOAD,
      permessageDeflate: input.deflate,
    };
    let stream = input.stream;
    let model = modelReceive(stream, options);
    // A connection left usable must still echo: a probe goes after the stream.
    const probeText = `probe ${n}`;
    if (model.end === "idle" || model.end === "in-message") {
      const probe = encodeFrame({ opcode: Op.Text, payload: probeText, mask: true });
      stream = concat(stream, probe);
      model = modelReceive(stream, options);
    }
    for (const chunk of split(stream, input.cuts)) await client.write(Buffer.from(chunk));

    const last = model.events.at(-1);
    const expected = expectedReplies(model);
    const inflateMayFail = model.sawCompressed;
    if (model.end === "stopped") {
      // An error (its close code) or the peer's close frame (echoed): then TCP ends.
      const code = last?.[0] === "error" || last?.[0] === "close" ? last[1] : undefined;
      const outcome = await client.waitForClose(5000);
      assert.ok(outcome.gotCloseFrame, "a close frame before the end of the connection");
      const allowed = inflateMayFail ? [code, 1007, 1009] : [code];
      assert.ok(allowed.includes(outcome.code), `close code ${outcome.code}, expected ${allowed}`);
      await client.waitForEnd(5000);
    } else if (model.end === "in-frame") {
      // The server waits for the rest of a frame: hang up; it must hang up too.
      await client.waitFor(
        () => echoes(client).length >= expected.data.length || client.closeFrameAt !== undefined,
        5000,
        "the echoes",
      );
      client.socket.end();
      await client.waitForEnd(5000);
      if (client.closeFrameAt !== undefined) {
        const outcome = await client.waitForClose(0);
        assert.ok(
          inflateMayFail && [1007, 1009].includes(outcome.code ?? 0),
          `closed with ${outcome.code}`,
        );
      }
    } else {
      // Idle with the probe echoed. Compressed messages, which the model cannot inflate, are
      // echoed too (when they inflate), so the count of echoes is not known: wait for the probe.
      const probeBytes = JSON.stringify([Op.Text, Array.from(Buffer.from(probeText))]);
      await client.waitFor(
        () =>
          JSON.stringify(echoes(client).at(-1)) === probeBytes || client.closeFrameAt !== undefined,
        5000,
        "the echoes and the probe's",
      );
      if (client.closeFrameAt !== undefined) {
        const outcome = await client.waitForClose(0);
        assert.ok(
          inflateMayFail && [1007, 1009].includes(outcome.code ?? 0),
          `closed with ${outcome.code}`,
        );
      } else {
        const got = echoes(client).at(-1);
        assert.deepEqual(got, [Op.Text, Array.from(Buffer.from(probeText))], "the probe's echo");
        await client.sendFrame({ opcode: Op.Close, payload: closePayload(1000) });
        const outcome = await client.waitForClose(5000);
        assert.equal(outcome.code, 1000);
        await client.waitForEnd(5000);
      }
    }
    if (!inflateMayFail) {
      assert.deepEqual(echoes(client), expected.data, "the echoes, in order");
      // RFC 6455 5.5.3: pongs answer pings in order; one for only the most recent of pings not
      // answered yet is enough. A connection still open has answered the last one.
      const pongs = client.frames
        .filter((f) => f.opcode === Op.Pong)
        .map((f) => Array.from(f.payload));
      assert.ok(isSubsequence(pongs, expected.pongs), "pongs answer pings, in order");
      if (model.end === "idle" && expected.pongs.length > 0) {
        assert.deepEqual(pongs.at(-1), expected.pongs.at(-1), "the last ping is answered");
      }
    }
    for (const frame of client.frames)
      assert.equal(frame.masked, false, "server frames are unmasked");
  } finally {
    client.destroy();
  }
  server.assertAliveAndSilent(`case ${n}`);
  assert.equal(await bystander.echo(`bystander ${n}`), `bystander ${n}`, "the bystander is served");
}

describe("fuzz: WebSocket server over TCP", () => {
  it("closes with the RFC's code or stays open and echoes; never crashes; serves a bystander", async () => {
    await fuzzAsync("websocket server", fc.asyncProperty(inputArb, runCase), 250);
    const newcomer = await RawClient.connect(server.port);
    try {
      assert.equal(newcomer.response?.status, 101);
      assert.equal(await newcomer.echo("after the campaign"), "after the campaign");
    } finally {
      newcomer.destroy();
    }
    server.assertAliveAndSilent("after the campaign");
  });

  it("control frames and protocol errors between the fragments of a compressed message are answered at once", async () => {
    // RFC 6455 5.4: control frames may come between fragments; 5.5.2: a ping is answered as soon
    // as practical; 7.1.7: a protocol error fails the connection. None may wait for the end of
    // a compressed message that may never come.
    const interleaved = fc.record({
      text: fc.string({ minLength: 1, maxLength: 40 }),
      pings: fc.integer({ min: 0, max: 20 }),
      after: fc.constantFrom("nothing", "close", "rsv2", "new message"),
    });
    await fuzzAsync(
      "controls inside a compressed message",
      fc.asyncProperty(interleaved, async ({ text, pings, after }) => {
        const n = caseNumber++;
        const client = await RawClient.connect(server.port, {
          headers: { "sec-websocket-extensions": "permessage-deflate" },
        });
        try {
          assert.equal(client.response?.status, 101);
          // The first fragment of a compressed message (a sync-flushed deflate block).
          const first = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
          await client.sendFrame({
            opcode: Op.Text,
            rsv: 4,
            fin: false,
            payload: first.subarray(0, -4),
          });
          for (let i = 0; i < pings; i++)
            await client.sendFrame({ opcode: Op.Ping, payload: `ping ${i}` });
          if (after === "close") {
            await client.sendFrame({ opcode: Op.Close, payload: closePayload(1000) });
          } else if (after === "rsv2") {
            await client.sendFrame({ opcode: Op.Continuation, rsv: 2, payload: "x" });
          } else if (after === "new message") {
            await client.sendFrame({ opcode: Op.Text, payload: "x" });
          }
          if (after === "nothing") {
            if (pings > 0) {
              await client.waitFor(
                () => client.frames.some((f) => f.opcode === Op.Pong),
                2000,
                `a pong while the message is open (case ${n})`,
              );
            }
          } else {
            const outcome = await client.waitForClose(2000);
            assert.ok(outcome.gotCloseFrame, "a close frame");
            assert.equal(outcome.code, after === "close" ? 1000 : 1002);
          }
        } finally {
          client.destroy();
        }
        server.assertAliveAndSilent(`case ${n}`);
      }),
      20,
    );
  });
});
