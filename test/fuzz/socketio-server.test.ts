/**
 * End-to-end fuzz of the Engine.IO / Socket.IO server: the hostile suites' server (echo event on
 * "/" and "/admin", maxHttpBufferSize 10 000, test/socketio-hostile/fixtures/server-process.ts)
 * runs in a child process and gets random and mutated HTTP long-polling POST bodies and WebSocket
 * frames (Engine.IO packets carrying Socket.IO packets, binary attachments, noise). It must answer
 * every POST with 200, 400 (malformed payload, or a binary body on a revision 4 session) or 413
 * (too large) exactly as the payload decoders read the body, end every session that broke the
 * protocol, keep a WebSocket session that did not and still answer an ack on it, never crash or
 * print, and keep serving a socket.io-client connected from the start.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { decodePacket, decodePayload, encodePayload } from "../../src/protocol/engine/index.js";
import type { EnginePacket } from "../../src/protocol/engine/packet-types.js";
import { Decoder } from "../../src/protocol/socketio/index.js";
import { withTimeout } from "../helpers/timing.js";
import {
  ENGINE_ERRORS,
  enginePath,
  expectSessionEnds,
  pollingHandshake,
  rawRequest,
  rawSocketIo,
} from "../socketio-hostile/raw-engine.js";
import { type ServerProcess, startServerProcess } from "../socketio-hostile/server-process.js";
import { type ClientSocket, connectClient, expectEchoes } from "../socketio-interop/client.js";
import { fuzzAsync, mutateString, mutationArb } from "./config.js";
import { encodedArb, encodedClientArb, socketCharArb } from "./socketio-arbs.js";

const MAX_HTTP_BUFFER_SIZE = 10_000;

let server: ServerProcess;
let bystander: ClientSocket;

before(async () => {
  server = await startServerProcess();
  bystander = await connectClient(server.url);
});

after(async () => {
  bystander?.disconnect();
  await server?.stop();
});

// ---- what the server must make of the input ------------------------------------------------------

/**
 * Whether Engine.IO packets (in order, from one session) break the protocol: a ping from the
 * client (revision 4 servers ping), a close, or Socket.IO data its decoder refuses, including a
 * CONNECT_ERROR (only servers send those). Also whether any packet changes which namespaces are
 * connected (CONNECT, DISCONNECT), after which a probe on "/" cannot be predicted.
 */
function judge(
  packets: EnginePacket[],
  decoder: Decoder,
): { violation: boolean; changesState: boolean } {
  let changesState = false;
  for (const packet of packets) {
    if (packet.type === 1 || packet.type === 2) return { violation: true, changesState };
    if (packet.type !== 4) continue;
    // A message without data reaches Socket.IO as an empty packet, which it refuses.
    const result = decoder.add(packet.data ?? "");
    if (!result.ok) return { violation: true, changesState };
    const decoded = result.packet;
    if (decoded === null) continue;
    if (decoded.type === 4) return { violation: true, changesState };
    if (decoded.type === 0 || decoded.type === 1) changesState = true;
  }
  return { violation: false, changesState };
}

// ---- generators --------------------------------------------------------------------------------

const asMessages = (parts: Array<string | Uint8Array>) =>
  parts.map((data) => ({ type: 4, data }) as EnginePacket);

/**
 * Engine.IO packets carrying Socket.IO packets (and their attachments): as encoded (a session
 * the server must keep), or mixed with mutated packets, Socket.IO-like noise and other Engine.IO
 * packet types.
 */
const enginePacketsArb: fc.Arbitrary<EnginePacket[]> = fc.oneof(
  fc.array(encodedClientArb.map(asMessages), { minLength: 1, maxLength: 4 }).map((g) => g.flat()),
  fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: encodedArb.map(asMessages) },
        {
          weight: 2,
          arbitrary: fc
            .string({ unit: socketCharArb, minLength: 1, maxLength: 24 })
            .map((data) => asMessages([data])),
        },
        {
          weight: 1,
          arbitrary: fc
            .record({
              type: fc.constantFrom(0, 1, 2, 3, 5, 6),
              data: fc.option(fc.constantFrom("probe", "x"), { nil: undefined }),
            })
            .map((p) => [p as EnginePacket]),
        },
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((groups) => groups.flat()),
);

/** POST bodies: encoded payloads, mutated ones, noise, oversized ones, invalid UTF-8. */
const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: enginePacketsArb.map((packets) => Buffer.from(encodePayload(packets))) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(enginePacketsArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
      .map(([packets, m]) => Buffer.from(mutateString(encodePayload(packets), m))),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: socketCharArb, maxLength: 40 }).map((s) => Buffer.from(s)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom("4", '42["echo","', "b"),
        fc.integer({ min: MAX_HTTP_BUFFER_SIZE - 10, max: 3 * MAX_HTTP_BUFFER_SIZE }),
      )
      .map(([prefix, size]) => Buffer.from(prefix + "x".repeat(size))),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 24 })
      .map((b) => Buffer.concat([Buffer.from("4"), b])),
  },
);

/** WebSocket frames: each packet as its own frame (text, or binary for attachments), or noise. */
const framesArb: fc.Arbitrary<Array<string | Buffer>> = fc.oneof(
  {
    weight: 5,
    arbitrary: enginePacketsArb.map((packets) =>
      packets.map((p) => (p.data instanceof Uint8Array ? Buffer.from(p.data) : encodePayload([p]))),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(enginePacketsArb, fc.array(mutationArb, { minLength: 1, maxLength: 2 }))
      .map(([packets, m]) =>
        packets.map((p) =>
          p.data instanceof Uint8Array ? Buffer.from(p.data) : mutateString(encodePayload([p]), m),
        ),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.array(fc.string({ unit: socketCharArb, maxLength: 30 }), {
      minLength: 1,
      maxLength: 3,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Array<string | Buffer>>([`4${"x".repeat(2 * MAX_HTTP_BUFFER_SIZE)}`]),
  },
);

// ---- cases -----------------------------------------------------------------------------------------

let caseNumber = 0;

/** The server process still runs and printed nothing (cheap: no grace delay, see the end). */
function assertAlive(context: string): void {
  const { child } = server;
  assert.ok(
    child.exitCode === null && child.signalCode === null,
    `${context}: exited: ${server.stderr()}`,
  );
  assert.equal(server.stderr(), "", `${context}: the server printed to stderr`);
}

async function pollingCase({ body, octets }: { body: Buffer; octets: boolean }): Promise<void> {
  const n = caseNumber++;
  const { sid } = await pollingHandshake(server.url);
  const path = enginePath({ transport: "polling", sid });
  const res = await rawRequest(server.url, path, {
    method: "POST",
    body,
    headers: {
      // Binary bodies exist in revision 3 only: a revision 4 session refuses them.
      "content-type": octets ? "application/octet-stream" : "text/plain;charset=UTF-8",
    },
  });
  const decoded = decodePayload(body.toString());
  const expectedStatus = octets
    ? 400
    : body.length > MAX_HTTP_BUFFER_SIZE
      ? 413
      : decoded.ok
        ? 200
        : 400;
  assert.equal(res.status, expectedStatus, `case ${n}: POST answered ${res.status} ${res.body}`);
  if (res.status === 400) assert.deepEqual(JSON.parse(res.body), ENGINE_ERRORS.badRequest);
  const { violation } =
    expectedStatus === 200 && decoded.ok
      ? judge(decoded.packets, new Decoder())
      : { violation: true };
  // Packets queued before the violation may still be polled, then the session is gone.
  if (violation) await expectSessionEnds(server.url, sid);
  else await rawRequest(server.url, path, { method: "POST", body: "1" }); // close it, politely
  assertAlive(`case ${n}`);
}

async function websocketCase(frames: Array<string | Buffer>): Promise<void> {
  const n = caseNumber++;
  const { raw } = await rawSocketIo(server.url);
  try {
    const decoder = new Decoder();
    let violation = false;
    let changesState = false;
    for (const frame of frames) {
      if (violation) break;
      if (typeof frame === "string" && Buffer.byteLength(frame) > MAX_HTTP_BUFFER_SIZE) {
        violation = true;
        break;
      }
      const packet = decodePacket(frame);
      const verdict = packet.ok
        ? judge([packet.packet], decoder)
        : { violation: true, changesState: false };
      violation = verdict.violation;
      changesState ||= verdict.changesState;
    }
    for (const frame of frames) raw.send(frame);
    // A probe: an ack asked for on "/", unless the namespace state is no longer known.
    const probe = `42${1000 + n}["echo","probe ${n}"]`;
    if (!violation && !changesState) {
      raw.send(probe);
      const result = decoder.add(probe.slice(1));
      if (!result.ok) violation = true; // text while attachments were due
    }
    if (violation) {
      await raw.waitForClose(5000);
    } else if (!changesState) {
      const answer = `43${1000 + n}["probe ${n}"]`;
      await withTimeout(
        (async () => {
          for (;;) if ((await raw.next(5000)) === answer) return;
        })(),
        5000,
        `case ${n}: the probe's ack`,
      );
    }
  } finally {
    raw.destroy();
  }
  assertAlive(`case ${n}`);
}

describe("fuzz: Engine.IO / Socket.IO server over HTTP and WebSocket", () => {
  it("polling POST bodies: 200/400/413 as the decoders read them; broken sessions end", async () => {
    const input = fc.record({
      body: bodyArb,
      octets: fc.oneof(
        { weight: 9, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    });
    await fuzzAsync("socket.io polling", fc.asyncProperty(input, pollingCase), 120);
    await server.expectAliveAndSilent();
    await expectEchoes(bystander, "the bystander, after the polling campaign");
  });

  it("WebSocket frames: violations close the connection, other sessions still answer", async () => {
    await fuzzAsync("socket.io websocket", fc.asyncProperty(framesArb, websocketCase), 150);
    await expectEchoes(bystander, "the bystander, after the WebSocket campaign");
    const newcomer = await connectClient(server.url);
    try {
      await expectEchoes(newcomer, "a newcomer, after the campaigns");
    } finally {
      newcomer.disconnect();
    }
    await server.expectAliveAndSilent();
  });
});
