/**
 * Sections 1 to 5 of the Autobahn testsuite, from its case descriptions: framing, ping/pong,
 * reserved bits, opcodes, fragmentation.
 */
import { Op } from "../../helpers/frames.js";
import type { ConformanceCase } from "../case.js";
import { binary, failsWith, NORMAL_CLOSE, pong, SETTLE_MS, text } from "./dsl.js";

const cases: ConformanceCase[] = [];

// 1.1 / 1.2: text and binary messages of growing length (the last one sent in 997-byte chops).
const lengths = [0, 125, 126, 127, 128, 65535, 65536, 65536];
lengths.forEach((length, i) => {
  const chop = i === 7 ? 997 : undefined;
  const textPayload = Buffer.alloc(length, "*");
  const binaryPayload = Buffer.alloc(length, 0xfe);
  cases.push({
    id: `1.1.${i + 1}`,
    description: `Text message, payload ${length}${chop ? ", sent in 997-byte chops" : ""}`,
    expected: { ok: [text(textPayload)] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Text, payload: textPayload }, { chop }),
  });
  cases.push({
    id: `1.2.${i + 1}`,
    description: `Binary message, payload ${length}${chop ? ", sent in 997-byte chops" : ""}`,
    expected: { ok: [binary(binaryPayload)] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Binary, payload: binaryPayload }, { chop }),
  });
});
cases.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));

// 2: pings and pongs.
const pingBinary = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
cases.push(
  {
    id: "2.1",
    description: "Ping without payload",
    expected: { ok: [pong()] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Ping }),
  },
  {
    id: "2.2",
    description: "Ping with a small text payload",
    expected: { ok: [pong("Hello, world!")] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Ping, payload: "Hello, world!" }),
  },
  {
    id: "2.3",
    description: "Ping with a small binary payload",
    expected: { ok: [pong(pingBinary)] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Ping, payload: pingBinary }),
  },
  {
    id: "2.4",
    description: "Ping with a 125-byte payload",
    expected: { ok: [pong(Buffer.alloc(125, 0xfe))] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Ping, payload: Buffer.alloc(125, 0xfe) }),
  },
  {
    id: "2.5",
    description: "Ping with a 126-byte payload: the peer must fail the connection",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: (s) => s.sendFrame({ opcode: Op.Ping, payload: Buffer.alloc(126, 0xfe) }),
  },
  {
    id: "2.6",
    description: "Ping with a 125-byte payload, sent in 1-byte chops",
    expected: { ok: [pong(Buffer.alloc(125, 0xfe))] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Ping, payload: Buffer.alloc(125, 0xfe) }, { chop: 1 }),
  },
  {
    id: "2.7",
    description: "Unsolicited pong without payload: nothing happens",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Pong });
      await s.closeAfter(SETTLE_MS);
    },
  },
  {
    id: "2.8",
    description: "Unsolicited pong with payload: nothing happens",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Pong, payload: "unsolicited pong payload" });
      await s.closeAfter(SETTLE_MS);
    },
  },
  {
    id: "2.9",
    description: "Unsolicited pong, then ping: only the ping is answered",
    expected: { ok: [pong("ping payload")] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Pong, payload: "unsolicited pong payload" });
      await s.sendFrame({ opcode: Op.Ping, payload: "ping payload" });
    },
  },
);
for (const [id, chop] of [
  ["2.10", undefined],
  ["2.11", 1],
] as const) {
  const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
  cases.push({
    id,
    description: `10 pings with payload${chop ? ", each sent in 1-byte chops" : ""}`,
    expected: { ok: payloads.map((p) => pong(p)) },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      for (const payload of payloads) await s.sendFrame({ opcode: Op.Ping, payload }, { chop });
    },
  });
}

// 3: reserved bits without an extension that defines them.
cases.push(
  {
    id: "3.1",
    description: "Text message with RSV = 1",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: (s) => s.sendFrame({ opcode: Op.Text, payload: "Hello, world!", rsv: 1 }),
  },
  ...(
    [
      ["3.2", 2, undefined],
      ["3.3", 3, "frame"],
      ["3.4", 4, 1],
    ] as const
  ).map(
    ([id, rsv, chop]): ConformanceCase => ({
      id,
      description: `Text message, then again with RSV = ${rsv}, then a ping${chop === 1 ? " (1-byte chops)" : chop ? " (frame by frame)" : ""}`,
      expected: { ok: [text("Hello, world!")], nonStrict: [] },
      expectedClose: failsWith(1002),
      run: async (s) => {
        const options = { chop: chop === "frame" ? undefined : chop };
        await s.sendFrame({ opcode: Op.Text, payload: "Hello, world!" }, options);
        await s.sendFrame({ opcode: Op.Text, payload: "Hello, world!", rsv }, options);
        await s.sendFrame({ opcode: Op.Ping }, options);
      },
    }),
  ),
  {
    id: "3.5",
    description: "Binary message with RSV = 5",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: (s) => s.sendFrame({ opcode: Op.Binary, payload: pingBinary, rsv: 5 }),
  },
  {
    id: "3.6",
    description: "Ping with RSV = 6",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: (s) => s.sendFrame({ opcode: Op.Ping, payload: "Hello, world!", rsv: 6 }),
  },
  {
    id: "3.7",
    description: "Close with RSV = 7",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: (s) => s.sendFrame({ opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]), rsv: 7 }),
  },
);

// 4: reserved opcodes, alone or after a good message and before a ping.
for (const [group, opcodes] of [
  ["4.1", [3, 4, 5, 6, 7]],
  ["4.2", [11, 12, 13, 14, 15]],
] as const) {
  opcodes.forEach((opcode, i) => {
    const id = `${group}.${i + 1}`;
    if (i < 2) {
      cases.push({
        id,
        description: `Frame with reserved opcode ${opcode}${i === 1 ? " and a payload" : ""}`,
        expected: { ok: [] },
        expectedClose: failsWith(1002),
        run: (s) =>
          s.sendFrame({ opcode, payload: i === 1 ? "reserved opcode payload" : undefined }),
      });
    } else {
      cases.push({
        id,
        description: `Text message, then a frame with reserved opcode ${opcode}, then a ping`,
        expected: { ok: [text("Hello, world!")], nonStrict: [] },
        expectedClose: failsWith(1002),
        run: async (s) => {
          await s.sendFrame({ opcode: Op.Text, payload: "Hello, world!" });
          await s.sendFrame({ opcode, payload: i > 2 ? "reserved opcode payload" : undefined });
          await s.sendFrame({ opcode: Op.Ping });
        },
      });
    }
  });
}

// 5: fragmentation.
type Chop = "whole" | "frame" | "octet";
const chopOf = (chop: Chop) => (chop === "octet" ? { chop: 1 } : {});
const chopName = (chop: Chop) =>
  chop === "whole" ? "in one chop" : chop === "frame" ? "frame by frame" : "in 1-byte chops";

cases.push(
  {
    id: "5.1",
    description: "Ping in 2 fragments",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Ping, payload: "fragment1", fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment2" });
    },
  },
  {
    id: "5.2",
    description: "Pong in 2 fragments",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Pong, payload: "fragment1", fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment2" });
    },
  },
);
(["whole", "frame", "octet"] as const).forEach((chop, i) => {
  cases.push({
    id: `5.${3 + i}`,
    description: `Text message in 2 fragments, ${chopName(chop)}`,
    expected: { ok: [text("fragment1fragment2")] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: "fragment1", fin: false }, chopOf(chop));
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment2" }, chopOf(chop));
    },
  });
  cases.push({
    id: `5.${6 + i}`,
    description: `Text message in 2 fragments with a ping between them, ${chopName(chop)}`,
    expected: { ok: [pong("ping payload"), text("fragment1fragment2")] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: "fragment1", fin: false }, chopOf(chop));
      await s.sendFrame({ opcode: Op.Ping, payload: "ping payload" }, chopOf(chop));
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment2" }, chopOf(chop));
    },
  });
  cases.push({
    id: `5.${9 + i}`,
    description: `Continuation with FIN and nothing to continue, then a text message, ${chopName(chop)}`,
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: async (s) => {
      await s.sendFrame(
        { opcode: Op.Continuation, payload: "non-continuation payload" },
        chopOf(chop),
      );
      await s.sendFrame({ opcode: Op.Text, payload: "Hello, world!" }, chopOf(chop));
    },
  });
  cases.push({
    id: `5.${12 + i}`,
    description: `Continuation without FIN and nothing to continue, then a text message, ${chopName(chop)}`,
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: async (s) => {
      await s.sendFrame(
        { opcode: Op.Continuation, payload: "non-continuation payload", fin: false },
        chopOf(chop),
      );
      await s.sendFrame({ opcode: Op.Text, payload: "Hello, world!" }, chopOf(chop));
    },
  });
});
cases.push(
  {
    id: "5.15",
    description: "Text in 2 fragments, then a continuation with nothing to continue, then text",
    expected: { ok: [text("fragment1fragment2")], nonStrict: [] },
    expectedClose: failsWith(1002),
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: "fragment1", fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment2" });
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment3", fin: false });
      await s.sendFrame({ opcode: Op.Text, payload: "fragment4" });
    },
  },
  ...(
    [
      ["5.16", false],
      ["5.17", true],
    ] as const
  ).map(
    ([id, fin]): ConformanceCase => ({
      id,
      description: `Twice: continuation (FIN ${fin}) with nothing to continue, then text in 2 fragments`,
      expected: { ok: [] },
      expectedClose: failsWith(1002),
      run: async (s) => {
        for (let i = 0; i < 2; i++) {
          await s.sendFrame({ opcode: Op.Continuation, payload: "fragment1", fin });
          await s.sendFrame({ opcode: Op.Text, payload: "fragment2", fin: false });
          await s.sendFrame({ opcode: Op.Continuation, payload: "fragment3" });
        }
      },
    }),
  ),
  {
    id: "5.18",
    description: "Text in 2 fragments that both have the text opcode",
    expected: { ok: [] },
    expectedClose: failsWith(1002),
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: "fragment1", fin: false });
      await s.sendFrame({ opcode: Op.Text, payload: "fragment2" });
    },
  },
);
for (const id of ["5.19", "5.20"]) {
  const fragments = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"];
  cases.push({
    id,
    description: "Text in 5 fragments with 2 pings between them and a pause: all legal",
    expected: { ok: [pong("pongme 1!"), pong("pongme 2!"), text(fragments.join(""))] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: fragments[0], fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: fragments[1], fin: false });
      await s.sendFrame({ opcode: Op.Ping, payload: "pongme 1!" });
      // The first pong must come back before the message is complete.
      await s.waitFor(() => s.events.length > 0, 2000);
      await s.sendFrame({ opcode: Op.Continuation, payload: fragments[2], fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: fragments[3], fin: false });
      await s.sendFrame({ opcode: Op.Ping, payload: "pongme 2!" });
      await s.sendFrame({ opcode: Op.Continuation, payload: fragments[4] });
    },
  });
}

/** Sections 1 to 5. */
export const framingCases = cases;
